"""The teacher's notes in other languages, each text tied to the English it translates.

``edgelab teach`` writes ``teaching/<lang>/`` next to ``teaching/`` from the same recorded
runs, so every number in a translated page is the English page's number. A page is made of
two kinds of text, and each is tied to its English in its own way:

* **Generated blocks** (between ``<!-- teach:NAME:begin ... -->`` markers in the English
  page) are rendered again in the language, from the same figures, with the words of
  :data:`TEMPLATES` (English, here) translated in ``i18n/<lang>/teaching/generated.toml``:
  one entry per template, with the hash of the English template it translates (``en``).
  Phrases that reach the notes from elsewhere (what a lesson hands on, in
  :mod:`edgelab.workshop.lessons`; the mistakes an exercise's check names) are translated
  in its ``[phrases]`` table, keyed by the English phrase itself.
* **Hand-written prose** (everything outside the markers) is cut into blocks (a heading, a
  paragraph, a list, a code fence) and each block is translated in
  ``i18n/<lang>/teaching/<page>.md``, in the notebooks' format::

      <!-- block discussion-questions.2 | en 3f2a9c0d1b7e -->
      2. Adam が勾配を ... 

  The id is the slug of the ``##`` heading the block stands under and its place there
  (the heading itself is the bare slug); ``en`` is the first 12 hex digits of the SHA-256
  of the English block. A block whose id moved but whose English did not keeps its
  translation (it is found by its hash).

The translated page follows the English page block by block, so the two cannot differ in
structure. Where a translation is missing or its English has changed since (*stale*), the
page shows the English text instead of an outdated translation, ``edgelab teach`` says so,
``python tools/translations.py todo <lang> teaching`` prints what to (re-)translate, and
``tests/test_translations.py`` fails naming each block.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = ("ja",)
BLOCK_MARKER = re.compile(r"^<!-- block (?P<id>[\w.-]+) \| en (?P<sha>[0-9a-f]{12}) -->\s*$", re.M)
GENERATED = re.compile(r"^<!-- teach:(?P<name>\w+):begin[^\n]*-->\n.*?^<!-- teach:(?P=name):end -->",
                       re.M | re.S)
FENCE = re.compile(r"^\s*(```|~~~)")
LIST_ITEM = re.compile(r"^(?:\d+[.)]|[-*+])\s")


def sha(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:12]


def i18n_dir(lang: str, root: Path | None = None) -> Path:
    from edgelab.core import paths

    root = root or paths.project_root() or Path.cwd()
    return root / "i18n" / lang / "teaching"


# ============================================================ hand-written prose, in blocks

@dataclass
class Piece:
    """A stretch of an English page: ``kind`` is ``prose`` (a block), ``generated`` (a
    generated block, markers included) or ``space`` (what lies between)."""

    kind: str
    text: str
    id: str = ""                       # prose: the block id; generated: the block's name


def slug(text: str) -> str:
    words = re.sub(r"[^\w\s-]", "", text.lower().replace("'", "")).split()
    return "-".join(words)[:60].strip("-") or "section"


def _blocks(region: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the prose blocks in ``region``: text between blank lines,
    a code fence kept whole, an indented stretch (a list item's continuation) joined to
    the block before it."""
    spans: list[list[int]] = []
    offset, fenced, current = 0, False, None
    for line in region.splitlines(keepends=True):
        start, end = offset, offset + len(line)
        offset = end
        blank = not line.strip()
        if current is None:
            if blank:
                continue
            if spans and line[:1] in (" ", "\t") and not fenced:
                current = spans.pop()           # a continuation: reopen the block before
            else:
                current = [start, end]
        current[1] = end
        if FENCE.match(line):
            fenced = not fenced
        if blank and not fenced:
            current[1] = start
            spans.append(current)
            current = None
    if current is not None:
        spans.append(current)
    # a list is cut into its items (one translated block per item); trailing newlines trimmed
    out = []
    for s, e in spans:
        starts, pos, fenced = [s], s, False
        for line in region[s:e].splitlines(keepends=True):
            if FENCE.match(line):
                fenced = not fenced
            elif not fenced and pos > s and LIST_ITEM.match(line):
                starts.append(pos)
            pos += len(line)
        for a, b in zip(starts, starts[1:] + [e]):
            while b > a and region[b - 1] in "\n ":
                b -= 1
            out.append((a, b))
    return out


