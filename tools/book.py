#!/usr/bin/env python3
"""The edgelab book: a static site of the lessons, built from the committed notebooks.

    python tools/book.py build [--out build/book] [--lenient] [--clean]    (make book)
    python tools/book.py blocks [--check]                                  (make docs)

``build`` renders every edition of the book (``book/editions.toml``; one per language)
with Sphinx, myst-nb and sphinx-book-theme, offline: the notebooks with the outputs they
are committed with (nothing is executed), the edition's pages (``book/<code>/``), the
teacher's notes (``teaching/``) and each lesson's exercise solutions. Sphinx's warnings
fail the build unless ``--lenient``. For each edition it first stages the sources in
``build/book-src/<code>/`` (the repository's layout: ``notebooks/``, ``teaching/``, the
pages at the top) and writes ``_book.json`` there: what ``book/_ext/edgelab_book.py``
adds to each lesson page (the Colab and download links, the recorded time, the
solutions) and the editions the language switch links.

``blocks`` regenerates the tables that are generated, never typed: the lesson table in
``README.md`` and on the book's landing page (from ``book/<code>/lessons.toml``, the
notebooks' titles and the recorded runs), the results tables (``benchmarks/results.jsonl``)
and the command reference (the ``edgelab`` parsers). ``--check`` only lists stale files.

**Editions in other languages** (``book/editions.toml``) list every lesson: a lesson whose
notebook is translated (``notebooks/<code>/``) links its page in the edition, one that is
not yet links the English page and says so. Their words are tied to the English they
translate, so that they cannot drift unnoticed: ``book/<code>/lessons.toml`` holds each
translated fact with the hash of its English (``{ text = "...", en = "<hash>" }``; a fact
whose English changed shows the English until re-translated), and a translated page starts
with ``<!-- translation of book/en/<page> | en <hash> -->``, the hash of the English page's
hand-written text (its generated tables left out). :func:`translation_problems` lists what
is stale; ``python tools/translations.py todo <code> book`` shows what changed in the
English since (from git history), and ``tests/test_book.py`` fails naming each.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
OUT = ROOT / "build" / "book"
RESULTS = ROOT / "benchmarks" / "results.jsonl"
TITLE_RE = re.compile(r"^#\s+(?:(?P<number>\d+)\s*·\s*)?(?P<title>.+?)\s*$", re.M)
PROFILE_ORDER = {"quick": 0, "full": 1}


# ----------------------------------------------------------------------------- editions
@dataclass
class Edition:
    code: str
    label: str
    pages: str
    notebooks: str
    teaching: str
    site: str
    readme: str = ""
    labels: dict = field(default_factory=dict)

    @property
    def pages_dir(self) -> Path:
        return ROOT / self.pages          # an absolute path stays as it is (tests)

    def notebook_paths(self) -> list[Path]:
        return sorted(Path(p) for p in glob.glob(str(ROOT / self.notebooks)))

    def teaching_paths(self) -> list[Path]:
        return sorted(Path(p) for p in glob.glob(str(ROOT / self.teaching)))

    def lessons(self) -> dict[str, dict]:
        """``lessons.toml`` of this edition: what each lesson builds and needs."""
        path = self.pages_dir / "lessons.toml"
        return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def text(self, key: str, **values) -> str:
        return self.labels[key].format(**values)

    def duration(self, minutes: float) -> str:
        """:func:`duration` in this edition's units (the same number)."""
        value, unit = duration(minutes).split(" ")
        return self.text(f"unit_{unit}", n=value) if f"unit_{unit}" in self.labels else \
            f"{value} {unit}"


@dataclass
class Lesson:
    """A lesson as an edition shows it: its own notebook where translated, else the English."""

    stem: str
    path: Path                 # the notebook the edition shows or links
    translated: bool           # the edition has its own notebook of it
    title: str


