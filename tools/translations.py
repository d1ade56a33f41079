"""Translated editions of the notebooks that cannot drift from the English ones.

The English notebooks in ``notebooks/`` are the source. A translation is one Markdown file
per notebook, ``i18n/<lang>/<notebook>.md``, holding the translated text of each Markdown
cell, headed by a marker that names the English cell and the version of it that was
translated::

    <!-- cell a8518b19 | en 3f2a9c0d1b7e -->
    # 02 · Sonnet 2 で作る Xception と Oxford Flower17
    ...

``cell`` is the English cell's id; ``en`` is the first 12 hex digits of the SHA-256 of the
English cell's source at the time of translation. The translated notebook
(``notebooks/<lang>/<notebook>.ipynb``) is *generated*: the English notebook with each
Markdown cell's text replaced by its translation; code cells and their stored outputs are
the English ones, unchanged.

When an English Markdown cell changes and its translation does not, its hash no longer
matches: ``status`` lists it, ``todo`` prints what to re-translate (the old English, the
new English, the current translation), ``build`` refuses to write a stale edition, and a
test fails. ``stamp`` records, after a translator has updated a cell, that it now
translates the current English.

    python tools/translations.py status [LANG]       stale, missing and orphaned cells and blocks
    python tools/translations.py todo LANG [NB]       what to (re-)translate, with the English
    python tools/translations.py todo LANG teaching   the same for the teacher's notes
    python tools/translations.py todo LANG book       the same for the book's pages
    python tools/translations.py build [LANG]         write notebooks/<lang>/*.ipynb, then the
                                                      files generated from them (make docs)
    python tools/translations.py check [LANG]         exit 1 if a generated file is not current
    python tools/translations.py stamp LANG NB CELL   mark CELL's translation as current
    python tools/translations.py stamp LANG teaching/PAGE BLOCK   (a teacher's note's block)
    python tools/translations.py glossary [LANG]      glossary terms translated another way
    python tools/translations.py exercises LANG [NB]  exercise texts: missing/stale, or (with
                                                      --skeleton) a TOML file to translate

``make translations`` runs ``build``; ``tests/test_translations.py`` runs ``check``, the
drift test and the glossary test.

The teacher's notes (``teaching/<lang>/``, written by ``edgelab teach``) and the book's
pages in a language (``book/<lang>/``) are tied to their English the same way:
:mod:`edgelab.workshop.translation` and ``tools/book.py`` say how; ``status`` and ``todo``
cover them too.
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from edgelab.workshop.translation import marked_sections  # noqa: E402  (the checkout's package)
NOTEBOOKS = ROOT / "notebooks"
I18N = ROOT / "i18n"
LANGUAGES = {"ja": "日本語"}
MARKER = re.compile(r"^<!-- cell (?P<cell>[\w-]+) \| en (?P<sha>[0-9a-f]{12}) -->\s*$", re.M)
REPO_URL = "edgelab-curriculum/edgelab/blob/main/"  # in Colab badges and GitHub links


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def english_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def load_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class Entry:
    cell: str
    sha: str
    text: str


@dataclass
class Translation:
    path: Path
    entries: dict[str, Entry] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> "Translation":
        found = cls(path)
        if not path.exists():
            return found
        for m, body in marked_sections(path.read_text(encoding="utf-8"), MARKER):
            found.entries[m.group("cell")] = Entry(m.group("cell"), m.group("sha"), body)
        return found

    def write(self, order: list[str]) -> None:
        parts = []
        for cell in order + [c for c in self.entries if c not in order]:
            if cell in self.entries:
                e = self.entries[cell]
                parts.append(f"<!-- cell {e.cell} | en {e.sha} -->\n{e.text}\n")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("\n".join(parts), encoding="utf-8")


def translation_path(lang: str, notebook: Path) -> Path:
    return I18N / lang / f"{notebook.stem}.md"


def generated_path(lang: str, notebook: Path) -> Path:
    return NOTEBOOKS / lang / notebook.name


@dataclass
class Report:
    notebook: str
    missing: list[str] = field(default_factory=list)   # English cells with no translation
    stale: list[str] = field(default_factory=list)     # translated from another version
    orphaned: list[str] = field(default_factory=list)  # translations of cells that are gone

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.orphaned)


def markdown_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "markdown" and source(c).strip()]


def compare(lang: str, notebook: Path) -> Report:
    nb = load_notebook(notebook)
    tr = Translation.read(translation_path(lang, notebook))
    report = Report(notebook.stem)
    ids = set()
    for cell in markdown_cells(nb):
        ids.add(cell["id"])
        entry = tr.entries.get(cell["id"])
        if entry is None:
            report.missing.append(cell["id"])
        elif entry.sha != sha(source(cell)):
            report.stale.append(cell["id"])
    report.orphaned = [c for c in tr.entries if c not in ids]
    return report


RELATIVE_LINK = re.compile(r"(\]\()(?![A-Za-z][\w+.-]*:|#|/)(?!\d\d_\w+\.ipynb)([^)\s]+\))")


def _localise_links(text: str, lang: str) -> str:
    """Colab badges and links to a notebook point at the translated notebook; a relative
    link to a file of the repository keeps leading to it from ``notebooks/<lang>/``, one
    folder deeper (a link to another lesson, ``NN_name.ipynb``, leads to its translation)."""
    text = re.sub(rf"({re.escape(REPO_URL)}notebooks/)(\d\d_[\w]+\.ipynb)", rf"\g<1>{lang}/\g<2>", text)
    return RELATIVE_LINK.sub(r"\g<1>../\g<2>", text)


def build_notebook(lang: str, notebook: Path) -> dict:
    """The translated notebook: English code cells and outputs, translated Markdown."""
    report = compare(lang, notebook)
    if report.missing or report.stale:
        raise SystemExit(f"{notebook.name}: {lang} translation is not current "
                         f"({len(report.missing)} missing, {len(report.stale)} stale cells); "
                         f"run: python tools/translations.py todo {lang} {notebook.stem[:2]}")
    nb = load_notebook(notebook)
    tr = Translation.read(translation_path(lang, notebook))
    out = copy.deepcopy(nb)
    for cell in out["cells"]:
        if cell["cell_type"] == "markdown" and source(cell).strip():
            text = _localise_links(tr.entries[cell["id"]].text, lang)
            cell["source"] = text.splitlines(keepends=True)
    out["metadata"]["edgelab"] = {"language": lang, "translated_from": f"notebooks/{notebook.name}"}
    return out


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def languages(arg: str | None) -> list[str]:
    if arg is None:
        return [lang for lang in LANGUAGES if (I18N / lang).is_dir()]
    if arg not in LANGUAGES:
        raise SystemExit(f"unknown language {arg!r}; known: {', '.join(LANGUAGES)}")
    return [arg]


def pick(nb_arg: str | None) -> list[Path]:
    books = english_notebooks()
    if nb_arg is None:
        return books
    chosen = [p for p in books if p.stem.startswith(nb_arg.zfill(2)) or p.stem == nb_arg]
    if not chosen:
        raise SystemExit(f"no notebook {nb_arg!r}; use its number, e.g. 02")
    return chosen


# --------------------------------------------------------------------- the glossary

def glossary(lang: str) -> list[dict]:
    """Rows of ``i18n/<lang>/glossary.tsv``: en, <lang>, avoid (comma-separated), note."""
    path = I18N / lang / "glossary.tsv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t"))
    return rows


def glossary_problems(lang: str) -> list[str]:
    """Where a glossary term is translated another way: the English cell (or block, text)
    uses the term and the translation lacks the agreed word, or a translation uses a word
    to avoid. Covers the notebooks, the teacher's notes (hand-written blocks, and the words
    and phrases of the generated ones) and the book's lesson facts."""
    problems = []
    terms = glossary(lang)

    def compare_texts(where: str, en_text: str, text: str) -> None:
        # code spans and links are not prose: leave them out of the comparison
        ja_prose = re.sub(r"`[^`]*`|\]\([^)]*\)", "", text)
        en_prose = re.sub(r"`[^`]*`|\]\([^)]*\)", "", en_text)
        for row in terms:
            term, want = row["en"], row[lang]
            avoid = [a.strip() for a in (row.get("avoid") or "").split(",") if a.strip()]
            says_term = re.search(rf"\b{re.escape(term)}\b", en_prose, re.I)
            # a word to avoid counts where it renders the term: where the English says the
            # term, and not as part of the agreed word (ノート in ノートブック)
            others = ja_prose.replace(want, "\0") if want else ja_prose
            for bad in avoid:
                if says_term and bad in others:
                    problems.append(f"{where}: '{bad}' for '{term}'; the glossary says '{want}'")
            if says_term and want not in text:
                problems.append(f"{where}: the English says '{term}', the translation never "
                                f"says '{want}'")

    for notebook in english_notebooks():
        nb = load_notebook(notebook)
        tr = Translation.read(translation_path(lang, notebook))
        english = {c["id"]: source(c) for c in markdown_cells(nb)}
        for cell, entry in tr.entries.items():
            compare_texts(f"{notebook.stem} cell {cell}", english.get(cell, ""), entry.text)
    for where, en_text, text in _other_texts(lang):
        compare_texts(where, en_text, text)
    return problems


