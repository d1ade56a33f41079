"""The book's sources (tools/book.py, book/): what needs no Sphinx and no browser.

The generated tables are current, every lesson has its facts, the README is the front door
into the book, and solutions are cut into one block per exercise. The built site itself is
tested in a browser by ``test_book_browser.py``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from edgelab.core import project, results

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("edgelab_tools_book", ROOT / "tools" / "book.py")
book = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = book          # dataclasses look their module up by name
_spec.loader.exec_module(book)


def test_generated_tables_are_current():
    """README's lesson table, the landing page's tables, the results page and the command
    reference equal what `make docs` would write now."""
    stale = book.update_blocks(check=True)
    assert stale == [], f"stale: {[str(p.relative_to(ROOT)) for p in stale]}; run `make docs`"


def test_every_lesson_has_its_facts_and_its_figures_are_recorded():
    english = book.editions()[0]
    facts = english.lessons()
    stems = [p.stem for p in english.notebook_paths()]
    assert len(stems) >= 8
    assert sorted(facts) == sorted(stems), "book/en/lessons.toml and notebooks/ disagree"
    recorded = {row["key"] for row in results.load(book.RESULTS)}
    for stem in stems:
        assert facts[stem].get("build") and facts[stem].get("needs"), stem
        assert set(facts[stem].get("uses", [])) <= set(stems), stem
        for key, what in facts[stem].get("results", []):
            assert key in recorded, f"{stem}: {key} is not in benchmarks/results.jsonl"


def test_every_lesson_gets_its_colab_link_and_time():
    english = book.editions()[0]
    facts = book.book_facts(english, [english], book.newest(book.recorded_rows()),
                            solutions_of=lambda stem, lang: [])
    assert sorted(facts["lessons"]) == sorted(f"notebooks/{p.stem}" for p in english.notebook_paths())
    for docname, lesson in facts["lessons"].items():
        assert lesson["repo_path"] == f"{docname}.ipynb"
        assert lesson["colab_url"] == project.colab_url(f"{docname}.ipynb")
        assert lesson["time"].startswith("Time, as recorded:"), lesson["time"]
    assert "notebooks/01_mnist_distribute" in facts["editions"][0]["pages"]
    assert "teaching/index" in facts["editions"][0]["pages"]


def test_the_readme_is_the_front_door():
    """What edgelab is, the two commands, the lessons with badges, links into the book that
    lead to pages the book has, and how to build it."""
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^make curriculum\s+#", readme, re.M) and re.search(r"^make test\s+#", readme, re.M)
    assert re.search(r"^make book\s+#", readme, re.M)
    english = book.editions()[0]
    for path in english.notebook_paths():
        assert project.colab_url(f"notebooks/{path.name}") in readme, path.name
        assert project.book_url(f"notebooks/{path.stem}.html") in readme, path.stem
    pages = book.docnames(book.source_map(english))
    linked = re.findall(re.escape(project.book_url()) + r"([^)#\s>]*)", readme)
    assert len(linked) >= 8 + 5
    for target in linked:
        if target:
            assert target.endswith(".html") and target[:-5] in pages, f"README links {target}"
    assert len(readme.splitlines()) < 120, "the README is a front door; long sections go to book/en/"
    assert "book.yml" in readme and "untested" in readme


def test_pages_and_readme_name_no_path_outside_the_repository():
    for path in [ROOT / "README.md", *sorted((ROOT / "book").rglob("*.md"))]:
        text = path.read_text()
        assert "../shared" not in text and "/work/" not in text, path


def test_solutions_are_cut_into_one_block_per_exercise():
    text = "## Exercise 1\n\nUse `x`.\n\n```python\nx = 1\n```\n\n## Exercise 2: harder\n\nDone.\n"
    assert book.split_solutions(text) == [
        {"title": "Exercise 1", "markdown": "Use `x`.\n\n```python\nx = 1\n```"},
        {"title": "Exercise 2: harder", "markdown": "Done."}]
    assert book.split_solutions("just text") == [{"title": "Solutions", "markdown": "just text"}]
    assert book.split_solutions("  \n") == []


def test_the_teaching_index_lists_the_timetable_first(tmp_path):
    english = book.editions()[0]
    notes = [tmp_path / "03_gradcam.md", tmp_path / "timetable.md", tmp_path / "01_mnist.md"]
    text = book.teaching_index(english, notes)
    assert text.index("timetable") < text.index("01_mnist") < text.index("03_gradcam")
    assert "being written" in book.teaching_index(english, [])


def test_durations_read_as_a_person_says_them():
    assert [book.duration(m) for m in (0.13, 1.04, 8.3, 95)] == ["8 s", "1.0 min", "8.3 min", "1.6 h"]


def test_a_second_edition_inherits_the_words_it_does_not_translate(tmp_path):
    config = tmp_path / "editions.toml"
    config.write_text((ROOT / "book" / "editions.toml").read_text().split("\n[ja]", 1)[0]
                      + '\n[ja]\nlabel = "日本語"\npages = "book/ja"\nnotebooks = "notebooks/ja/*.ipynb"\n'
                        'teaching = "teaching/ja/*.md"\nsite = "ja/"\n[ja.labels]\ncolab = "Colab で開く"\n')
    en, ja = book.editions(config)
    assert ja.labels["colab"] == "Colab で開く" and ja.labels["download"] == en.labels["download"]
    assert json.loads(json.dumps(ja.labels))        # plain data for _book.json


def test_the_pages_workflow_builds_what_make_book_builds():
    import yaml

    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    steps = flow["jobs"]["build"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "tools/install.sh" in runs and "--extras book" in runs
    assert "tools/book.py build" in runs
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "build/book" == book.OUT.relative_to(ROOT).as_posix()
    assert flow["jobs"]["deploy"]["needs"] == "build"
    assert flow["permissions"]["pages"] == "write" and flow["permissions"]["id-token"] == "write"
    assert "book:" in (ROOT / "Makefile").read_text() and "tools/book.py build" in (ROOT / "Makefile").read_text()


def test_solutions_come_from_the_exercise_api(monkeypatch):
    """A lesson with exercises gets one block per exercise, from
    edgelab.exercises.solutions_markdown; one without gets none."""
    import types

    from edgelab.exercises import Exercise, Mistake

    module = types.ModuleType("edgelab.exercises.nb06")

    class Kernel(Exercise):
        """Pick the kernel."""
        number = 1
        title = "A wider kernel"
        answers = ("k",)
        where = "class"
        minutes = 5
        starter = "k = ____\n"
        hint = "Wider than the strokes."
        solution = "k = 7\n"
        explanation = "Strokes are 5 px wide."
        messages = {"passed": "right", "narrow": "{got} is narrower than the strokes"}
        mistakes = [Mistake("k = 3\n", "narrow")]

        def verify(self, k):
            return self.passed("passed") if k > 5 else self.wrong("narrow", got=k)

    Kernel.__module__ = module.__name__
    module.Kernel = Kernel
    monkeypatch.setitem(sys.modules, module.__name__, module)
    blocks = book.solutions("06_lineart_extraction")
    assert [b["title"] for b in blocks] == ["Exercise 1: A wider kernel"]
    assert "```python\nk = 7\n```" in blocks[0]["markdown"] and "Wider than" in blocks[0]["markdown"]
    if "07" not in __import__("edgelab.exercises", fromlist=["notebooks"]).notebooks():
        assert book.solutions("07_edge_quantization") == []


# ------------------------------------------------------------------ the Japanese edition
def test_the_japanese_edition_has_every_word_of_its_own():
    """Every word the book adds to a page is translated (none inherited from English), and
    the edition lands in ja/ with its own pages, notebooks, teacher's notes and README."""
    en, ja = book.editions()[:2]
    assert (ja.code, ja.site, ja.readme, ja.pages) == ("ja", "ja/", "README.ja.md", "book/ja")
    own = tomllib_labels("ja")
    assert sorted(own) == sorted(tomllib_labels("en")), "labels of [ja] and [en] differ"
    for key, text in own.items():
        fields = set(re.findall(r"{(\w+)}", en.labels[key]))
        assert set(re.findall(r"{(\w+)}", text)) == fields, key
    assert (ROOT / "book" / "ja" / "index.md").is_file() and ja.teaching_paths()
    assert {p.name for p in ja.teaching_paths()} == {p.name for p in en.teaching_paths()}