def lesson_list(edition: Edition, english: Edition) -> list[Lesson]:
    """Every lesson of the English edition, as ``edition`` shows it."""
    own = {p.stem: p for p in edition.notebook_paths()}
    out = []
    for path in english.notebook_paths():
        mine = own.get(path.stem)
        out.append(Lesson(path.stem, mine or path, mine is not None, notebook_title(mine or path)))
    return out


def translated_facts(edition: Edition, english: Edition) -> tuple[dict[str, dict], list[str]]:
    """What each lesson builds and needs, and its results' descriptions, in ``edition``'s
    language: a translated text where its ``en`` hash is the English's now, else the
    English (and a problem naming it). ``uses`` and the results' keys are the English ones."""
    facts = english.lessons()
    if edition.code == english.code:
        return facts, []
    path = edition.pages_dir / "lessons.toml"
    mine = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    where = repo_path(path)
    out, problems = {}, []

    def pick(entry, english_text: str, name: str) -> str:
        if not isinstance(entry, dict) or "text" not in entry:
            problems.append(f"{where}: {name} is not translated")
            return english_text
        if entry.get("en") != text_sha(english_text):
            problems.append(f"{where}: {name} translates an older English (stale; the English "
                            f"now: {english_text!r}, hash {text_sha(english_text)})")
            return english_text
        return entry["text"]

    for stem, fact in facts.items():
        own = mine.get(stem, {})
        merged = dict(fact)
        for key in ("build", "needs"):
            if key in fact:
                merged[key] = pick(own.get(key), fact[key], f"[{stem}] {key}")
        merged["results"] = [[key, pick(own.get("results", {}).get(key), what,
                                        f"[{stem}.results] \"{key}\"")]
                             for key, what in fact.get("results", [])]
        out[stem] = merged
    problems += [f"{where}: [{stem}] is not a lesson any more (delete it)"
                 for stem in mine if stem not in facts]
    return out, problems


def text_sha(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:12]


GENERATED_BLOCK = re.compile(r"<!-- ([\w-]+):begin.*?<!-- \1:end -->", re.S)
TRANSLATION_MARK = re.compile(r"<!-- translation of (?P<page>\S+) \| en (?P<sha>[0-9a-f]{12}) -->")


def prose_sha(text: str) -> str:
    """The hash of a page's hand-written text: its generated blocks left out, so that a
    regenerated table does not make its translations stale."""
    return text_sha(GENERATED_BLOCK.sub("", text))


def page_translations(edition: Edition) -> list[tuple[Path, Path, str]]:
    """(translated page, the English page it translates, the hash it records) for each page
    of ``edition`` (and its README) that says it translates one."""
    out = []
    readme = [ROOT / edition.readme] if edition.readme and (ROOT / edition.readme).is_file() else []
    for page in sorted(edition.pages_dir.glob("*.md")) + readme:
        m = TRANSLATION_MARK.search(page.read_text(encoding="utf-8"))
        if m:
            out.append((page, ROOT / m["page"], m["sha"]))
    return out


def translation_problems(code: str) -> list[str]:
    """What of edition ``code``'s own text no longer translates the English: pages and
    lesson facts (empty for the English edition)."""
    all_editions = editions()
    english = all_editions[0]
    edition = next((e for e in all_editions if e.code == code), None)
    if edition is None or edition.code == english.code:
        return []
    problems = translated_facts(edition, english)[1]
    if (edition.pages_dir / "index.md").is_file() and not any(
            p.name == "index.md" for p, _, _ in page_translations(edition)):
        problems.append(f"{repo_path(edition.pages_dir / 'index.md')}: no line "
                        "<!-- translation of book/en/index.md | en HASH --> says what it translates")
    for page, source, recorded in page_translations(edition):
        if not source.is_file():
            problems.append(f"{repo_path(page)}: translates {repo_path(source)}, which is gone")
        elif prose_sha(source.read_text(encoding="utf-8")) != recorded:
            problems.append(f"{repo_path(page)}: translates an older {repo_path(source)} (stale: "
                            f"python tools/translations.py todo {code} book shows what changed)")
    return problems