def pieces(text: str) -> list[Piece]:
    """The English page ``text`` as pieces whose texts, joined, give ``text`` back."""
    out: list[Piece] = []
    at = 0
    regions = []
    for m in GENERATED.finditer(text):
        regions.append((at, m.start(), None))
        regions.append((m.start(), m.end(), m.group("name")))
        at = m.end()
    regions.append((at, len(text), None))
    heading, count, seen = "top", 0, set()
    for start, end, name in regions:
        if name is not None:
            out.append(Piece("generated", text[start:end], name))
            continue
        region, pos = text[start:end], 0
        for s, e in _blocks(region):
            if s > pos:
                out.append(Piece("space", region[pos:s]))
            block = region[s:e]
            m = re.match(r"^#{1,6}\s+(.+)$", block)
            if m and "\n" not in block.strip():
                heading, count = slug(m.group(1)), 0
                ident = heading
                n = 2
                while ident in seen:
                    ident, n = f"{heading}-{n}", n + 1
                heading = ident
            else:
                count += 1
                ident = f"{heading}.{count}"
            seen.add(ident)
            out.append(Piece("prose", block, ident))
            pos = e
        if pos < len(region):
            out.append(Piece("space", region[pos:]))
    assert "".join(p.text for p in out) == text
    return out


@dataclass
class Entry:
    id: str
    sha: str
    text: str


def marked_sections(text: str, marker: "re.Pattern[str]") -> list[tuple["re.Match[str]", str]]:
    """Each ``marker`` match in ``text`` with the text up to the next one (blank lines at
    either end dropped): the layout of every translation file (notebooks and notes alike)."""
    marks = list(marker.finditer(text))
    return [(m, text[m.end():(marks[i + 1].start() if i + 1 < len(marks) else len(text))]
             .strip("\n")) for i, m in enumerate(marks)]


@dataclass
class ProseTranslation:
    """``i18n/<lang>/teaching/<page>.md``: the translated blocks of one page."""

    path: Path
    entries: dict[str, Entry] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> "ProseTranslation":
        found = cls(path)
        if not path.is_file():
            return found
        for m, body in marked_sections(path.read_text(encoding="utf-8"), BLOCK_MARKER):
            found.entries[m["id"]] = Entry(m["id"], m["sha"], body)
        return found

    def write(self) -> None:
        parts = [f"<!-- block {e.id} | en {e.sha} -->\n{e.text}\n" for e in self.entries.values()]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("\n".join(parts), encoding="utf-8")


@dataclass
class ProseReport:
    page: str
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.orphaned)


def match(english: str, tr: ProseTranslation, page: str = "") -> tuple[dict[str, Entry | None], ProseReport]:
    """For each prose block of the English page, its current translation (None: missing
    or stale), and the report."""
    report = ProseReport(page)
    blocks = [p for p in pieces(english) if p.kind == "prose"]
    by_sha: dict[str, list[Entry]] = {}
    for e in tr.entries.values():
        by_sha.setdefault(e.sha, []).append(e)
    used, found = set(), {}
    for b in blocks:                       # first the blocks whose id and English both match
        e = tr.entries.get(b.id)
        if e is not None and e.sha == sha(b.text):
            found[b.id] = e
            used.add(e.id)
    for b in blocks:                       # then a block that moved: the same English elsewhere
        if b.id in found:
            continue
        e = next((c for c in by_sha.get(sha(b.text), []) if c.id not in used), None)
        if e is not None:
            found[b.id] = e
            used.add(e.id)
    for b in blocks:                       # the rest: its id translated another English: stale
        if b.id in found:
            continue
        found[b.id] = None
        if b.id in tr.entries and b.id not in used:
            report.stale.append(b.id)
            used.add(b.id)
        else:
            report.missing.append(b.id)
    order = [b.id for b in blocks]
    report.missing.sort(key=order.index)
    report.stale.sort(key=order.index)
    report.orphaned = [i for i in tr.entries if i not in used]
    return found, report