def _other_texts(lang: str) -> list[tuple[str, str, str]]:
    """(where, English, translation) for the teacher's notes and the book's lesson facts,
    where they are current translations (a stale one is reported elsewhere)."""
    out = []
    if NOTEBOOKS != ROOT / "notebooks":       # a test's sandbox: notebooks only
        return out
    sys.path.insert(0, str(ROOT))
    try:
        from edgelab.workshop import translation as tr
    except ImportError:
        return out
    for page, _, translation in tr.page_reports(lang, ROOT):
        english = {p.id: p.text for p in tr.pieces(page.read_text(encoding="utf-8")) if p.kind == "prose"}
        for block, entry in translation.entries.items():
            if block in english and entry.sha == tr.sha(english[block]):
                out.append((f"i18n/{lang}/teaching/{page.name} block {block}", english[block], entry.text))
    data = tr.generated_translations(lang, ROOT)
    for key, entry in data.get("templates", {}).items():
        if key in tr.TEMPLATES and entry.get("en") == tr.sha(tr.TEMPLATES[key]):
            out.append((f"i18n/{lang}/teaching/generated.toml template {key}", tr.TEMPLATES[key],
                        entry.get(lang, "")))
    for english, text in data.get("phrases", {}).items():
        out.append((f"i18n/{lang}/teaching/generated.toml phrase {english!r}", english, text))
    book = _book()
    editions = book.editions()
    edition = next((e for e in editions if e.code == lang), None)
    if edition is not None:
        mine, _ = book.translated_facts(edition, editions[0])
        for stem, fact in editions[0].lessons().items():
            for key in ("build", "needs"):
                if key in fact and mine[stem][key] != fact[key]:
                    out.append((f"book/{lang}/lessons.toml [{stem}] {key}", fact[key], mine[stem][key]))
            for (k, en_what), (_, what) in zip(fact.get("results", []), mine[stem]["results"]):
                if what != en_what:
                    out.append((f"book/{lang}/lessons.toml [{stem}.results] {k}", en_what, what))
    return out