def print_todo(code: str) -> int:
    """``tools/translations.py todo <code> book``: each stale page with what changed in its
    English since the version it translates (a diff, from git history), the hash to record
    once it is updated, and each lesson fact to (re-)translate."""
    import difflib

    all_editions = editions()
    edition = next((e for e in all_editions if e.code == code), None)
    if edition is None or edition.code == all_editions[0].code:
        print(f"no edition {code!r} besides the English one in book/editions.toml")
        return 1
    for page, source, recorded in page_translations(edition):
        now = source.read_text(encoding="utf-8") if source.is_file() else ""
        if prose_sha(now) == recorded:
            continue
        print(f"# {repo_path(page)} translates an older {repo_path(source)}\n")
        old = _english_page_at(source, recorded)
        if old is None:
            print("(the version it translates is not in the git history here)\n")
        else:
            print("".join(difflib.unified_diff(
                GENERATED_BLOCK.sub("", old).splitlines(keepends=True),
                GENERATED_BLOCK.sub("", now).splitlines(keepends=True),
                fromfile=f"{repo_path(source)} (translated)", tofile=f"{repo_path(source)} (now)")))
        print(f"\nOnce the translation says the same, record: <!-- translation of "
              f"{repo_path(source)} | en {prose_sha(now)} -->\n")
    for problem in translated_facts(edition, all_editions[0])[1]:
        print(problem)
    return 0


def _english_page_at(path: Path, want: str) -> str | None:
    rel = repo_path(path)
    log = subprocess.run(["git", "-C", str(ROOT), "log", "--format=%H", "--", rel],
                         capture_output=True, text=True)
    for commit in log.stdout.split()[:200]:
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{rel}"],
                               capture_output=True, text=True)
        if shown.returncode == 0 and prose_sha(shown.stdout) == want:
            return shown.stdout
    return None


def editions(config: Path | None = None) -> list[Edition]:
    """The editions in ``book/editions.toml``, the first (English) first."""
    data = tomllib.loads((config or BOOK / "editions.toml").read_text(encoding="utf-8"))
    found = [Edition(code=code, **values) for code, values in data.items()]
    for edition in found[1:]:     # a word not translated yet reads as the first edition's
        edition.labels = {**found[0].labels, **edition.labels}
    return found