def translate_page(english: str, tr: ProseTranslation, generated: dict[str, str],
                   header: str = "") -> tuple[str, ProseReport]:
    """The translated page: English prose blocks replaced by their translations (the
    English where there is none that is current), generated blocks by ``generated[name]``
    (without markers: the whole translated page is generated)."""
    found, report = match(english, tr, tr.path.stem)
    out = [header] if header else []
    for p in pieces(english):
        if p.kind == "generated":
            out.append(generated[p.id])
        elif p.kind == "prose":
            e = found.get(p.id)
            out.append(e.text if e is not None else p.text)
        else:
            out.append(p.text)
    return "".join(out), report


def english_at(path: Path, block: str, want: str, root: Path) -> str | None:
    """The English text of ``block`` whose hash was ``want``, from the git history of
    ``path`` (for ``todo``: what a stale translation was made from)."""
    import subprocess

    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
    log = subprocess.run(["git", "-C", str(root), "log", "--format=%H", "--", rel],
                         capture_output=True, text=True)
    for commit in log.stdout.split()[:200]:
        shown = subprocess.run(["git", "-C", str(root), "show", f"{commit}:{rel}"],
                               capture_output=True, text=True)
        if shown.returncode:
            continue
        for p in pieces(shown.stdout):
            if p.kind == "prose" and p.id == block and sha(p.text) == want:
                return p.text
    return None


# ============================================================ the words of generated blocks

