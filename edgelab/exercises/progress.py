"""The learner's progress on this machine: a small local record of checks and solutions.

One JSON file, ``$EDGELAB_HOME/progress/exercises.json`` (default home
``~/.cache/edgelab``), written atomically after every ``check`` and ``solution()``. Per
exercise it keeps: the first time it was passed, the number of checks, the last verdict,
and whether the solution was shown, and when. A pass that comes after the solution was
shown is reported as such, so a teacher who asks a room to run ``edgelab exercises`` sees
who solved what on their own. Nothing leaves the machine.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Iterable

from edgelab.core import paths
from edgelab.core.atomic import atomic_write

FILE = Path("progress") / "exercises.json"


def progress_file() -> Path:
    return paths.home() / FILE


def load() -> dict:
    path = progress_file()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        # A damaged record must never stop a lesson: start a new one, keep the old aside.
        try:
            path.replace(path.with_suffix(".damaged.json"))
        except OSError:
            pass
        return {}
    return data if isinstance(data, dict) else {}


def _save(data: dict) -> None:
    path = progress_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        json.dump(data, f, indent=1, sort_keys=True)


def _now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _entry(data: dict, notebook: str, number: int) -> dict:
    return data.setdefault(notebook, {}).setdefault(str(number), {})


def note_check(result) -> None:
    """Record one ``check`` verdict (``result`` is an :class:`~edgelab.exercises.Result`).
    A cell run as the notebook gives it ("not done yet") is not an attempt: not recorded."""
    if result.status == "not_done":
        return
    try:
        data = load()
        entry = _entry(data, result.notebook, result.number)
        entry["checks"] = int(entry.get("checks", 0)) + 1
        entry["last"] = result.status
        if result.passed and "passed" not in entry:
            entry["passed"] = _now()
            entry["after_solution"] = "solution_viewed" in entry
        _save(data)
    except OSError:
        pass  # a read-only home: the check itself has been shown; progress is a courtesy


def note_solution_viewed(notebook: str, number: int) -> None:
    try:
        data = load()
        entry = _entry(data, notebook, number)
        entry.setdefault("solution_viewed", _now())
        _save(data)
    except OSError:
        pass


def reset(notebooks: Iterable[str] | None = None) -> None:
    data = load()
    for nb in (list(data) if notebooks is None else list(notebooks)):
        data.pop(nb, None)
    _save(data)


def state(entry: dict) -> str:
    """One word (or a few) for an exercise's progress."""
    if "passed" in entry:
        return "passed after viewing the solution" if entry.get("after_solution") else "passed"
    if "solution_viewed" in entry:
        return "solution viewed, not passed"
    if entry.get("checks"):
        return "tried, not passed yet"
    return "not tried"


def rows(exercise_sets: Iterable) -> list[dict]:
    """One row per exercise of the given :class:`~edgelab.exercises.ExerciseSet` objects,
    with its progress."""
    data = load()
    out = []
    for ex_set in exercise_sets:
        nb = ex_set.notebook
        for ex in ex_set:
            entry = data.get(nb, {}).get(str(ex.number), {})
            out.append(dict(notebook=nb, number=ex.number, title=type(ex).text("title"),
                            state=state(entry), checks=int(entry.get("checks", 0)),
                            passed=entry.get("passed", "")[:16].replace("T", " ")))
    return out


def format_table(table: list[dict]) -> str:
    if not table:
        return "no exercises found"
    width = max(len(r["title"]) for r in table)
    lines = [f"{'ex':5s} {'title':{width}s}  {'progress':34s} {'checks':>6s}  passed at"]
    for r in table:
        lines.append(f"{r['notebook']}.{r['number']:<2d} {r['title']:{width}s}  {r['state']:34s} "
                     f"{r['checks']:>6d}  {r['passed']}")
    done = sum(r["state"].startswith("passed") for r in table)
    on_own = sum(r["state"] == "passed" for r in table)
    lines.append(f"{done} of {len(table)} passed ({on_own} without viewing the solution)")
    return "\n".join(lines)