# ------------------------------------------------------------------ facts about lessons
def notebook_title(path: Path) -> str:
    """The title in a notebook's first heading, without its ``NN ·`` number."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            match = TITLE_RE.search("".join(cell["source"]))
            if match:
                return match["title"]
    return path.stem


def recorded_rows() -> list[dict]:
    from edgelab.core import results

    return results.load(RESULTS)


def newest(rows: list[dict]) -> dict[tuple[str, str], dict]:
    from edgelab.core import results

    return results.latest(rows)


def duration(minutes: float) -> str:
    """A recorded wall time as a person says it: 45 s, 1.2 min, 8.3 min, 1.5 h."""
    if minutes < 1:
        return f"{max(1, round(minutes * 60))} s"
    if minutes < 90:
        return f"{minutes:.1f} min"
    return f"{minutes / 60:.1f} h"


def lesson_runs(latest: dict, stem: str) -> list[dict]:
    """The newest recorded run of notebook ``stem`` per profile, quick first."""
    runs = [row for (key, profile), row in latest.items() if key == f"run.{stem}.minutes"]
    return sorted(runs, key=lambda r: PROFILE_ORDER.get(r.get("profile", ""), 9))


def run_duration(edition: Edition, row: dict) -> str:
    """A recorded run's wall time in the edition's units; a run that resumed from its
    checkpoints (``resumed_from_epoch`` in the row) says so, for its time counts only the
    last stretch."""
    shown = edition.duration(row["value"])
    if row.get("resumed_from_epoch"):
        shown = edition.text("resumed", duration=shown, epoch=row["resumed_from_epoch"])
    return shown


def time_text(edition: Edition, latest: dict, stem: str) -> str:
    runs = lesson_runs(latest, stem)
    if not runs:
        return edition.text("time_none")
    items = [edition.text("time_run", duration=run_duration(edition, r), profile=r.get("profile", "?"),
                          hardware=r.get("hardware", "?"), date=r.get("time", "")[:10])
             for r in runs]
    return edition.text("time", runs=edition.labels.get("time_sep", "; ").join(items))


def solutions(stem: str, lang: str = "en") -> list[dict]:
    """The solutions of a lesson's exercises in ``lang``, as ``[{title, markdown}]``, from
    :func:`edgelab.exercises.solutions_markdown` ([] for a lesson without exercises)."""
    from edgelab import exercises
    from edgelab.core import language

    number = stem.split("_", 1)[0]
    if number not in exercises.notebooks():
        return []
    lang = lang if lang in language.LANGUAGES else language.DEFAULT
    return split_solutions(exercises.solutions_markdown(number, lang=lang))


def split_solutions(markdown: str) -> list[dict]:
    """One collapsed block per exercise: the Markdown is cut at its top-level headings,
    each heading becoming the block's title (no heading: one block, "Solutions")."""
    if not markdown.strip():
        return []
    levels = [len(m) for m in re.findall(r"^(#{1,6})\s", markdown, re.M)]
    if not levels:
        return [{"title": "Solutions", "markdown": markdown.strip()}]
    top = min(levels)
    parts = re.split(rf"^{'#' * top}\s+(.+?)\s*$", markdown, flags=re.M)
    out = []
    for title, body in zip(parts[1::2], parts[2::2]):
        out.append({"title": title.strip(), "markdown": body.strip()})
    return out


# ----------------------------------------------------------------------- generated blocks
def block_markers(name: str) -> tuple[str, str]:
    return (f"<!-- {name}:begin (generated by `make docs`; do not edit) -->", f"<!-- {name}:end -->")


def readme_lesson_table(edition: Edition, latest: dict) -> str:
    """The README's lesson table: title (into the book), what you build, time, Colab. An
    edition in another language links the English notebook and page of a lesson it has
    not translated yet, and says so."""
    from edgelab.core.project import book_url, colab_url

    english = editions()[0]
    facts = translated_facts(edition, english)[0]
    rows = [edition.text("readme_header"), "|---|---|---|---:|---:|---|"]
    for lesson in lesson_list(edition, english):
        stem, rel = lesson.stem, repo_path(lesson.path)
        site = edition.site if lesson.translated else english.site
        runs = {r.get("profile"): r for r in lesson_runs(latest, stem)}
        cell = {p: run_duration(edition, runs[p]) if p in runs else edition.text("not_recorded")
                for p in ("quick", "full")}
        marker = "" if lesson.translated else edition.text("untranslated")
        rows.append(
            f"| {stem[:2]} | [{lesson.title}]({book_url(f'{site}notebooks/{stem}.html')}){marker} "
            f"| {facts.get(stem, {}).get('build', '')} "
            f"| {cell['quick']} | {cell['full']} "
            f"| [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(rel)}) [.ipynb]({rel}) |")
    hardware = sorted({r.get("hardware", "?") for lesson in lesson_list(edition, english)
                       for r in lesson_runs(latest, lesson.stem)})
    if hardware:
        rows += ["", edition.text("readme_note", hardware="; ".join(hardware))]
    return "\n".join(rows)


