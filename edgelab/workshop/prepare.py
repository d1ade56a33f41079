"""``edgelab prepare [LESSON...]``: do before the day what the lessons would do in class.

For each lesson asked for (all by default), in order:

1. **data**: fetch its datasets and weights into the verified cache (from
   ``EDGELAB_MIRROR`` when set, else the canonical URLs; every byte checked);
2. **builds**: what a lesson makes on first use, e.g. notebook 05's TF Hub MobileNet
   modules (downloaded when online, built from the mirrored Keras weights offline);
3. **models from earlier lessons**: the call the later lesson makes, so the model it
   would otherwise train in class is there, e.g. 02's Xception for 03 (notebook 03 calls
   ``xception.load_or_train``: it loads what notebook 02 saved, or trains the small
   fallback and saves it where notebook 02 would have), 01's CNN and a flower classifier
   for 07. To give 03 the Xception notebook 02 really trains, run notebook 02 instead
   (``edgelab run notebooks/02_*.ipynb``).

It prints the plan first: each step, whether it is already done, and its estimate (the
megabytes to fetch; the minutes a step took when it last ran on this machine, which
``prepare`` records in the machine's history, ``prepare.<step>.minutes``). A progress bar
follows the steps. It is idempotent: what is done is checked (checksums, build stamps,
saved models) and skipped, so a second run takes seconds. Models go to this profile's
outputs folder (``EDGELAB_OUT``, or ``~/.cache/edgelab/outputs/<profile>``), the one the
notebooks will use: prepare in the profile the class will run (``--profile``).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Callable

from edgelab.core import machine, profiles, results
from edgelab.workshop import lessons as catalogue


@dataclass
class Step:
    key: str                         # for the recorded time: prepare.<key>.minutes
    what: str
    done: Callable[[], bool]
    run: Callable[[], str]           # returns one line saying what it did
    megabytes: float | None = None   # what it fetches, when it is a download


def _data_step(name: str) -> Step:
    from edgelab.datasets import cache, registry

    ds = registry.get(name)

    def missing():
        return [f for f in ds.files
                if not (cache.cache_path(f).is_file() and cache.matches(cache.cache_path(f), f.hash))]

    def run() -> str:
        cache.fetch(name, progress=True)
        return f"{len(ds.files)} file(s) verified"

    absent = missing()
    size = None if ds.size is None else ds.size * len(absent) / len(ds.files) / 1e6
    return Step(f"data.{name}", f"data: {name}", lambda: not missing(), run, size)


def steps_for(selected: list[catalogue.Lesson]) -> list[Step]:
    """The steps for ``selected``, each once, in lesson order."""
    steps: dict[str, Step] = {}
    for lesson in selected:
        for name in lesson.datasets:
            steps.setdefault(f"data.{name}", _data_step(name))
    for lesson in selected:
        for i, b in enumerate(lesson.builds, 1):
            steps.setdefault(f"build.{lesson.number}.{i}",
                             Step(f"build.{lesson.number}.{i}", f"build for {lesson.number}: {b.what}",
                                  b.done, b.make))
        for i, h in enumerate(lesson.handovers, 1):
            key = f"model.{lesson.number}.{i}"
            steps.setdefault(key, Step(key, f"model for {lesson.number}: {h.what}",
                                       lambda h=h: h.present() is not None, h.make))
    return list(steps.values())


def recorded_minutes(rows: list[dict], key: str, profile: str, hardware: str) -> float | None:
    found = [r for r in rows if r.get("key") == f"prepare.{key}.minutes"
             and r.get("profile") == profile and r.get("hardware") == hardware]
    return float(max(found, key=lambda r: r.get("time", ""))["value"]) if found else None


def _size(megabytes: float) -> str:
    return f"{megabytes:,.1f} MB" if megabytes >= 0.1 else f"{megabytes * 1000:,.0f} KB"


def plan_lines(steps: list[Step], profile: str, rows: list[dict]) -> tuple[list[str], list[bool]]:
    from edgelab.run.plan import duration

    hardware = machine.hardware_line()
    done = [s.done() for s in steps]
    width = max(len(s.what) for s in steps) if steps else 10
    width = min(width, 78)
    lines = [f"edgelab prepare: {len(steps)} step(s), profile {profile}, machine: {hardware}"]
    total, unknown, fetch = 0.0, 0, 0.0
    for s, finished in zip(steps, done):
        if finished:
            estimate = "done"
        else:
            minutes = recorded_minutes(rows, s.key, profile, hardware)
            parts = []
            if s.megabytes is not None:
                fetch += s.megabytes
                parts.append(f"{_size(s.megabytes)} to fetch")
            if minutes is not None:
                total += minutes
                parts.append(f"{duration(minutes)} last time here")
            elif s.megabytes is None:
                unknown += 1
                parts.append("not timed here yet")
            estimate = ", ".join(parts)
        what = s.what if len(s.what) <= width else s.what[:width - 3] + "..."
        lines.append(f"  {what:<{width}}  {estimate}")
    todo = len(done) - sum(done)
    if todo == 0:
        lines.append("everything is already prepared.")
    else:
        parts = [f"{_size(fetch)} to fetch"] if fetch else []
        if total:
            parts.append(f"{duration(total)} of building and training (as measured here before)")
        if unknown:
            parts.append(f"{unknown} step(s) never timed on this machine (they build or train "
                         "a model: a progress bar shows how far they are)")
        lines.append(f"to do: {todo} step(s): " + "; ".join(parts))
    return lines, done


def _quiet_tensorflow() -> None:
    """Import TensorFlow once with its C++ start-up lines kept off the terminal, as
    ``edgelab.notebook.start`` does in a notebook (the builds and models need it)."""
    if "tensorflow" in sys.modules:
        return
    from edgelab.core.quiet import native_silenced
    from edgelab.notebook import quiet_logs

    quiet_logs()
    try:
        with native_silenced(fds=(2,)):
            import tensorflow  # noqa: F401
    except ImportError:
        pass                   # the step itself will say what is missing


def prepare(selected: list[catalogue.Lesson], *, profile: str, progress: bool = True,
            say=print) -> int:
    """Run the steps for ``selected``; return the number that failed."""
    from edgelab.core.progress import bar
    from edgelab.datasets.cache import DataError
    from edgelab.run import plan as planning

    os.environ[profiles.ENV_VAR] = profile
    steps = steps_for(selected)
    rows = planning.recorded_rows()
    lines, done = plan_lines(steps, profile, rows)
    say("\n".join(lines))
    todo = [s for s, d in zip(steps, done) if not d]
    if not todo:
        return 0
    failed = 0
    timing = []
    with bar(total=len(todo), desc="prepare", unit="step", disable=not progress) as progress_bar:
        for s in todo:
            progress_bar.set_postfix_str(s.key, refresh=True)
            if s.megabytes is None and s.done():   # an earlier step made it (e.g. 03 for 07)
                progress_bar.update(1)
                progress_bar.write(f"{s.what}: done by an earlier step", file=sys.stdout)
                continue
            if s.megabytes is None:
                _quiet_tensorflow()
            began = time.perf_counter()
            try:
                message = s.run()
            except DataError as err:
                failed += 1
                message = f"FAILED: {str(err).splitlines()[0]}"
                detail = "\n".join(str(err).splitlines()[1:])
                if detail:
                    message += "\n" + detail
            except Exception as err:  # noqa: BLE001 - one failed step must not stop the others
                failed += 1
                message = f"FAILED: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            else:
                minutes = (time.perf_counter() - began) / 60
                if s.megabytes is None:      # downloads depend on the network, not the machine
                    timing.append({"key": f"prepare.{s.key}.minutes", "value": round(minutes, 3),
                                   "unit": "min", "profile": profile,
                                   "hardware": machine.hardware_line(), "time": results.now(),
                                   "source": "edgelab prepare"})
            progress_bar.update(1)
            progress_bar.write(f"{s.what}: {message}", file=sys.stdout)
    planning.remember(timing)
    say(f"prepare: {len(todo) - failed} of {len(todo)} step(s) done"
        + (f", {failed} FAILED (see above)" if failed else "")
        + "; run it again to check: finished steps are skipped.")
    return failed


EXAMPLES = """examples:
  edgelab prepare                    everything every lesson needs, before the day
  edgelab prepare 03 07              data, Hub modules and earlier models for 03 and 07
  edgelab prepare 05 --plan          what it would do and how long, without doing it
  EDGELAB_MIRROR=http://10.0.0.5:8765 edgelab prepare   from the classroom mirror