# --------------------------------------------------------------------- commands

def cmd_status(args) -> int:
    bad = 0
    for lang in languages(args.lang):
        for notebook in english_notebooks():
            r = compare(lang, notebook)
            state = "current" if r.ok else (f"{len(r.missing)} missing, {len(r.stale)} stale, "
                                             f"{len(r.orphaned)} orphaned")
            print(f"{lang} {notebook.stem:34s} {state}")
            bad += not r.ok
        bad += _teaching_status(lang)
        bad += _book_status(lang)
    return 1 if bad else 0


def _edgelab(module: str):
    """``edgelab.<module>``, or None (with a line saying so) where edgelab cannot be imported."""
    import importlib

    sys.path.insert(0, str(ROOT))
    try:
        return importlib.import_module(f"edgelab.{module}")
    except ImportError as err:
        print(f"(the teacher's notes need edgelab importable: run `make setup` and use "
              f".venv/bin/python; {err})")
        return None


def _teaching_status(lang: str) -> int:
    tr = _edgelab("workshop.translation")
    if tr is None:
        return 0
    bad = 0
    for page, report, _ in tr.page_reports(lang, ROOT):
        state = "current" if report.ok else (f"{len(report.missing)} missing, {len(report.stale)} "
                                             f"stale, {len(report.orphaned)} orphaned blocks")
        print(f"{lang} teaching/{page.name:25s} {state}")
        bad += not report.ok
    templates = tr.template_problems(lang, ROOT)
    print(f"{lang} teaching: generated words    " + ("current" if not templates else
          f"{len(templates)} template(s) missing or stale"))
    return bad + bool(templates)


def _book_status(lang: str) -> int:
    book = _book()
    problems = book.translation_problems(lang)
    print(f"{lang} book: pages and lesson facts " + ("current" if not problems else
          f"{len(problems)} problem(s)"))
    return bool(problems)