def book_lesson_table(edition: Edition, latest: dict) -> str:
    """The landing page's path through the lessons: what each builds, needs and takes."""
    english = editions()[0]
    facts = translated_facts(edition, english)[0]
    rows = [edition.text("lessons_header"), "|---|---|---|---|---:|---:|"]
    hardware = set()
    for lesson in lesson_list(edition, english):
        stem = lesson.stem
        fact = facts.get(stem, {})
        needs = fact.get("needs", "")
        uses = [u[:2] for u in fact.get("uses", [])]
        if uses:
            key = "lessons_uses_one" if len(uses) == 1 else "lessons_uses_many"
            needs += edition.text(key, lessons=edition.text("lessons_and").join(uses))
        runs = {r.get("profile"): r for r in lesson_runs(latest, stem)}
        hardware |= {r.get("hardware", "?") for r in runs.values()}
        cell = {p: run_duration(edition, runs[p]) if p in runs else edition.text("not_recorded")
                for p in ("quick", "full")}
        if edition.code == english.code:
            link = f"[{lesson.title}](notebooks/{stem}.ipynb)"
        else:       # as the repository has them: the book links the page of either edition
            link = f"[{lesson.title}]({_relative(lesson.path, edition.pages_dir)})" + \
                ("" if lesson.translated else edition.text("untranslated"))
        rows.append(f"| {stem[:2]} | {link} | {fact.get('build', '')} "
                    f"| {needs} | {cell['quick']} | {cell['full']} |")
    if hardware:
        rows += ["", edition.text("lessons_note", hardware="; ".join(sorted(hardware)))]
    return "\n".join(rows)


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def book_results_table(edition: Edition, latest: dict) -> str:
    """The landing page's results: the figures ``lessons.toml`` names, per profile."""
    from edgelab.core.results import _fmt

    english = editions()[0]
    facts = translated_facts(edition, english)[0]
    rows = [edition.text("results_header"), "|---|---|---:|---:|"]
    for path in english.notebook_paths():
        for key, what in facts.get(path.stem, {}).get("results", []):
            cells = []
            for profile in ("quick", "full"):
                row = latest.get((key, profile))
                cells.append(f"{_fmt(row['value'])}{' ' + row['unit'] if row.get('unit') else ''}"
                             if row else edition.text("not_recorded"))
            rows.append(f"| {path.stem[:2]} | {what} (`{key}`) | {cells[0]} | {cells[1]} |")
    return "\n".join(rows)


def blocks() -> list[tuple[Path, str, str, str]]:
    """Every generated block: (file, begin marker, end marker, its text now)."""
    from edgelab.core import results
    from edgelab.run import cli

    rows = recorded_rows()
    latest = newest(rows)
    english = editions()[0]
    out = []
    begin, end = block_markers("lessons")
    for edition in editions():
        if edition.readme:
            out.append((ROOT / edition.readme, begin, end, readme_lesson_table(edition, latest)))
        pages = edition.pages_dir
        if (pages / "index.md").is_file():
            out.append((pages / "index.md", begin, end, book_lesson_table(edition, latest)))
            out.append((pages / "index.md", *block_markers("key-results"),
                        book_results_table(edition, latest)))
    out.append((english.pages_dir / "commands.md", cli.PAGE_BEGIN, cli.PAGE_END,
                cli.command_table()))
    out.append((english.pages_dir / "results.md", results.PAGE_BEGIN, results.PAGE_END,
                results.grouped_markdown(rows)))
    return out


def update_blocks(check: bool = False) -> list[Path]:
    """Rewrite every generated block (``check``: only report); the files that were stale."""
    from edgelab.core.atomic import rewrite_block

    stale = []
    for path, begin, end, body in blocks():
        text = path.read_text(encoding="utf-8")
        if begin not in text or end not in text:
            raise SystemExit(f"{path.relative_to(ROOT)}: no generated block; add the lines\n"
                             f"{begin}\n{end}")
        current = text.split(begin, 1)[1].split(end, 1)[0].strip()
        if current != body.strip():
            stale.append(path)
            if not check:
                rewrite_block(path, begin, end, body)
    return stale


# --------------------------------------------------------------------------------- staging
def _write_if_changed(path: Path, text: str) -> None:
    """Write only on change, so Sphinx's incremental build reuses what did not change."""
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _copy_if_changed(src: Path, dest: Path) -> None:
    if dest.is_file() and dest.stat().st_size == src.stat().st_size \
            and dest.stat().st_mtime_ns == src.stat().st_mtime_ns:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)


