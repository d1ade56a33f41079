"""A notebook's ``##`` sections: which cells each holds, how long they ran, what they share.

A teacher plans a session section by section, so the runner times every code cell and
this module sums those times per section. A section starts at a Markdown cell with a
level-2 heading (``## 3. Train``) and runs to the next one; the cells before the first
heading (the title, the setup cell, ``edgelab.notebook.start``) are section 0, "before
the first section". A Markdown cell with two level-2 headings starts two sections, the
first of them without code.

:func:`split` reads the sections from a notebook; :func:`timed` adds the seconds each one
took from the runner's ``[cell index, seconds]`` pairs; :func:`record` writes them as
results rows (``run.<notebook>.section.<NN>.minutes``, the section's title in ``note``)
next to the notebook's own ``run.<notebook>.minutes``, with the same time stamp, so that
:func:`recorded` finds the sections of one run again. :func:`dataflow` says which names
each section defines that a later section uses: where a teacher can cut, and what the
cells after a cut then lack.

Nothing here imports TensorFlow or runs a notebook.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

HEADING = re.compile(r"^##\s+(?P<title>\S.*?)\s*#*\s*$")
PREFACE = "Before the first section (title, setup)"
KEY_PREFIX = "run.{stem}.section."


@dataclass
class Section:
    """One ``##`` section of a notebook."""

    number: int                                        # 0: before the first heading
    title: str
    cells: list[int] = field(default_factory=list)     # every cell index in the section
    code_cells: list[int] = field(default_factory=list)
    words: int = 0                                     # words of prose (Markdown cells)
    code_lines: int = 0                                # non-blank, non-comment code lines
    seconds: float | None = None                       # measured, summed over its code cells

    @property
    def minutes(self) -> float | None:
        return None if self.seconds is None else self.seconds / 60

    def as_dict(self) -> dict:
        """What the runner keeps in ``status.json`` and records (see :func:`record`)."""
        return {"number": self.number, "title": self.title, "code_cells": len(self.code_cells),
                "first_cell": self.code_cells[0] if self.code_cells else None,
                "last_cell": self.code_cells[-1] if self.code_cells else None,
                "seconds": self.seconds}