# Every sentence and label `edgelab teach` writes into a generated block, in English. The
# Python format fields are filled with values (numbers are formatted before, so that
# every language shows the same figures). A translation in generated.toml names the hash
# of the English it translates; when the English here changes, it is stale.
TEMPLATES: dict[str, str] = {
    # units and small words
    "unit_s": "{n} s",
    "unit_min": "{n} min",
    "unit_h": "{n} h",
    "minutes": "{n} min",
    "list_sep": ", ",
    "part_sep": "; ",
    "and": " and ",
    "quoted": "\"{text}\"",
    "and_more": " and {n} more",
    "setup_label": "setup",
    "preface": "Before the first section (title, setup)",
    # the header
    "header_title": "# Teacher's notes: {number} · {title}",
    "header_links": "Notebook: [{rel}]({link}) · [Open in Colab]({colab}) · "
                    "[all lessons and the timetables](README.md)",
    "header_links_english": "Notebook (not translated yet: the English one): [{rel}]({link}) · "
                            "[Open in Colab]({colab}) · [all lessons and the timetables](README.md)",
    "header_load": "; the machine's 1-minute load average was {load} at the end",
    "header_cpus": ", on {cpus} CPUs",
    "header_quick": "- Compute, quick profile: **{minutes}** for the whole notebook, measured by "
                    "`edgelab run` on {hardware} ({date}{shared}).",
    "header_earlier": "- Earlier quick runs there, without per-section times: {median} (median "
                      "of {count}, {dates}); a busy machine stretches every time.",
    "header_no_quick": "- Compute, quick profile: no run with per-section times is recorded yet "
                       "(`edgelab run --profile quick`, then `make record-run`).",
    "header_full": "- Full profile: **{minutes}** ({how}).",
    # how the full profile's minutes were obtained
    "full_measured": "measured: a full run on {hardware}, {date}",
    "full_none": "no run recorded with per-section times",
    "full_no_estimate": "no estimate",
    "full_plan": "the plan's figure (`edgelab run --profile full --plan`) for {hardware}: "
                 "{basis}; the sections shared out like the quick run's, its main loop scaled",
    "basis_measured_one": "measured there (one run, newest {date})",
    "basis_measured_median": "measured there (median of {runs} runs, newest {date})",
    "basis_scaled_longest": "scaled: the {profile} run there ({total}) with its longest cell "
                            "({main}) x {ratio}, the ratio of {lesson}'s {work}",
    "basis_scaled_whole": "scaled: the whole {profile} run there ({total}) x {ratio}, the ratio "
                          "of {lesson}'s {work} (an upper bound: set-up time is scaled too)",
    "basis_calibrated": "scaled: {minutes} on {reference} / {speed}, this machine's calibrated "
                        "speed relative to it",
    "installed_note": "{first} and {more} more, installed",
    # objectives
    "objectives_none": "_(the notebook's header has no \"What you'll learn\" list)_",
    "objectives_intro": "Learners will be able to say or do (from the notebook's \"What you'll "
                        "learn\"):",
    "objectives_intro_english": "Learners will be able to say or do (from the English notebook's "
                                "\"What you'll learn\": this notebook is not translated yet):",
    # prerequisites
    "prereq_models": "Models from earlier notebooks:",
    "prereq_item": "- **{what}** (notebook {producer}). Without it, {without}. "
                   "`edgelab prepare {number}` makes it before the day.",
    "prereq_none": "No model from an earlier notebook: the lesson stands on its own.",
    "prereq_inside": "Trained in this lesson and reused later: {what} (`edgelab prepare "
                     "{number}` trains it ahead of time).",
    # before the day
    "before_header": "| what | size or time | how |",
    "before_data": "| data: {name} | {size} | `edgelab prepare {number}` (or `edgelab data fetch "
                   "{dataset}`) |",
    "size_unknown": "size unknown",
    "took": "{minutes} on {hardware}",
    "not_timed": "not timed yet",
    "before_build": "| build: {what} | {took} | `edgelab prepare {number}` |",
    "before_model": "| model: {what} | {took} ({when}) | `edgelab prepare {number}` |",
    "when_here": "otherwise trained in class",
    "when_earlier": "otherwise trained in class when notebook {producer} has not run",
    "torch_size": "{mb} MB installed ({note})",
    "not_measured": "not measured",
    "before_torch": "| install: the torch extra ({packages}) | {size} | `make setup` installs it; "
                    "Colab ships PyTorch |",
    "before_memory": "| memory (peak, quick profile) | {mb} MB | measured by `edgelab run`, "
                     "{date} |",
    "built": " + {mb} MB of builds",
    "before_disk": "| disk written (quick profile) | {mb} MB{built} | outputs folder; `edgelab "
                   "doctor` compares it with the free space |",
    "before_day": "The day before, every participant runs `edgelab doctor {number}` (a table "
                  "with a fix for each problem) and `edgelab prepare {number}`.",
    # section by section
    "plan_stale": "**The recorded run predates this version of the notebook** (sections "
                  "{sections} are not in it): their compute is shown as \"-\". Re-run `edgelab "
                  "run --profile quick`, record it, then `edgelab teach`.",
    "plan_header": "| section | code cells | compute, quick (measured) | compute, full | "
                   "suggested: explain | suggested: do |",
    "plan_total": "**whole lesson**",
    "plan_note": "Compute is what the cells took, summed per section (the whole-lesson figure "
                 "adds the kernel's start). {quick}Full: {full}; `~` marks an estimate.",
    "plan_note_quick": "Quick: `edgelab run` on {hardware}, {date}. ",
    "plan_suggested": "*Suggested* minutes are suggestions, not measurements: {rule}. Adjust "
                      "them to your group.",
    "rule": "explain = 1 + (the section's words) / {wpm} + {epc} x (its code cells); do = {dpc} "
            "x (its code cells) + its measured quick compute time; each rounded up to a whole "
            "minute",
    # cut lines
    "cuts_header": "| section | if you skip it | saves (suggested) |",
    "cut_prose": "nothing breaks (prose only)",
    "cut_clean": "**a clean cut**: no later section uses what it defines",
    "cut_loses": "{section} loses {names}",
    "cut_fails": "later cells fail: {effects} (run its cells without discussing them instead)",
    "cuts_note": "Computed from the notebook's code: which names each section defines, or "
                 "changes in place (`model.fit(...)`), that a later section reads. Files a "
                 "section writes and a later one reads are not traced (the prerequisites above "
                 "name the ones that cross notebooks), nor is an object changed by a function "
                 "it is passed to: read a clean cut's cells before you skip it.",
    # where learners get stuck
    "fail_tpu_jax": "- **A Colab TPU runtime.** Colab's TPU runtimes ship no TensorFlow: only "
                    "this lesson's JAX engine runs there. `edgelab doctor` says so; fix: Runtime "
                    "> Change runtime type > T4 GPU (or CPU).",
    "fail_tpu": "- **A Colab TPU runtime.** Colab's TPU runtimes ship no TensorFlow: this lesson "
                "cannot run there. `edgelab doctor` says so; fix: Runtime > Change runtime type "
                "> T4 GPU (or CPU).",
    "torch_measured": " ({mb} MB installed, measured)",
    "fail_torch": "- **No PyTorch.** The torch extra{size} is not in a minimal install; `make "
                  "setup` installs it, Colab ships PyTorch. `edgelab doctor {number}` shows a "
                  "FAIL row for each missing package.",
    "build_took": " took {minutes} on {hardware}",
    "fail_build": "- **A first build in class.** {what}{took}; `edgelab prepare {number}` does "
                  "it the day before.",
    "fail_handover": "- **Notebook {producer} not run first.** {without}: expect the time below; "
                     "`edgelab prepare {number}` avoids it.",
    "fail_offline": "- **No internet in the room.** Run `edgelab data serve` on your machine and "
                    "have learners set `EDGELAB_MIRROR` to the address it prints (see "
                    "[the checklist](README.md#the-day-before)).",
    # exercises
    "ex_none": "exercises: see the notebook (its last section).",
    "ex_header": "| exercise | where | expected minutes | the mistakes its check names |",
    "where_class": "in class",
    "where_home": "homework",
    "where_unknown": "unknown",
    "ex_note": "From `edgelab.exercises.catalogue()`: where each exercise fits and its expected "
               "minutes, as its author set them, and the realistic wrong answers its checker is "
               "tested to name. Learners see their progress with `edgelab exercises`; the "
               "solutions are in the book.",
    # the timetables
    "tt_setup": "setup: everyone runs `edgelab doctor` and fixes its FAIL rows (no internet: "
                "`edgelab data serve`, see [the checklist](README.md#the-day-before))",
    "tt_hands_on": "hands-on {sections}",
    "tt_demo": "demo {sections}",
    "tt_run": "run without discussion {sections}",
    "tt_skip": "skip {sections}",
    "tt_prose_home": "prose-only sections left to read at home",
    "tt_in_class": "in class: exercise {numbers}",
    "tt_homework": "exercises as homework",
    "tt_see_notebook": " (see the notebook)",
    "tt_lesson": "{link}: {parts}",
    "tt_continued": "{name} (continued)",
    "tt_header": "| day | time | what | minutes |",
    "break_coffee": "coffee",
    "break_lunch": "lunch",
    "tt_day_end": "end of the day",
    "tt_end": "end",
    "tt_break": "{minutes} min {what} at {clock}",
    "tt_note": "Each day runs from {start} to {end} with {breaks}: {per_day} min of teaching. A "
               "lesson's minutes include {gap} min for questions; the first {setup} min are for "
               "setup. The lessons' suggested minutes add up to {total} min{fit}.",
    "tt_fits": ", and everything fits",
    "tt_scaled": ", so each lesson gets about its share ({share}) and its sections become demos "
                 "or are skipped until it fits (never its core sections)",
    "tt_over": ("The last day runs {over} min over, with every section that can give way "
                "already a demo or skipped: for one day, teach fewer lessons (each lesson's "
                "notes say what it needs from earlier ones) or take two days."),
    # the index
    "index_header": "| lesson | compute, quick (measured) | compute, full | suggested: explain + "
                    "do | before the day |",
    "index_data": "data",
    "index_models": "models from {lessons}",
    "index_hub": "Hub modules",
    "index_torch": "the torch extra",
    "index_note": "Quick compute measured by `edgelab run` on {machines} ({dates}); full as each "
                  "lesson's notes say (`~`: estimated). Suggested minutes are suggestions ({rule}).",
    "date_range": "{first} to {last}",
}