def teaching_index(edition: Edition, notes: list[Path]) -> str:
    """``teaching/index.md`` when the notes bring none: the timetable first, then the rest."""
    ordered = sorted(notes, key=lambda p: (not p.stem.lower().startswith("timetable"), p.name))
    lines = [f"# {edition.text('teaching_title')}", ""]
    if not ordered:
        return "\n".join(lines + [edition.text("teaching_none"), ""])
    lines += ["```{toctree}", ":maxdepth: 1", ""] + [p.stem for p in ordered] + ["```", ""]
    return "\n".join(lines)


def source_map(edition: Edition) -> dict[str, Path]:
    """Staged path -> repository file, for one edition."""
    files = {}
    for path in sorted(edition.pages_dir.rglob("*")):
        if path.is_file() and path.name != "lessons.toml":
            files[path.relative_to(edition.pages_dir).as_posix()] = path
    for path in edition.notebook_paths():
        files[f"notebooks/{path.name}"] = path
    for path in edition.teaching_paths():
        files[f"teaching/{path.name}"] = path
    return files


def docnames(files: dict[str, Path]) -> list[str]:
    pages = [name.rsplit(".", 1)[0] for name in files if name.endswith((".md", ".ipynb"))]
    if "teaching/index" not in pages:
        pages.append("teaching/index")
    return sorted(pages)


def repo_path(path: Path) -> str:
    """``path`` relative to the repository (a file outside it, in tests:
    ``<its folder>/<name>``, or ``<folder>/<lang>/<name>`` in a language's folder)."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        if path.parent.name in {e.code for e in editions()} and path.parent.parent.name:
            return f"{path.parent.parent.name}/{path.parent.name}/{path.name}"
        return f"{path.parent.name}/{path.name}"


def book_facts(edition: Edition, all_editions: list[Edition], latest: dict,
               solutions_of=None) -> dict:
    """``_book.json``: what the Sphinx extension adds to the pages of ``edition``."""
    from edgelab.core.project import colab_url, github_path

    solutions_of = solutions_of or solutions
    lessons = {}
    for path in edition.notebook_paths():
        rel = repo_path(path)
        lessons[f"notebooks/{path.stem}"] = {
            "repo_path": rel, "colab_url": colab_url(rel), "github_url": github_path(rel),
            "time": time_text(edition, latest, path.stem),
            "solutions": [{"title": s["title"], "markdown": s["markdown"]}
                          for s in solutions_of(path.stem, edition.code)],
        }
    def describe(e: Edition) -> dict:
        # sources: staged file -> repository file, so that a page's link to a repository
        # file that is a page of any edition becomes a link to that page
        return {"code": e.code, "label": e.label, "site": e.site, "root_doc": "index",
                "pages": docnames(source_map(e)),
                "sources": {name: repo_path(path) for name, path in source_map(e).items()
                            if name.endswith((".md", ".ipynb"))},
                "missing": e.labels.get("switch_missing", "")}
    from edgelab.core.project import BRANCH, REPO_URL

    sources = {name.rsplit(".", 1)[0]: repo_path(path)
               for name, path in source_map(edition).items() if name.endswith((".md", ".ipynb"))}
    return {"edition": {**describe(edition), "labels": edition.labels},
            "editions": [describe(e) for e in all_editions], "lessons": lessons,
            "sources": sources,
            "repository": {"root": str(ROOT), "url": REPO_URL, "branch": BRANCH}}


def stage(edition: Edition, all_editions: list[Edition], latest: dict, into: Path,
          solutions_of=None) -> Path:
    """Lay out one edition's sources in ``into/<code>/``; return that folder."""
    dest = into / edition.code
    files = source_map(edition)
    for name, src in files.items():
        _copy_if_changed(src, dest / name)
    facts = book_facts(edition, all_editions, latest, solutions_of)
    generated = {"_book.json": json.dumps(facts, ensure_ascii=False, indent=1, sort_keys=True)}
    if "teaching/index.md" not in files:
        generated["teaching/index.md"] = teaching_index(edition, edition.teaching_paths())
    for name, text in generated.items():
        _write_if_changed(dest / name, text)
    keep = set(files) | set(generated)
    for path in sorted(dest.rglob("*"), reverse=True):      # what the sources no longer have
        rel = path.relative_to(dest).as_posix()
        if path.is_file() and rel not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return dest


