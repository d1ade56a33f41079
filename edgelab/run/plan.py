"""How long each notebook will take on this machine, said before anything runs.

``edgelab run --plan`` prints the plan and stops; a normal ``edgelab run`` prints it first
and keeps an ETA while it goes. Every estimate comes from a figure **measured** earlier on
this machine, never from a time written into the code:

1. **measured here**: the ``run.<notebook>.minutes`` recorded on this machine (same
   :func:`edgelab.core.machine.hardware_line`) in this profile: the median of the newest
   :data:`RECENT_RUNS`, so one run on a busy machine does not set the next plan alone. The rows come from the
   committed ``benchmarks/results.jsonl`` and from this machine's own history
   (``$EDGELAB_HOME/history.jsonl``, or ``$EDGELAB_HISTORY``), to which every
   ``edgelab run`` adds the times it measured;
2. **scaled from the other profile here**: the run of that notebook in the other profile
   on this machine, with its longest cell (the main loop, ``run.<notebook>.longest_cell_minutes``)
   times the ratio of the work the two profiles ask of the lesson's main loop
   (:data:`WORK`: which sizes the work grows with, and how fast) and the other cells as
   they were. Without a longest-cell figure the whole run is scaled, an upper bound. Such
   a figure is rough and says so;
3. **scaled from another machine**: where nothing is recorded here, a ten-second
   calibration (:mod:`edgelab.run.calibrate`: training steps of a small CNN on this
   machine's default device) against the same calibration recorded on a machine that has
   run times, and that machine's estimate divided by the speed ratio. Rough too.

A notebook with none of these gets no estimate, and the plan says so.

``--sections`` shares each estimate out over the notebook's ``##`` sections, in proportion
to the newest run that recorded per-section times (:func:`section_estimates`).

Cell timeouts follow from the plan: :func:`cell_timeout` is :data:`TIMEOUT_MULTIPLE` times
the notebook's whole estimate, at least :data:`TIMEOUT_FLOOR_S`, so a long training cell
that the estimate foresaw is not killed, while a hung cell still is.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from edgelab.core import machine, paths, profiles, results
from edgelab.run import sections as sectioning

HISTORY_VAR = "EDGELAB_HISTORY"
CALIBRATION_KEY = "calibration.train_images_per_s"
HOUR_ADVICE_MINUTES = 60        # a CPU estimate above this comes with advice
TIMEOUT_MULTIPLE = 3            # a cell may take this many times its notebook's estimate
TIMEOUT_FLOOR_S = 600           # ... but never less than this
TIMEOUT_UNKNOWN_S = 4 * 3600    # the limit when there is no estimate at all
RECENT_RUNS = 3                 # an estimate is the median of this many newest runs

# lesson (its profiles.SIZES name) -> {size: exponent}: the work of the lesson's main loop
# grows like the product of these sizes to these powers (pixels grow with the square of
# a side, convolution arithmetic with the square of a width multiplier). Only used to
# carry a time measured in one profile over to the other; sizes not named do not count.
WORK: dict[str, dict[str, float]] = {
    "mnist": {"train_examples": 1, "epochs": 1},
    # xception's width exponent is measured, not 2: on 2 CPU cores the full profile's run
    # went at 46 s an epoch at its end (benchmarks/results.jsonl, 2026-12-03:
    # xception.full_run.seconds_per_epoch; epochs 69-150 took 64.0 min, 47 s each) against
    # 3.4 s for the quick profile's (xception.train_minutes, 10 epochs in 0.572 min), a ratio
    # of 13.4 where image_size^2 x width^2 predicted 39: thin convolutions are overhead-bound
    # on a CPU (the full profile's 8 middle blocks against 2 are folded in). width^1.25
    # gives 13.7. With ^2 the plan said 8.1 h. bench_xception's step times said 4.4 h on
    # 2026-12-01, when the machine was busy (its ResNet-50 reference ran at 12 img/s, against
    # 40 img/s quiet), and 1.65 h measured again quiet on 2026-12-03; the run's pace makes
    # 1.9 h of training.
    "xception": {"epochs": 1, "image_size": 2, "width_multiplier": 1.25},
    "gradcam": {"flower_image_size": 2, "flower_epochs": 1},
    "chainer": {"train_examples": 1, "epochs": 1},
    "hub": {"image_size": 2, "finetune_epochs": 1},
    "lineart": {"pair_images": 1, "pair_max_side": 2},
    "edge": {"compress_examples": 1, "distill_epochs": 1},
    # pytorch's width exponent is measured too: the full profile's training cell took 19.35
    # min (2026-12-03) against 8.4 s for the quick one on the same machine, a ratio of 138
    # where image_size^2 x width^2 x epochs predicted 213; width^1.4 gives 141.
    "pytorch": {"image_size": 2, "width": 1.4, "epochs": 1},
}


@dataclass
class Estimate:
    """One notebook's expected wall time here and where that figure comes from."""

    notebook: str                 # file stem, e.g. "02_xception_sonnet_flowers"
    minutes: float | None
    basis: str
    rough: bool = False
    # per ## section: (title, minutes); see section_estimates. Empty when none is recorded.
    sections: list[tuple[str, float]] = field(default_factory=list)

    @property
    def seconds(self) -> float | None:
        return None if self.minutes is None else self.minutes * 60