def _book():
    import importlib.util

    spec = importlib.util.spec_from_file_location("edgelab_tools_book", ROOT / "tools" / "book.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def cmd_todo(args) -> int:
    if args.notebook == "teaching":
        return _teaching_todo(args.lang)
    if args.notebook == "book":
        return _book().print_todo(args.lang)
    for notebook in pick(args.notebook):
        r = compare(args.lang, notebook)
        if r.ok:
            continue
        nb = load_notebook(notebook)
        cells = {c["id"]: c for c in nb["cells"]}
        tr = Translation.read(translation_path(args.lang, notebook))
        print(f"# {notebook.stem}: {len(r.missing)} to translate, {len(r.stale)} to re-translate, "
              f"{len(r.orphaned)} orphaned\n")
        for cell in r.missing + r.stale:
            what = "translate" if cell in r.missing else "re-translate"
            print(f"## {what}: cell {cell} (en {sha(source(cells[cell]))})\n")
            if cell in r.stale:
                old = _english_at(notebook, tr.entries[cell].sha, cell)
                if old is not None:
                    print("### the English this translation was made from\n")
                    print(old + "\n")
                print("### the current translation\n")
                print(tr.entries[cell].text + "\n")
            print("### the English now\n")
            print(source(cells[cell]) + "\n")
        for cell in r.orphaned:
            print(f"## orphaned: cell {cell} is no longer in the English notebook; delete its block\n")
    return 0


def _teaching_todo(lang: str) -> int:
    """What to (re-)translate in the teacher's notes: blocks in the marker format, with the
    English now (and, for a stale one, the English it was made from and the translation),
    then the templates and phrases of the generated blocks."""
    tr = _edgelab("workshop.translation")
    notes = _edgelab("workshop.notes")
    if tr is None or notes is None:
        return 1
    for page, report, translation in tr.page_reports(lang, ROOT):
        if report.ok:
            continue
        blocks = {p.id: p.text for p in tr.pieces(page.read_text(encoding="utf-8")) if p.kind == "prose"}
        print(f"# teaching/{page.name} -> i18n/{lang}/teaching/{page.name}: {len(report.missing)} to "
              f"translate, {len(report.stale)} to re-translate, {len(report.orphaned)} orphaned\n")
        for block in report.missing + report.stale:
            print(f"## {'translate' if block in report.missing else 're-translate'}: block {block}\n")
            if block in report.stale:
                old = tr.english_at(page, block, translation.entries[block].sha, ROOT)
                if old is not None:
                    print("### the English this translation was made from\n\n" + old + "\n")
                print("### the current translation\n\n" + translation.entries[block].text + "\n")
            print("### the English now, with its marker\n")
            print(f"<!-- block {block} | en {tr.sha(blocks[block])} -->\n{blocks[block]}\n")
        for block in report.orphaned:
            print(f"## orphaned: block {block} is no longer in teaching/{page.name}; delete it\n")
    templates = tr.template_problems(lang, ROOT)
    if templates:
        print(f"# i18n/{lang}/teaching/generated.toml: {len(templates)} template(s) to (re-)translate "
              "(replace the English in `ja`, keep every {field})\n")
        print(tr.template_skeleton([key for key, _ in templates]))
    phrases = [p for p in notes.translation_problems(lang) if "phrase not translated" in p]
    if phrases:
        print(f"# i18n/{lang}/teaching/generated.toml [phrases]: add a line per phrase\n")
        for p in phrases:
            print(p.split("phrase not translated: ", 1)[1] + " = ...")
    return 0


def _english_at(notebook: Path, want: str, cell: str) -> str | None:
    """The English text of ``cell`` whose hash was ``want``, from git history, if found."""
    import subprocess

    try:
        rel = notebook.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return None          # not a file of this repository: no history to look in
    log = subprocess.run(["git", "-C", str(ROOT), "log", "--format=%H", "--", rel],
                         capture_output=True, text=True)
    for commit in log.stdout.split()[:200]:
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{rel}"],
                               capture_output=True, text=True)
        if shown.returncode:
            continue
        try:
            nb = json.loads(shown.stdout)
        except ValueError:
            continue
        for c in nb.get("cells", []):
            if c.get("id") == cell and sha(source(c)) == want:
                return source(c)
    return None


def cmd_build(args) -> int:
    for lang in languages(args.lang):
        for notebook in english_notebooks():
            if not translation_path(lang, notebook).exists():
                print(f"{lang} {notebook.stem}: no translation yet, not built")
                continue
            out = generated_path(lang, notebook)
            out.parent.mkdir(parents=True, exist_ok=True)
            text = dumps(build_notebook(lang, notebook))
            changed = not out.exists() or out.read_text(encoding="utf-8") != text
            if changed:
                out.write_text(text, encoding="utf-8")
            print(f"{lang} {notebook.stem}: {'written' if changed else 'already current'}")
    return regenerate_dependents()


