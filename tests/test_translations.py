"""Translated editions cannot drift from the English notebooks (tools/translations.py).

On the committed files: every translation is current, the generated notebooks are what
``make translations`` would write, their code cells and outputs are the English ones cell
by cell, and the glossary is followed. On a throw-away copy: changing an English cell
alone makes the check fail and name the cell.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("translations", ROOT / "tools" / "translations.py")
translations = importlib.util.module_from_spec(spec)
sys.modules["translations"] = translations   # dataclasses look their module up there
spec.loader.exec_module(translations)

TRANSLATED = [(lang, nb) for lang in translations.LANGUAGES
              for nb in translations.english_notebooks()
              if translations.translation_path(lang, nb).exists()]


@pytest.mark.parametrize("lang,notebook", TRANSLATED, ids=lambda x: getattr(x, "stem", x))
def test_each_translation_is_current_and_its_notebook_generated(lang, notebook):
    report = translations.compare(lang, notebook)
    assert report.ok, (f"{lang}/{notebook.stem}: missing {report.missing}, stale "
                       f"{report.stale}, orphaned {report.orphaned}; see "
                       f"python tools/translations.py todo {lang} {notebook.stem[:2]}")
    generated = translations.generated_path(lang, notebook)
    assert generated.exists() and generated.read_text(encoding="utf-8") == \
        translations.dumps(translations.build_notebook(lang, notebook)), \
        f"{generated.relative_to(ROOT)} is not current: run make translations"


@pytest.mark.parametrize("lang,notebook", TRANSLATED, ids=lambda x: getattr(x, "stem", x))
def test_code_cells_and_outputs_are_the_english_ones_cell_by_cell(lang, notebook):
    english = json.loads(notebook.read_text())["cells"]
    other = json.loads(translations.generated_path(lang, notebook).read_text())["cells"]
    assert [c["cell_type"] for c in english] == [c["cell_type"] for c in other]
    for en, tr in zip(english, other):
        if en["cell_type"] == "code":
            assert (en["source"], en.get("outputs")) == (tr["source"], tr.get("outputs")), en["id"]
        else:
            assert en["id"] == tr["id"]


@pytest.mark.parametrize("lang", sorted({lang for lang, _ in TRANSLATED}))
def test_the_glossary_is_followed(lang):
    problems = translations.glossary_problems(lang)
    assert not problems, "\n".join(problems[:20])


# --------------------------------------------------------------------- on a throw-away copy

@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    notebooks, i18n = tmp_path / "notebooks", tmp_path / "i18n"
    notebooks.mkdir()
    nb = {"cells": [
        {"cell_type": "markdown", "id": "head", "metadata": {}, "source": ["# 02 · Xception\n",
         "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
         "(https://colab.research.google.com/github/edgelab-curriculum/edgelab/blob/main/notebooks/02_x.ipynb)"]},
        {"cell_type": "code", "id": "code1", "metadata": {}, "execution_count": 1,
         "source": ["print('weight decay')"], "outputs": [{"output_type": "stream", "name": "stdout", "text": ["weight decay\n"]}]},
        {"cell_type": "markdown", "id": "body", "metadata": {}, "source": ["Weight decay is an L2 penalty."]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = notebooks / "02_x.ipynb"
    path.write_text(json.dumps(nb))
    monkeypatch.setattr(translations, "NOTEBOOKS", notebooks)
    monkeypatch.setattr(translations, "I18N", i18n)
    tr = translations.Translation(translations.translation_path("ja", path))
    for cell, text in (("head", "# 02 · Xception\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                                "(https://colab.research.google.com/github/edgelab-curriculum/edgelab/blob/main/notebooks/02_x.ipynb)"),
                       ("body", "重み減衰は L2 ペナルティです。")):
        tr.entries[cell] = translations.Entry(cell, translations.sha(translations.source(
            next(c for c in nb["cells"] if c["id"] == cell))), text)
    tr.write(["head", "code1", "body"])
    (i18n / "ja" / "glossary.tsv").write_text("en\tja\tavoid\tnote\nweight decay\t重み減衰\tウェイトディケイ\t\n")
    return path


def test_a_changed_english_cell_makes_the_check_fail_and_names_it(sandbox, capsys):
    assert translations.cmd_build(type("A", (), {"lang": "ja"})) == 0
    assert translations.cmd_check(type("A", (), {"lang": "ja"})) == 0
    built = json.loads((sandbox.parent / "ja" / "02_x.ipynb").read_text())
    assert "notebooks/ja/02_x.ipynb" in "".join(built["cells"][0]["source"])   # its own badge
    assert built["metadata"]["edgelab"]["language"] == "ja"

    nb = json.loads(sandbox.read_text())
    nb["cells"][2]["source"] = ["Weight decay is an L2 penalty on the kernels only."]
    sandbox.write_text(json.dumps(nb))                 # the English changes, the translation not
    report = translations.compare("ja", sandbox)
    assert report.stale == ["body"] and not report.missing
    assert translations.cmd_check(type("A", (), {"lang": "ja"})) == 1
    assert "stale ['body']" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="todo ja 02"):
        translations.build_notebook("ja", sandbox)

    translations.cmd_todo(type("A", (), {"lang": "ja", "notebook": "02"}))
    todo = capsys.readouterr().out
    assert "re-translate: cell body" in todo and "on the kernels only" in todo
    translations.cmd_stamp(type("A", (), {"lang": "ja", "notebook": "02", "cell": "body"}))
    assert translations.compare("ja", sandbox).ok


def test_a_glossary_term_translated_another_way_is_flagged(sandbox):
    assert translations.glossary_problems("ja") == []
    tr = translations.Translation.read(translations.translation_path("ja", sandbox))
    tr.entries["body"].text = "ウェイトディケイは L2 ペナルティです。"
    tr.write(["head", "body"])
    problems = translations.glossary_problems("ja")
    assert any("'ウェイトディケイ' for 'weight decay'" in p for p in problems)
    assert any("never says '重み減衰'" in p for p in problems)