def _source(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _read(notebook):
    if isinstance(notebook, (str, Path)):
        import nbformat

        return nbformat.read(str(notebook), as_version=4)
    return notebook


def headings(text: str) -> list[str]:
    """The level-2 headings in a Markdown text, in order (fenced code ignored)."""
    found, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else HEADING.match(line)
        if m:
            found.append(m.group("title"))
    return found


def _chunks(text: str) -> list[str]:
    """``text`` cut at its level-2 headings: the part before the first, then one per heading."""
    parts, fenced, current = [], False, []
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and HEADING.match(line):
            parts.append("\n".join(current))
            current = []
            continue
        current.append(line)
    parts.append("\n".join(current))
    return parts


def _words(text: str) -> int:
    return len(re.findall(r"[^\W\d_][\w'’-]*", text))


def _code_lines(text: str) -> int:
    return sum(1 for line in text.splitlines()
               if line.strip() and not line.strip().startswith("#"))


def split(notebook) -> list[Section]:
    """The sections of ``notebook`` (a path or an nbformat node), section 0 first."""
    nb = _read(notebook)
    sections = [Section(0, PREFACE)]
    for index, cell in enumerate(nb.cells):
        text = _source(cell)
        if cell.get("cell_type") == "markdown":
            # the words before a cell's first heading belong to the section it continues,
            # those after each heading to that heading's section
            chunks = _chunks(text)
            sections[-1].words += _words(chunks[0])
            for title, chunk in zip(headings(text), chunks[1:]):
                sections.append(Section(len(sections), title))
                sections[-1].words += _words(title) + _words(chunk)
            sections[-1].cells.append(index)
        else:
            sections[-1].cells.append(index)
            if cell.get("cell_type") == "code":
                sections[-1].code_cells.append(index)
                sections[-1].code_lines += _code_lines(text)
    return sections


def timed(notebook, cell_seconds: Iterable) -> list[Section]:
    """:func:`split` with each section's measured seconds (``cell_seconds``: the runner's
    ``[cell index, seconds]`` pairs). A section none of whose code cells ran (the run
    stopped before it) gets ``None``; one without code cells gets 0."""
    seconds = {int(i): float(s) for i, s in cell_seconds}
    sections = split(notebook)
    for s in sections:
        ran = [seconds[i] for i in s.code_cells if i in seconds]
        s.seconds = round(sum(ran), 2) if ran or not s.code_cells else None
    return sections


# --------------------------------------------------------------------------- results rows

def section_key(stem: str, number: int) -> str:
    return f"{KEY_PREFIX.format(stem=stem)}{number:02d}.minutes"


def is_section_key(key: str) -> bool:
    return key.startswith("run.") and ".section." in key


def record(stem: str, sections: list[dict], *, time: str, file=None) -> None:
    """Write one results row per timed section (``sections``: :meth:`Section.as_dict`
    of each; see the module docstring)."""
    from edgelab.core import results

    for s in sections:
        if s["seconds"] is None:
            continue
        results.record(section_key(stem, s["number"]), round(s["seconds"] / 60, 3), "min",
                       note=s["title"], source="edgelab run", time=time, file=file,
                       extra={k: s[k] for k in ("code_cells", "first_cell", "last_cell")})


@dataclass
class RecordedSection:
    number: int
    title: str
    minutes: float
    code_cells: int | None = None
    first_cell: int | None = None
    last_cell: int | None = None

    def holds(self, cell: int | None) -> bool:
        return cell is not None and self.first_cell is not None and \
            self.first_cell <= cell <= self.last_cell


@dataclass
class RecordedRun:
    """The sections of one recorded run of one notebook."""

    notebook: str
    profile: str
    hardware: str
    time: str
    minutes: float                      # the notebook's whole wall time in that run
    sections: list[RecordedSection]
    longest_cell: int | None = None     # the cell that took longest (the main loop)
    longest_minutes: float | None = None

    @property
    def date(self) -> str:
        return self.time[:10]


def recorded(rows: Iterable[dict], stem: str, profile: str,
             hardware: str | None = None) -> RecordedRun | None:
    """The newest run of notebook ``stem`` in ``profile`` (on ``hardware`` if given) that
    recorded its sections; None when no such run is recorded."""
    rows = [r for r in rows if r.get("profile") == profile
            and (hardware is None or r.get("hardware") == hardware)]
    prefix = KEY_PREFIX.format(stem=stem)
    stamps = {(r.get("time"), r.get("hardware")) for r in rows if r.get("key", "").startswith(prefix)}
    totals = [r for r in rows if r.get("key") == f"run.{stem}.minutes"
              and (r.get("time"), r.get("hardware")) in stamps]
    if not totals:
        return None
    total = max(totals, key=lambda r: r.get("time", ""))
    found = {}
    for r in rows:
        key = r.get("key", "")
        if key.startswith(prefix) and r.get("time") == total.get("time") \
                and r.get("hardware") == total.get("hardware"):
            number = int(key[len(prefix):].split(".")[0])
            found[number] = RecordedSection(number, r.get("note", ""), float(r["value"]),
                                            r.get("code_cells"), r.get("first_cell"),
                                            r.get("last_cell"))
    longest = next((r for r in rows if r.get("key") == f"run.{stem}.longest_cell_minutes"
                    and r.get("time") == total.get("time")
                    and r.get("hardware") == total.get("hardware")), None)
    return RecordedRun(stem, profile, total.get("hardware", ""), total.get("time", ""),
                       float(total["value"]), [found[k] for k in sorted(found)],
                       longest_cell=None if longest is None else longest.get("cell"),
                       longest_minutes=None if longest is None else float(longest["value"]))


# --------------------------------------------------------------------------- data flow

_BUILTINS = set(dir(builtins)) | {"display", "get_ipython", "In", "Out", "_", "__", "___"}
# Methods that change their object in place: a section that calls ``model.fit(...)`` hands
# a trained ``model`` to later sections, as if it had defined it.
MUTATORS = {"fit", "train", "compile", "run", "load_weights", "set_weights", "restore",
            "load_state_dict", "train_on_batch"}


def _mutated(tree: ast.Module) -> set[str]:
    """Names whose object a cell's top-level statements change in place (``x.fit(...)``)."""
    found = set()
    for stmt in tree.body:
        value = getattr(stmt, "value", None) if isinstance(stmt, (ast.Expr, ast.Assign,
                                                                   ast.AnnAssign)) else None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                and isinstance(value.func.value, ast.Name) and value.func.attr in MUTATORS:
            found.add(value.func.value.id)
    return found


def _imported(tree: ast.Module) -> set[str]:
    return {(a.asname or a.name).split(".")[0] for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom)) for a in node.names}