@dataclass
class Plan:
    profile: str
    reason: str
    override: str
    hardware: str
    accelerator: str
    estimates: list[Estimate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    show_sections: bool = False       # lines() lists each notebook's sections too

    def _section_lines(self, e: Estimate, width: int) -> list[str]:
        if e.minutes is None:
            return []
        if not e.sections:
            return [f"  {'':<{width}}  {'':>9}     (no run with per-section times recorded)"]
        lines, column = [], max(width + 8, 50)
        for title, minutes in e.sections:
            short = title if len(title) <= column else title[:column - 3] + "..."
            lines.append(f"    {short:<{column}}{('~' if e.rough else '') + duration(minutes):>8}")
        return lines

    @property
    def total_minutes(self) -> float:
        return sum(e.minutes for e in self.estimates if e.minutes is not None)

    def estimate(self, notebook: str) -> Estimate | None:
        stem = Path(notebook).stem
        return next((e for e in self.estimates if e.notebook == stem), None)

    def advice(self) -> list[str]:
        """What to do about estimates over an hour on a machine without an accelerator."""
        if self.accelerator != "none":
            return []
        long = [e for e in self.estimates
                if e.minutes is not None and e.minutes > HOUR_ADVICE_MINUTES]
        if not long:
            return []
        names = ", ".join(f"{e.notebook} ({duration(e.minutes)})" for e in long)
        lines = [f"advice: {names} would take over an hour on this CPU-only machine."]
        if self.profile == "full":
            lines.append("  Run the full profile on a GPU runtime (Colab: Runtime > Change "
                         "runtime type > GPU), or use the quick profile here: --profile quick "
                         "(make curriculum PROFILE=quick).")
        else:
            lines.append("  Use a GPU runtime (Colab: Runtime > Change runtime type > GPU).")
        return lines

    def lines(self) -> list[str]:
        out = [f"edgelab run: profile {self.profile} ({self.reason})",
               f"  {self.override}",
               f"  machine: {self.hardware}"]
        width = max([len(e.notebook) for e in self.estimates] + [8])
        out.append(f"plan: {len(self.estimates)} notebook(s), estimated wall time here")
        for e in self.estimates:
            shown = "unknown" if e.minutes is None else \
                ("~" if e.rough else "") + duration(e.minutes)
            out.append(f"  {e.notebook:<{width}}  {shown:>9}   {e.basis}")
            if self.show_sections:
                out += self._section_lines(e, width)
        known = [e for e in self.estimates if e.minutes is not None]
        if known:
            missing = len(self.estimates) - len(known)
            out.append(f"  {'total':<{width}}  {duration(self.total_minutes):>9}"
                       + (f"   (+ {missing} notebook(s) without an estimate)" if missing else ""))
        out += self.advice() + self.notes
        return out

    def text(self) -> str:
        return "\n".join(self.lines())


def duration(minutes: float) -> str:
    """``0.4`` -> ``"24 s"``, ``4.25`` -> ``"4.2 min"``, ``150`` -> ``"2.5 h"``."""
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    if minutes < 60:
        return f"{minutes:.1f} min"
    return f"{minutes / 60:.1f} h"


def history_file() -> Path:
    """This machine's own record of run times (appended to by every ``edgelab run``)."""
    value = os.environ.get(HISTORY_VAR)
    return Path(value).expanduser() if value else paths.home() / "history.jsonl"


def recorded_rows() -> list[dict]:
    """Every figure the plan may draw on: the committed benchmarks file and the history."""
    files = [history_file()]
    root = paths.project_root()
    if root is not None:
        files.insert(0, root / "benchmarks" / "results.jsonl")
    rows: list[dict] = []
    seen: set[tuple] = set()
    for f in files:
        try:
            loaded = results.load(f)
        except ValueError:      # a damaged history line must not stop a run
            continue
        for row in loaded:
            # a run recorded with `make record-run` is in both files: count it once
            ident = tuple(row.get(k) for k in ("key", "time", "profile", "hardware", "value"))
            if ident not in seen:
                seen.add(ident)
                rows.append(row)
    return rows


def remember(rows: Iterable[dict]) -> None:
    """Add rows (a run's times, a calibration) to this machine's history file."""
    rows = list(rows)
    if not rows:
        return
    target = history_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


def lessons_of(notebook: str | os.PathLike) -> list[str]:
    """The lessons whose sizes a notebook asks for (``sizes("xception")``), in order."""
    try:
        text = Path(notebook).read_text(encoding="utf-8")
    except OSError:
        return []
    names = re.findall(r"sizes\(\\?[\"']([a-z_0-9]+)\\?[\"']", text)
    return [n for n in dict.fromkeys(names) if n in profiles.SIZES]


def work_ratio(lesson: str, profile: str, other: str) -> float | None:
    """How many times more work ``profile`` asks of ``lesson`` than ``other`` (see WORK)."""
    exponents = WORK.get(lesson)
    if not exponents or lesson not in profiles.SIZES:
        return None
    a, b = profiles.SIZES[lesson][profile], profiles.SIZES[lesson][other]
    ratio = 1.0
    for size, power in exponents.items():
        if size not in a or size not in b or not b[size]:
            return None
        ratio *= (float(a[size]) / float(b[size])) ** power
    return ratio


def _newest(rows: Iterable[dict], key: str, profile: str, hardware: str) -> dict | None:
    """The newest row of ``key``, its value replaced by the median of the newest
    RECENT_RUNS rows and ``runs`` added (how many went into it); None if there is none."""
    import statistics

    # a run that resumed from its checkpoints timed only its last stretch: not an estimate
    found = [r for r in rows if r.get("key") == key and r.get("profile") == profile
             and r.get("hardware") == hardware and isinstance(r.get("value"), (int, float))
             and not r.get("resumed_from_epoch")]
    recent = sorted(found, key=lambda r: r.get("time", ""))[-RECENT_RUNS:]
    if not recent:
        return None
    return {**recent[-1], "value": statistics.median(r["value"] for r in recent),
            "runs": len(recent)}


def _estimate_on(rows: list[dict], stem: str, lessons: list[str], profile: str,
                 hardware: str) -> tuple[float, str, bool] | None:
    """(minutes, basis, rough) for one notebook from the figures of one machine."""
    key = f"run.{stem}.minutes"
    row = _newest(rows, key, profile, hardware)
    if row is not None:
        how = f"median of {row['runs']} runs" if row["runs"] > 1 else "one run"
        return float(row["value"]), f"measured here ({how}, newest {row.get('time', '')[:10]})", False
    other = "quick" if profile == "full" else "full"
    row = _newest(rows, key, other, hardware)
    if row is None:
        return None
    longest = _newest(rows, f"run.{stem}.longest_cell_minutes", other, hardware)
    for lesson in lessons:
        ratio = work_ratio(lesson, profile, other)
        if ratio is None:
            continue
        work = " x ".join(f"{k}^{p:g}" if p != 1 else k for k, p in WORK[lesson].items())
        total = float(row["value"])
        if longest is not None and 0 < float(longest["value"]) <= total:
            main = float(longest["value"])
            return (total - main + main * ratio,
                    f"scaled: the {other} run here ({duration(total)}) with its longest cell "
                    f"({duration(main)}) x {ratio:,.3g}, the ratio of {lesson}'s {work}", True)
        return (total * ratio,
                f"scaled: the whole {other} run here ({duration(total)}) x {ratio:,.3g}, the "
                f"ratio of {lesson}'s {work} (an upper bound: set-up time is scaled too)", True)
    return None


def section_estimates(rows: list[dict], estimate: Estimate, lessons: list[str], profile: str,
                      hardware: str) -> list[tuple[str, float]]:
    """The notebook's estimate shared out over its ``##`` sections, in proportion to the
    sections of a recorded run (:func:`edgelab.run.sections.recorded`): one of this profile
    here if there is one, else of the other profile here, else of this profile and then the
    other on any machine. A run of the other profile first has its longest cell (the main
    loop) scaled by the lesson's work ratio, as the notebook's estimate was. The part of
    the run's wall time outside any cell (the kernel starting) keeps its share too, so the
    sections add up to a little less than the notebook. Empty without such a run."""
    if estimate.minutes is None:
        return []
    other = "quick" if profile == "full" else "full"
    run = None
    for p, h in ((profile, hardware), (other, hardware), (profile, None), (other, None)):
        run = sectioning.recorded(rows, estimate.notebook, p, h)
        if run is not None and run.sections:
            break
    if run is None or not run.sections:
        return []
    weights = [s.minutes for s in run.sections]
    if run.profile != profile and run.longest_minutes is not None:
        ratio = next((r for r in (work_ratio(lesson, profile, run.profile) for lesson in lessons)
                      if r is not None), None)
        for i, s in enumerate(run.sections):
            if ratio is not None and s.holds(run.longest_cell):
                weights[i] = s.minutes - run.longest_minutes + run.longest_minutes * ratio
    outside = max(0.0, run.minutes - sum(s.minutes for s in run.sections))
    whole = outside + sum(weights)
    if whole <= 0:
        return []
    factor = estimate.minutes / whole
    return [(s.title, w * factor) for s, w in zip(run.sections, weights)]


def calibration_rate(rows: list[dict], hardware: str) -> float | None:
    row = max((r for r in rows if r.get("key") == CALIBRATION_KEY
               and r.get("hardware") == hardware), key=lambda r: r.get("time", ""), default=None)
    return float(row["value"]) if row else None


def make_plan(notebooks: list[Path], profile: str | None = None, *, reason: str | None = None,
              rows: list[dict] | None = None, hardware: str | None = None,
              accelerator: tuple[str, str] | None = None,
              calibrate=None) -> Plan:
    """The plan for ``notebooks``.

    Everything that depends on this machine can be injected, for tests: ``rows`` (the
    recorded figures), ``hardware`` (this machine's line), ``accelerator`` and
    ``calibrate`` (a function returning this machine's calibration rate; by default
    :func:`edgelab.run.calibrate.measure`, run only if no figure is recorded here).
    """
    accelerator = accelerator or machine.accelerator()
    if profile is None:
        chosen = profiles.choice(accelerator=accelerator)
    else:
        chosen = profiles.choice(environ={profiles.ENV_VAR: profile}, accelerator=accelerator)
        chosen = chosen._replace(reason=reason or f"--profile {profile} was given")
    hardware = hardware or machine.hardware_line()
    rows = recorded_rows() if rows is None else rows
    plan = Plan(chosen.profile, chosen.reason, chosen.override, hardware, accelerator[0])
    here = [r for r in rows if r.get("hardware") == hardware]
    pending: list[tuple[Path, list[str]]] = []
    for nb in map(Path, notebooks):
        lessons = lessons_of(nb)
        found = _estimate_on(here, nb.stem, lessons, plan.profile, hardware)
        if found is None:
            pending.append((nb, lessons))
            plan.estimates.append(Estimate(nb.stem, None, "nothing recorded on this machine"))
        else:
            minutes, basis, rough = found
            plan.estimates.append(Estimate(nb.stem, minutes, basis, rough))
    if pending:
        _from_other_machines(plan, pending, rows, hardware, calibrate)
    for nb, e in zip(map(Path, notebooks), plan.estimates):
        e.sections = section_estimates(rows, e, lessons_of(nb), plan.profile, hardware)
    return plan


def _from_other_machines(plan: Plan, pending, rows, hardware, calibrate) -> None:
    """Estimates for notebooks with no figure here: another machine's, scaled by speed."""
    references = {}
    for ref in sorted({r.get("hardware") for r in rows if r.get("key") == CALIBRATION_KEY}
                      - {hardware}):
        ref_rows = [r for r in rows if r.get("hardware") == ref]
        found = {nb.stem: _estimate_on(ref_rows, nb.stem, lessons, plan.profile, ref)
                 for nb, lessons in pending}
        found = {k: v for k, v in found.items() if v is not None}
        if found:
            references[ref] = (calibration_rate(ref_rows, ref), found)
    if not references:
        plan.notes.append("note: no time recorded for the notebooks marked unknown, here or on a "
                          "calibrated machine; this run records them for the next plan")
        return
    rate_here = calibration_rate(rows, hardware)
    if rate_here is None:
        if calibrate is False:
            plan.notes.append("note: this machine is not calibrated (--no-calibrate)")
            return
        if calibrate is None:
            from edgelab.run import calibrate as calibration

            calibrate = calibration.measure_in_subprocess
        try:
            rate_here = float(calibrate())
        except Exception as err:  # noqa: BLE001 - a failed calibration only costs the estimate
            plan.notes.append(f"note: calibration failed ({type(err).__name__}: {err})"[:300])
            return
        row = {"key": CALIBRATION_KEY, "value": rate_here, "unit": "img/s",
               "profile": plan.profile, "hardware": hardware, "source": "edgelab run --plan",
               "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        rows.append(row)
        remember([row])
        plan.notes.append(f"note: calibrated this machine: {rate_here:,.0f} img/s on the probe "
                          "CNN (kept in the history for the next plan)")
    by_stem = {e.notebook: e for e in plan.estimates}
    for stem, estimate in by_stem.items():
        for ref, (rate_ref, found) in references.items():
            if estimate.minutes is None and stem in found:
                minutes = found[stem][0]
                speed = rate_here / rate_ref
                estimate.minutes = minutes / speed
                estimate.basis = (f"scaled: {duration(minutes)} on {ref} / {speed:.2g}, this "
                                  "machine's calibrated speed relative to it")
                estimate.rough = True


def cell_timeout(estimate: Estimate | None) -> int:
    """A cell's time limit: TIMEOUT_MULTIPLE times its notebook's estimate, at least
    TIMEOUT_FLOOR_S; TIMEOUT_UNKNOWN_S when there is no estimate."""
    if estimate is None or estimate.seconds is None:
        return TIMEOUT_UNKNOWN_S
    return int(max(TIMEOUT_FLOOR_S, TIMEOUT_MULTIPLE * estimate.seconds))


def timeout_rule(estimate: Estimate | None) -> str:
    """The limit and how it was set, in words (for the report)."""
    limit = cell_timeout(estimate)
    if estimate is None or estimate.seconds is None:
        return f"{duration(limit / 60)} (no estimate)"
    return (f"{duration(limit / 60)} = max({TIMEOUT_MULTIPLE} x the {duration(estimate.minutes)} "
            f"estimate, {duration(TIMEOUT_FLOOR_S / 60)})")


class Eta:
    """The time left, from the plan, corrected by how fast the run has gone so far."""

    def __init__(self, plan: Plan, notebooks: list[str]):
        self.plan = plan
        self.left = [Path(n).stem for n in notebooks]
        self.estimated_done = 0.0
        self.actual_done = 0.0

    def finished(self, notebook: str, seconds: float) -> None:
        stem = Path(notebook).stem
        if stem in self.left:
            self.left.remove(stem)
        e = self.plan.estimate(stem)
        if e is not None and e.seconds is not None:
            self.estimated_done += e.seconds
            self.actual_done += seconds

    def skipped(self, notebook: str) -> None:
        """A notebook that needs no running (``--resume``): no time, no correction."""
        stem = Path(notebook).stem
        if stem in self.left:
            self.left.remove(stem)

    def seconds_left(self) -> float | None:
        ests = [self.plan.estimate(s) for s in self.left]
        if any(e is None or e.seconds is None for e in ests):
            return None
        speed = self.actual_done / self.estimated_done if self.estimated_done > 0 else 1.0
        return sum(e.seconds for e in ests) * speed

    def line(self) -> str:
        if not self.left:
            return ""
        left = self.seconds_left()
        if left is None:
            return f"ETA: unknown ({len(self.left)} notebook(s) left, not all estimated)"
        at = (_dt.datetime.now() + _dt.timedelta(seconds=left)).strftime("%H:%M")
        return f"ETA: {duration(left / 60)} left for {len(self.left)} notebook(s), about {at}"
