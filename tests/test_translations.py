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


@pytest.mark.parametrize("lang", [lang for lang in translations.LANGUAGES
                                  if (translations.I18N / lang).is_dir()])
def test_the_glossary_is_followed(lang):
    """In the notebooks, the teacher's notes and the book's lesson facts."""
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


# --------------------------------------------------------------------- exercise texts

def _exercise_translations():
    from edgelab.exercises import translations as ex_tr

    return [(p.parent.name, p.stem[2:]) for p in sorted(ex_tr.FOLDER.glob("*/nb*.toml"))]


@pytest.mark.parametrize("lang,notebook", _exercise_translations())
def test_exercise_texts_are_translated_and_current(lang, notebook):
    from edgelab.exercises import core, translations as ex_tr

    problems = ex_tr.problems(lang, [core.exercise_set(notebook, record=False)])
    assert not problems, "\n".join(problems) + \
        f"\n(python tools/translations.py exercises {lang} {notebook} --skeleton gives the English)"


def test_the_skeleton_round_trips_through_toml():
    import tomllib

    from edgelab.exercises import core, translations as ex_tr

    for number in core.notebooks():
        ex_set = core.exercise_set(number, record=False)
        table = tomllib.loads(ex_tr.skeleton(ex_set))
        for ex in ex_set:
            entry = table[f"{number}.{ex.number}"]
            for field in ("title", "hint", "explanation"):
                assert ex_tr.sha(entry[field]) == entry[f"{field}_en"] == ex_tr.sha(getattr(type(ex), field))


# --------------------------------------------------------------------- the teacher's notes

def test_the_teachers_notes_translations_are_current():
    """Every hand-written block of teaching/*.md, every template of the generated blocks and
    every phrase they use has a translation of the English as it is now."""
    from edgelab.workshop import notes

    problems = notes.translation_problems("ja")
    assert not problems, "\n".join(problems) + "\n(python tools/translations.py todo ja teaching)"


@pytest.fixture
def notes_sandbox(tmp_path, monkeypatch):
    """A checkout's worth of one English page of notes and its Japanese translation."""
    from edgelab.workshop import translation as T

    english = tmp_path / "teaching" / "09_demo.md"
    english.parent.mkdir()
    english.write_text(
        "<!-- teach:header:begin (generated by `edgelab teach`; do not edit) -->\n# Notes\n"
        "<!-- teach:header:end -->\n\n## Discussion questions\n\n"
        "1. Why does weight decay differ from L2 under Adam?\n"
        "2. What does the staircase schedule change?\n")
    tr = T.ProseTranslation(tmp_path / "i18n" / "ja" / "teaching" / "09_demo.md")
    ja = {"discussion-questions": "## ディスカッションの問い",
          "discussion-questions.1": "1. Adam では重み減衰と L2 がなぜ異なるのでしょうか。",
          "discussion-questions.2": "2. 階段状のスケジュールで何が変わるでしょうか。"}
    for p in T.pieces(english.read_text()):
        if p.kind == "prose":
            tr.entries[p.id] = T.Entry(p.id, T.sha(p.text), ja[p.id])
    tr.write()
    return tmp_path, english


def test_a_changed_english_block_of_the_notes_is_named_and_shown_in_english(notes_sandbox, capsys):
    from edgelab.workshop import translation as T

    root, english = notes_sandbox
    tr = T.ProseTranslation.read(T.i18n_dir("ja", root) / english.name)
    page, report = T.translate_page(english.read_text(), tr, {"header": "# ノート"})
    assert report.ok and "2. 階段状のスケジュール" in page and page.startswith("# ノート")

    english.write_text(english.read_text().replace("the staircase schedule", "a cosine schedule"))
    page, report = T.translate_page(english.read_text(), tr, {"header": "# ノート"})
    assert report.stale == ["discussion-questions.2"] and not report.missing
    assert "2. What does a cosine schedule change?" in page        # the English, not stale Japanese
    assert "1. Adam では" in page                                   # the others stay translated
    # a block inserted before the others: only it is missing; the rest are found by hash
    english.write_text(english.read_text().replace("## Discussion questions\n\n",
                                                   "## Discussion questions\n\nThree questions.\n\n"))
    found, report = T.match(english.read_text(), tr)
    assert found["discussion-questions.2"].text.startswith("1. Adam では")   # moved, found by hash
    assert report.missing + report.stale == ["discussion-questions.1", "discussion-questions.3"]
    # the translator updates it and stamps it; the page is current again
    tr.entries["discussion-questions.2"].text = "2. コサインスケジュールで何が変わるでしょうか。"
    tr.write()
    english.write_text(english.read_text().replace("Three questions.\n\n", ""))
    T.stamp("ja", root, "09_demo", "discussion-questions.2")
    tr = T.ProseTranslation.read(T.i18n_dir("ja", root) / english.name)
    assert T.match(english.read_text(), tr)[1].ok


def test_a_changed_template_of_the_generated_blocks_is_stale(monkeypatch):
    from edgelab.workshop import translation as T

    t = T.Texts("ja")
    assert t("where_class") != T.TEMPLATES["where_class"] and not t.problems
    monkeypatch.setitem(T.TEMPLATES, "where_class", "during the class")
    t = T.Texts("ja")
    assert t("where_class") == "during the class"
    assert t.problems == {"template where_class: stale (the English changed)"}
    assert "where_class" in dict(T.template_problems("ja", translations.ROOT))
    assert t.phrase("a phrase nobody translated") == "a phrase nobody translated"
    assert "phrase not translated: 'a phrase nobody translated'" in t.problems


def test_todo_and_status_cover_the_teachers_notes(capsys):
    assert translations.main(["todo", "ja", "teaching"]) == 0
    assert translations.main(["status", "ja"]) in (0, 1)
    out = capsys.readouterr().out
    assert "ja teaching/README.md" in out and "ja teaching: generated words" in out
    assert "ja book: pages and lesson facts" in out


def test_translated_notebooks_keep_their_relative_links():
    """notebooks/<lang>/ lies one folder deeper: a link to a repository file is rebased, a
    link to another lesson leads to its translation, web links and anchors stay."""
    text = ("[t](../tests/test_x.py) [n](02_x.ipynb) [w](https://example.org/a) [h](#Top) "
            "![i](images/a.png)")
    assert translations._localise_links(text, "ja") == (
        "[t](../../tests/test_x.py) [n](02_x.ipynb) [w](https://example.org/a) [h](#Top) "
        "![i](../images/a.png)")