# The ``basis`` strings of :mod:`edgelab.run.plan` (how an estimate was made), read back into
# a template and its values, so that a translated page can say the same in its language.
# A basis these patterns do not know is shown in English (and reported as untranslated).
BASIS_PATTERNS = [
    ("basis_measured_one", r"^measured (?:here|there) \(one run, newest (?P<date>[\d-]+)\)$"),
    ("basis_measured_median",
     r"^measured (?:here|there) \(median of (?P<runs>\d+) runs, newest (?P<date>[\d-]+)\)$"),
    ("basis_scaled_longest",
     r"^scaled: the (?P<profile>\w+) run (?:here|there) \((?P<total>[^)]+)\) with its longest "
     r"cell \((?P<main>[^)]+)\) x (?P<ratio>[\d.,e+]+), the ratio of (?P<lesson>\w+)'s "
     r"(?P<work>.+)$"),
    ("basis_scaled_whole",
     r"^scaled: the whole (?P<profile>\w+) run (?:here|there) \((?P<total>[^)]+)\) x "
     r"(?P<ratio>[\d.,e+]+), the ratio of (?P<lesson>\w+)'s (?P<work>.+) \(an upper bound: "
     r"set-up time is scaled too\)$"),
    ("basis_calibrated",
     r"^scaled: (?P<minutes>\S+ \w+) on (?P<reference>.+) / (?P<speed>[\d.e+-]+), this "
     r"machine's calibrated speed relative to it$"),
]
# Phrases of recorded rows (their ``note``) read the same way.
PHRASE_PATTERNS = [
    ("installed_note", r"^(?P<first>.+) and (?P<more>\d+) more, installed$"),
]
DURATION = re.compile(r"^(?P<n>[\d.,]+) (?P<unit>s|min|h)$")