# ----------------------------------------------------------------------------------- build
def remove_stale_pages(target: Path, edition: Edition, all_editions: list[Edition]) -> None:
    """Delete the pages of documents the sources no longer have (Sphinx leaves them)."""
    keep = set(docnames(source_map(edition))) | {"search", "genindex"}
    others = [target / e.site for e in all_editions if e.site and e is not edition]
    for page in target.rglob("*.html"):
        rel = page.relative_to(target)
        if rel.parts[0].startswith("_") or any(page.is_relative_to(o) for o in others):
            continue
        if rel.with_suffix("").as_posix() not in keep:
            page.unlink()
            stale_notebook = page.with_suffix(".ipynb")
            if stale_notebook.is_file():
                stale_notebook.unlink()


def build(out: Path = OUT, *, strict: bool = True, clean: bool = False,
          config: Path | None = None, solutions_of=None) -> int:
    """Stage and build every edition into ``out`` (the first edition at its top).

    ``config``: another editions file; ``solutions_of(stem, lang)``: another source of
    solutions (both for tests)."""
    all_editions = editions(config)
    latest = newest(recorded_rows())
    staging = out.parent / f"{out.name}-src"        # build/book -> build/book-src
    if clean:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
    start = time.monotonic()
    for edition in all_editions:
        src = stage(edition, all_editions, latest, staging, solutions_of)
        target = out / edition.site
        # _book.json's digest as a config value: when what it adds to pages changes (a
        # solution, a recorded time, an edition), Sphinx re-reads every page.
        digest = hashlib.sha256((src / "_book.json").read_bytes()).hexdigest()[:16]
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(BOOK),
               "-d", str(staging / f".doctrees-{edition.code}"), "-D", f"language={edition.code}",
               "-D", f"edgelab_book_digest={digest}", str(src), str(target)]
        if strict:
            cmd[3:3] = ["-W", "--keep-going"]
        print(f"book: {edition.label} ({edition.code}): {len(docnames(source_map(edition)))} "
              f"pages -> {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}",
              flush=True)
        proc = subprocess.run(cmd, cwd=ROOT)
        if proc.returncode:
            print(f"book: Sphinx failed for the {edition.label} edition (exit {proc.returncode}); "
                  "its warnings are above" + ("" if not strict else
                  " (every warning fails `make book`: fix it, or see --lenient)"), file=sys.stderr)
            return 1
        remove_stale_pages(target, edition, all_editions)
    (out / ".nojekyll").touch()
    print(f"book: built in {time.monotonic() - start:.0f} s; open {out / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/book.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the book into build/book/ (make book)")
    b.add_argument("--out", type=Path, default=OUT, help="output folder (default build/book)")
    b.add_argument("--lenient", action="store_true", help="let Sphinx warnings pass")
    b.add_argument("--clean", action="store_true", help="rebuild from scratch")
    b.add_argument("--editions", type=Path, help=argparse.SUPPRESS)   # tests: other editions
    g = sub.add_parser("blocks", help="regenerate the generated tables (make docs)")
    g.add_argument("--check", action="store_true", help="only list the stale files; exit 1 if any")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build(args.out.resolve(), strict=not args.lenient, clean=args.clean,
                     config=args.editions)
    stale = update_blocks(check=args.check)
    for path in stale:
        print(f"{path.relative_to(ROOT)}: {'stale (run `make docs`)' if args.check else 'updated'}")
    if not stale:
        print("generated tables: all up to date")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