def regenerate_dependents() -> int:
    """What is generated from the translated notebooks too (which lessons exist in a
    language, their titles, objectives and section titles): the README's and the book's
    lesson tables (``tools/book.py blocks``) and the teacher's notes (``edgelab teach``),
    i.e. ``make docs``. Needs edgelab importable; says so otherwise."""
    import subprocess

    probe = subprocess.run([sys.executable, "-c", "import edgelab.workshop.notes"], cwd=ROOT,
                           capture_output=True, text=True)
    if probe.returncode:
        print("now run `make docs` (README.ja.md, the book's tables and teaching/<lang>/ show "
              "which lessons are translated); this Python cannot import edgelab")
        return 0
    for cmd in ([sys.executable, "tools/book.py", "blocks"], [sys.executable, "-m", "edgelab", "teach"]):
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        out = (proc.stdout + proc.stderr).strip().splitlines()
        print(f"{' '.join(cmd[1:])}: " + (out[0] if out else "done"))
        if proc.returncode:
            print("\n".join(out[1:]), file=sys.stderr)
            return proc.returncode
    return 0


def cmd_check(args) -> int:
    problems = []
    for lang in languages(args.lang):
        for notebook in english_notebooks():
            if not translation_path(lang, notebook).exists():
                continue
            r = compare(lang, notebook)
            if not r.ok:
                problems.append(f"{lang}/{notebook.stem}: missing {r.missing}, stale {r.stale}, "
                                f"orphaned {r.orphaned}")
                continue
            out = generated_path(lang, notebook)
            if not out.exists() or out.read_text(encoding="utf-8") != dumps(build_notebook(lang, notebook)):
                problems.append(f"{out.relative_to(ROOT)} is not current: run make translations")
    for p in problems:
        print(p)
    return 1 if problems else 0


def cmd_stamp(args) -> int:
    if args.notebook.startswith("teaching/"):
        tr = _edgelab("workshop.translation")
        if tr is None:
            return 1
        print(tr.stamp(args.lang, ROOT, args.notebook.split("/", 1)[1], args.cell))
        return 0
    notebook = pick(args.notebook)[0]
    nb = load_notebook(notebook)
    cells = {c["id"]: c for c in nb["cells"]}
    if args.cell not in cells:
        raise SystemExit(f"{notebook.stem} has no cell {args.cell}")
    tr = Translation.read(translation_path(args.lang, notebook))
    if args.cell not in tr.entries:
        raise SystemExit(f"{args.cell} has no translation to stamp")
    tr.entries[args.cell].sha = sha(source(cells[args.cell]))
    tr.write([c["id"] for c in nb["cells"]])
    print(f"{args.lang}/{notebook.stem} cell {args.cell}: marked as translating the current English")
    return 0


def cmd_glossary(args) -> int:
    problems = [p for lang in languages(args.lang) for p in glossary_problems(lang)]
    for p in problems:
        print(p)
    return 1 if problems else 0


def cmd_exercises(args) -> int:
    sys.path.insert(0, str(ROOT))
    from edgelab.exercises import core, translations as ex_tr

    numbers = [args.notebook.zfill(2)] if args.notebook else core.notebooks()
    sets = [core.exercise_set(n, record=False) for n in numbers]
    if args.skeleton:
        for s in sets:
            print(ex_tr.skeleton(s))
        return 0
    problems = ex_tr.problems(args.lang, sets)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s) in the {args.lang} exercise texts of notebooks {', '.join(numbers)}")
    return 1 if problems else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="tools/translations.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("status", "build", "check", "glossary"):
        p = sub.add_parser(name)
        p.add_argument("lang", nargs="?")
    p = sub.add_parser("todo")
    p.add_argument("lang")
    p.add_argument("notebook", nargs="?")
    p = sub.add_parser("stamp")
    p.add_argument("lang")
    p.add_argument("notebook")
    p.add_argument("cell")
    p = sub.add_parser("exercises")
    p.add_argument("lang")
    p.add_argument("notebook", nargs="?")
    p.add_argument("--skeleton", action="store_true")
    args = parser.parse_args(argv)
    return {"exercises": cmd_exercises, "status": cmd_status, "todo": cmd_todo, "build": cmd_build, "check": cmd_check,
            "stamp": cmd_stamp, "glossary": cmd_glossary}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
