"""Which language a notebook is read in (edgelab.core.language), and the runner passing it on."""

from __future__ import annotations

import json

from edgelab.core import language


def _notebook(path, lang=None):
    meta = {"edgelab": {"language": lang}} if lang else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [], "metadata": meta}))
    return path


def test_the_variable_wins_and_a_bad_value_falls_back_to_english_with_the_reason():
    assert language.detect({"EDGELAB_LANG": "ja"}) == ("ja", "EDGELAB_LANG=ja")
    lang, how = language.detect({"EDGELAB_LANG": "fr"})
    assert lang == "en" and "not one of en, ja" in how


def test_jupyter_sessions_name_the_notebook_by_folder_or_metadata(tmp_path):
    in_folder = _notebook(tmp_path / "notebooks" / "ja" / "02_x.ipynb")
    assert language.detect({"JPY_SESSION_NAME": str(in_folder)})[0] == "ja"
    by_meta = _notebook(tmp_path / "elsewhere" / "02_x.ipynb", "ja")
    assert language.detect({"JPY_SESSION_NAME": str(by_meta)})[0] == "ja"
    english = _notebook(tmp_path / "notebooks" / "02_x.ipynb")
    assert language.detect({"JPY_SESSION_NAME": str(english)}) == ("en", "default")
    assert language.detect({"JPY_SESSION_NAME": str(tmp_path / "gone.ipynb")})[0] == "en"


def test_nothing_said_means_english():
    assert language.detect({}) == ("en", "default")


def test_use_sets_the_language_and_refuses_unknown_ones():
    before = language.current()
    try:
        language.use("ja")
        assert language.current() == "ja"
        try:
            language.use("xx")
        except ValueError as err:
            assert "en, ja" in str(err)
        else:
            raise AssertionError("xx was accepted")
    finally:
        language.use(before)