def _names(code: str) -> tuple[set[str], set[str]]:
    """(names a cell binds at top level, names it reads that it did not bind first)."""
    defined, used, _ = _analyse(code)
    return defined, used


def _analyse(code: str) -> tuple[set[str], set[str], set[str]]:
    """(names a cell binds at top level, names it reads that it did not bind first, names
    of objects it changes in place and did not import)."""
    code = "\n".join(line for line in code.splitlines()
                     if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set(), set(), set()
    defined: set[str] = set()
    used: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def __init__(self):
            self.scopes: list[set[str]] = []

        def _bind(self, name):
            (self.scopes[-1] if self.scopes else defined).add(name)

        def visit_Name(self, node):
            if isinstance(node.ctx, ast.Load):
                if not any(node.id in s for s in self.scopes) and node.id not in defined:
                    used.add(node.id)
            else:
                self._bind(node.id)

        def _function(self, node):
            self._bind(node.name)
            for d in node.decorator_list:
                self.visit(d)
            args = node.args
            for default in args.defaults + args.kw_defaults:
                if default is not None:
                    self.visit(default)
            names = {a.arg for a in args.args + args.kwonlyargs + args.posonlyargs}
            names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
            self.scopes.append(names)
            for stmt in node.body:
                self.visit(stmt)
            self.scopes.pop()

        visit_FunctionDef = visit_AsyncFunctionDef = _function

        def visit_Lambda(self, node):
            args = node.args
            self.scopes.append({a.arg for a in args.args + args.kwonlyargs + args.posonlyargs})
            self.visit(node.body)
            self.scopes.pop()

        def visit_ClassDef(self, node):
            self._bind(node.name)
            for b in node.bases + node.decorator_list:
                self.visit(b)
            self.scopes.append(set())
            for stmt in node.body:
                self.visit(stmt)
            self.scopes.pop()

        def _comprehension(self, node):
            self.scopes.append(set())
            for gen in node.generators:
                self.visit(gen.iter)
                self.visit(gen.target)
                for cond in gen.ifs:
                    self.visit(cond)
            for part in ("elt", "key", "value"):
                if getattr(node, part, None) is not None:
                    self.visit(getattr(node, part))
            self.scopes.pop()

        visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

        # The value is read before the target is bound: ``x = f(x)`` reads the old ``x``.
        def visit_Assign(self, node):
            self.visit(node.value)
            for target in node.targets:
                self.visit(target)

        def visit_AnnAssign(self, node):
            if node.value is not None:
                self.visit(node.value)
            self.visit(node.target)

        def visit_AugAssign(self, node):
            self.visit(node.value)
            if isinstance(node.target, ast.Name):
                self.visit(ast.Name(node.target.id, ast.Load()))
            self.visit(node.target)

        def visit_For(self, node):
            self.visit(node.iter)
            self.visit(node.target)
            for stmt in node.body + node.orelse:
                self.visit(stmt)

        visit_AsyncFor = visit_For

        def visit_Import(self, node):
            for a in node.names:
                self._bind((a.asname or a.name).split(".")[0])

        visit_ImportFrom = visit_Import

        def visit_ExceptHandler(self, node):
            if node.name:
                self._bind(node.name)
            self.generic_visit(node)

    Visitor().visit(tree)
    return defined, used - _BUILTINS, _mutated(tree) - _imported(tree)


@dataclass
class Dependency:
    """Section ``later`` reads ``names`` that section ``earlier`` was the last to define."""

    earlier: int
    later: int
    names: list[str]


def dataflow(notebook, sections: list[Section] | None = None) -> list[Dependency]:
    """Which names each section takes from an earlier one (the earlier section being the
    last, before it, to bind the name or to change its object in place, as ``model.fit``
    does: see :data:`MUTATORS`). Cutting section ``earlier`` leaves ``later`` without those
    names (or with an untrained model), unless the teacher runs ``earlier``'s cells anyway."""
    nb = _read(notebook)
    sections = sections or split(nb)
    owner: dict[str, int] = {}
    deps: dict[tuple[int, int], set[str]] = {}
    for s in sections:
        bound_here: set[str] = set()
        for index in s.code_cells:
            defined, used, mutated = _analyse(_source(nb.cells[index]))
            for name in used - bound_here:
                if name in owner and owner[name] != s.number:
                    deps.setdefault((owner[name], s.number), set()).add(name)
            bound_here |= defined | mutated
        for name in bound_here:
            owner[name] = s.number
    return [Dependency(a, b, sorted(names)) for (a, b), names in sorted(deps.items())]