def tomllib_labels(code: str) -> dict:
    import tomllib

    return tomllib.loads((ROOT / "book" / "editions.toml").read_text())[code]["labels"]


def test_the_japanese_pages_and_facts_translate_the_english_as_it_is():
    problems = book.translation_problems("ja")
    assert problems == [], "\n".join(problems) + "\n(python tools/translations.py todo ja book)"


def test_a_changed_english_page_or_fact_makes_its_translation_stale(tmp_path, monkeypatch, capsys):
    """On a copy: an English landing page and a lesson fact change, their translations do
    not; both are named, and the tables show the current English meanwhile."""
    pages = {}
    for code in ("en", "ja"):
        pages[code] = tmp_path / "book" / code
        pages[code].mkdir(parents=True)
    english = "# Home\n\nWelcome.\n\n<!-- lessons:begin (generated) -->\n| a |\n<!-- lessons:end -->\n"
    (pages["en"] / "index.md").write_text(english)
    (pages["en"] / "lessons.toml").write_text('[01_a]\nbuild = "a CNN"\nneeds = "a CPU"\n'
                                              'results = [["a.acc", "accuracy"]]\n')
    (pages["ja"] / "index.md").write_text(
        f"<!-- translation of {pages['en'] / 'index.md'} | en {book.prose_sha(english)} -->\n# ホーム\n")
    (pages["ja"] / "lessons.toml").write_text(
        f'[01_a]\nbuild = {{ text = "CNN", en = "{book.text_sha("a CNN")}" }}\n'
        f'needs = {{ text = "CPU", en = "{book.text_sha("a CPU")}" }}\n'
        f'[01_a.results]\n"a.acc" = {{ text = "精度", en = "{book.text_sha("accuracy")}" }}\n')
    config = tmp_path / "editions.toml"
    config.write_text(
        f'[en]\nlabel = "English"\npages = "{pages["en"]}"\nnotebooks = "{tmp_path}/nb/*.ipynb"\n'
        f'teaching = "{tmp_path}/t/*.md"\nsite = ""\n[en.labels]\n'
        f'[ja]\nlabel = "日本語"\npages = "{pages["ja"]}"\nnotebooks = "{tmp_path}/nb/ja/*.ipynb"\n'
        f'teaching = "{tmp_path}/t/ja/*.md"\nsite = "ja/"\n[ja.labels]\n')
    real = book.editions
    monkeypatch.setattr(book, "editions", lambda config_=None: real(config))
    assert book.translation_problems("ja") == []
    en, ja = book.editions()
    assert book.translated_facts(ja, en)[0]["01_a"]["results"] == [["a.acc", "精度"]]

    (pages["en"] / "index.md").write_text(english.replace("| a |", "| b |"))     # a table: no
    assert book.translation_problems("ja") == []
    (pages["en"] / "index.md").write_text(english.replace("Welcome.", "Welcome, learner."))
    (pages["en"] / "lessons.toml").write_text('[01_a]\nbuild = "a CNN"\nneeds = "a CPU"\n'
                                              'results = [["a.acc", "test accuracy"]]\n')
    problems = book.translation_problems("ja")
    assert any("index.md: translates an older" in p for p in problems), problems
    assert any('[01_a.results] "a.acc" translates an older English' in p for p in problems), problems
    assert book.translated_facts(ja, en)[0]["01_a"]["results"] == [["a.acc", "test accuracy"]]
    assert book.translated_facts(ja, en)[0]["01_a"]["build"] == "CNN"