@functools.lru_cache(maxsize=None)
def _generated_toml(path: str, mtime: float) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def generated_translations(lang: str, root: Path | None = None) -> dict:
    path = i18n_dir(lang, root) / "generated.toml"
    if not path.is_file():
        return {}
    return _generated_toml(str(path), path.stat().st_mtime)


class Texts:
    """The words of the generated blocks in one language. English is :data:`TEMPLATES`;
    another language takes each template from ``generated.toml`` where it translates the
    current English, else the English (noted in :attr:`problems`)."""

    def __init__(self, lang: str = "en", root: Path | None = None):
        self.lang = lang
        self.up = "../" if lang == "en" else "../../"     # teaching/<lang>/ -> the checkout
        self.problems: set[str] = set()
        data = generated_translations(lang, root) if lang != "en" else {}
        self.templates = data.get("templates", {})
        self.phrases = data.get("phrases", {})

    def __call__(self, key: str, **values) -> str:
        english = TEMPLATES[key]
        template = english
        if self.lang != "en":
            entry = self.templates.get(key)
            if entry is None:
                self.problems.add(f"template {key}: not translated")
            elif entry.get("en") != sha(english):
                self.problems.add(f"template {key}: stale (the English changed)")
            else:
                template = entry["ja" if "ja" in entry else self.lang]
        return template.format(**values)

    def phrase(self, english: str) -> str:
        """A phrase from outside the notes (a lesson's hand-over, a mistake's name)."""
        if self.lang == "en" or not english:
            return english
        if english in self.phrases:
            return self.phrases[english]
        for key, pattern in PHRASE_PATTERNS:
            m = re.match(pattern, english)
            if m:
                return self(key, **m.groupdict())
        self.problems.add(f"phrase not translated: {english!r}")
        return english

    def duration(self, text: str) -> str:
        """``"4.2 min"`` (:func:`edgelab.run.plan.duration`) in this language's units."""
        m = DURATION.match(text.strip())
        if self.lang == "en" or not m:
            return text
        return self(f"unit_{m['unit']}", n=m["n"])

    def basis(self, text: str) -> str:
        """A plan's basis in this language (the English where no pattern knows it)."""
        if self.lang == "en":
            return text
        for key, pattern in BASIS_PATTERNS:
            m = re.match(pattern, text)
            if m:
                values = {k: self.duration(v) if k in ("total", "main", "minutes") else v
                          for k, v in m.groupdict().items()}
                return self(key, **values)
        self.problems.add(f"a plan's basis no pattern knows: {text!r}")
        return text

    def join(self, items, sep: str = "list_sep") -> str:
        return self(sep).join(items)


ENGLISH = Texts("en")


# ============================================================ what a translated notebook says

@dataclass
class NotebookView:
    """What the translated notes show of a lesson's notebook: its title, its objectives
    and its section titles in the language where the translated notebook exists (its
    headings at the English cells' places), else the English ones."""

    path: Path                        # the notebook the notes link
    translated: bool
    title: str | None = None
    objectives: list[str] | None = None
    section_titles: dict[int, str] = field(default_factory=dict)