Run it in the profile the class will use (--profile, or EDGELAB_PROFILE); the models it
trains go to that profile's outputs folder, where the notebooks will look."""


def register(subparsers) -> None:
    import argparse

    p = subparsers.add_parser(
        "prepare", help="fetch, build and train ahead of time what the lessons need",
        description="Do ahead of time what the lessons would do in class: verified downloads, "
                    "notebook 05's Hub modules, the models later lessons load. Prints the plan "
                    "first; a second run skips what is done.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lessons", nargs="*", metavar="LESSON",
                   help="lesson numbers or notebooks (default: all), e.g. 03")
    p.add_argument("--profile", choices=profiles.PROFILES, default=None,
                   help="the profile the class will run (default: $EDGELAB_PROFILE, else the "
                        "one that fits this machine)")
    p.add_argument("--plan", action="store_true", help="print the plan and do nothing")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_cli)


def _cli(args) -> int:
    try:
        selected = catalogue.select(args.lessons)
    except catalogue.UnknownLesson as err:
        print(f"edgelab prepare: {err}", file=sys.stderr)
        return 2
    try:
        profile = args.profile or profiles.current()
    except profiles.ProfileError as err:
        print(f"edgelab prepare: {err}", file=sys.stderr)
        return 2
    try:
        if args.plan:
            from edgelab.run import plan as planning

            os.environ[profiles.ENV_VAR] = profile
            lines, _ = plan_lines(steps_for(selected), profile, planning.recorded_rows())
            print("\n".join(lines))
            return 0
        return 1 if prepare(selected, profile=profile, progress=not args.no_progress) else 0
    except Exception as err:  # noqa: BLE001 - one line, never a traceback
        first = str(err).splitlines()[0] if str(err) else ""
        print(f"edgelab prepare: {type(err).__name__}: {first}", file=sys.stderr)
        return 1