def test_readme_ja_is_the_japanese_front_door():
    """The two commands, every lesson with a Colab badge (its Japanese notebook once it is
    translated, else the English one, marked), the Japanese book; README.md links it."""
    readme = (ROOT / "README.ja.md").read_text()
    assert re.search(r"^make curriculum\s+#", readme, re.M) and re.search(r"^make test\s+#", readme, re.M)
    assert project.book_url("ja/") in readme
    en, ja = book.editions()[:2]
    translated = {p.stem for p in ja.notebook_paths()}
    for path in en.notebook_paths():
        if path.stem in translated:
            assert project.colab_url(f"notebooks/ja/{path.name}") in readme, path.name
            assert project.book_url(f"ja/notebooks/{path.stem}.html") in readme, path.stem
        else:
            assert project.colab_url(f"notebooks/{path.name}") in readme, path.name
            row = next(line for line in readme.splitlines() if line.startswith(f"| {path.stem[:2]} |"))
            assert ja.labels["untranslated"] in row, row
    assert "](README.ja.md)" in (ROOT / "README.md").read_text()
    assert "](README.md)" in readme


def test_the_japanese_landing_page_says_what_is_english_only():
    """It names the English-only pages and links them (in the English edition), the teacher's
    notes, and the source posts under their Japanese titles."""
    text = (ROOT / "book" / "ja" / "index.md").read_text()
    for page in ("running", "setup", "commands", "results", "contributing"):
        assert f"](../en/{page}.md" in text, page
    assert "英語" in text and "```{teaching-notes}" in text
    for title in ("今更Sonnetを触ってみる(2)", "PythonとKerasによるディープラーニング",
                  "着彩済イラストから綺麗に線画を抽出する方法", "AutoML Vision Edgeが作るニューラルネットワーク"):
        assert f"「{title}」" in text or f"「[{title}](" in text, title