def _bullets(text: str) -> list[str]:
    return [line.strip()[2:].strip() for line in text.splitlines()
            if line.strip().startswith(("- ", "* "))]


def notebook_view(english: Path, lang: str, english_objectives: list[str]) -> NotebookView:
    from edgelab.run import sections as sectioning

    path = english.parent / lang / english.name
    if lang == "en":
        return NotebookView(english, True)
    if not path.is_file():
        return NotebookView(english, False)
    nb = json.loads(path.read_text(encoding="utf-8"))
    en_nb = json.loads(english.read_text(encoding="utf-8"))
    head = "".join(nb["cells"][0]["source"]) if nb["cells"] else ""
    m = re.search(r"^#\s+(?:\d+\s*[·.:-]?\s*)?(?P<title>.+?)\s*$", head, re.M)
    view = NotebookView(path, True, title=m["title"] if m else None)
    # the objectives: the translated head's bullets at the English objectives' places
    en_head = "".join(en_nb["cells"][0]["source"]) if en_nb["cells"] else ""
    en_bullets, ja_bullets = _bullets(en_head), _bullets(head)
    if english_objectives and len(en_bullets) == len(ja_bullets):
        at = [i for i, b in enumerate(en_bullets) if b in english_objectives]
        if len(at) == len(english_objectives):
            view.objectives = [ja_bullets[i] for i in at]
    en_sections, ja_sections = sectioning.split(english), sectioning.split(path)
    if [len(s.cells) for s in en_sections] == [len(s.cells) for s in ja_sections]:
        view.section_titles = {s.number: s.title for s in ja_sections if s.number > 0}
    return view


# ============================================================ for tools/translations.py

def teaching_pages(root: Path) -> list[Path]:
    """The English pages of the teacher's notes (``teaching/*.md``)."""
    return sorted((root / "teaching").glob("*.md"))


def page_reports(lang: str, root: Path) -> list[tuple[Path, ProseReport, ProseTranslation]]:
    """Each English page, what of its hand-written prose lacks a current translation, and
    its translation file."""
    out = []
    for page in teaching_pages(root):
        tr = ProseTranslation.read(i18n_dir(lang, root) / page.name)
        out.append((page, match(page.read_text(encoding="utf-8"), tr, page.name)[1], tr))
    return out


def template_problems(lang: str, root: Path) -> list[tuple[str, str]]:
    """(template key, "missing" | "stale") for every template not translated as it is now."""
    found = generated_translations(lang, root).get("templates", {})
    out = []
    for key, english in TEMPLATES.items():
        entry = found.get(key)
        if entry is None:
            out.append((key, "missing"))
        elif entry.get("en") != sha(english):
            out.append((key, "stale"))
    return out


def template_skeleton(keys: list[str]) -> str:
    """TOML tables to add to ``generated.toml`` for ``keys``: the English to translate in
    ``ja`` (replace it), with the hash that ties the translation to it."""
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "\n".join(f"[templates.{key}]\nen = \"{sha(TEMPLATES[key])}\"\nja = {quoted(TEMPLATES[key])}\n"
                     for key in keys)


def stamp(lang: str, root: Path, page: str, block: str) -> str:
    """Record that the translation of ``block`` of ``page`` now translates its current
    English (after a translator updated it); returns what was done."""
    name = page if page.endswith(".md") else f"{page}.md"
    english = root / "teaching" / name
    if not english.is_file():
        raise SystemExit(f"no page teaching/{name}")
    blocks = {p.id: p for p in pieces(english.read_text(encoding="utf-8")) if p.kind == "prose"}
    if block not in blocks:
        raise SystemExit(f"teaching/{name} has no hand-written block {block!r}; its blocks: "
                         + ", ".join(blocks))
    tr = ProseTranslation.read(i18n_dir(lang, root) / name)
    if block not in tr.entries:
        raise SystemExit(f"i18n/{lang}/teaching/{name} has no translation of {block} to stamp")
    tr.entries[block].sha = sha(blocks[block].text)
    tr.write()
    return f"i18n/{lang}/teaching/{name} block {block}: marked as translating the current English"
