"""``edgelab run``: execute the curriculum headless, one fresh kernel per notebook, with a report.

::

    edgelab run --plan                            # what would run, and how long it takes here
    edgelab run                                   # every notebook; the profile fits the machine
    edgelab run notebooks/01_*.ipynb --profile quick --out runs/quick
    edgelab run --resume --out runs/full          # skip notebooks that already finished

With no ``--profile`` (and no ``EDGELAB_PROFILE``), the profile fits the machine: ``full``
with a GPU or TPU, ``quick`` without (:func:`edgelab.core.profiles.choice`); the first lines
say which, why, and how to choose the other. Then comes the plan
(:mod:`edgelab.run.plan`): each notebook's estimated wall time on this machine, from
times measured here earlier. While it runs, an ETA follows each notebook; each cell's time
limit is a multiple of its notebook's estimate (:func:`edgelab.run.plan.cell_timeout`).

The output folder gets::

    notebooks/NN_name.ipynb   the executed notebooks (with a failing cell's error kept)
    notebooks/NN_name.html    the same, rendered (the HTML report links to them)
    figures/NN_name/          every plot the notebook produced
    outputs/                  what the notebooks wrote (EDGELAB_OUT): models, logs, figures
    results.jsonl             every figure the notebooks recorded (EDGELAB_RESULTS)
    status.json               per-notebook status, time and memory (used by --resume)
    logs/NN_name.kernel.log   what each kernel process printed itself (C++ logs, notices)
    report.md, report.html    the summary a person reads (the HTML one opens from disk)

A failing notebook is reported with its failing cell and the run goes on with the next
one; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from edgelab.core import language, paths, profiles, progress, results
from edgelab.core.atomic import atomic_write
from edgelab.run import plan as planning
from edgelab.run import report as reporting

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class NotebookRun:
    notebook: str
    status: str = "pending"            # ok | failed | timeout
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    cells: int = 0
    failed_cell: int | None = None
    error: str = ""
    figures: dict = field(default_factory=dict)
    estimate_minutes: float | None = None
    timeout_s: int | None = None       # the cell time limit that applied
    timeout_rule: str = ""             # how that limit was set, in words
    cell_seconds: list = field(default_factory=list)   # [cell index, seconds] per code cell

    @classmethod
    def from_dict(cls, data: dict) -> "NotebookRun":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class _PeakMemory:
    """Polls the kernel process tree's resident memory in a background thread."""

    def __init__(self, pid: int | None, interval: float = 0.25):
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        try:
            proc = psutil.Process(self.pid)
        except (psutil.Error, TypeError, ValueError):
            return
        while not self._stop.is_set():
            try:
                rss = proc.memory_info().rss + sum(
                    c.memory_info().rss for c in proc.children(recursive=True))
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=2)


def _kernel_pid(client) -> int | None:
    km = client.km
    for attr in ("provisioner", "kernel"):
        obj = getattr(km, attr, None)
        pid = getattr(obj, "pid", None)
        if pid is None and obj is not None:
            pid = getattr(getattr(obj, "process", None), "pid", None)
        if pid:
            return pid
    return None


def clean_metadata(nb) -> None:
    """Drop per-run metadata (timestamps) so re-executed notebooks diff cleanly."""
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("papermill", None)


def _store_language_info(client, nb) -> None:
    """Store the kernel's language_info, as JupyterLab does when it opens the notebook: a
    notebook stored without it is marked modified the moment Lab opens it."""
    try:
        reply = client.wait_for_reply(client.kc.kernel_info())
    except Exception:  # noqa: BLE001 - the metadata is a courtesy; the run goes on without it
        return
    info = (reply or {}).get("content", {}).get("language_info")
    if info:
        nb.metadata["language_info"] = info


def execute_notebook(src: Path, dest: Path, *, cwd: Path, progress_bar: bool = True,
                     cell_timeout: int = planning.TIMEOUT_UNKNOWN_S,
                     kernel_log: Path | None = None) -> NotebookRun:
    """Execute ``src`` in a fresh kernel, write the executed notebook to ``dest``.

    A cell that runs longer than ``cell_timeout`` seconds is stopped and the notebook is
    reported as ``timeout`` (not ``failed``), with the limit. ``kernel_log``: a file for
    what the kernel process itself prints (TensorFlow's C++ log, ipykernel's notices),
    which otherwise lands in the terminal between the progress bars.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    run = NotebookRun(notebook=src.name, timeout_s=int(cell_timeout))
    nb = nbformat.read(src, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    run.cells = len(code_cells)
    for i in code_cells:  # start clean: no stale outputs survive a failed run
        nb.cells[i].outputs, nb.cells[i].execution_count = [], None
    client = NotebookClient(nb, timeout=int(cell_timeout), kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}}, allow_errors=False,
                            coalesce_streams=True)
    start = time.perf_counter()
    bar = progress.bar(total=len(code_cells), desc=src.stem, unit="cell",
                       disable=not progress_bar, leave=True, dynamic_ncols=True)
    memory = _PeakMemory(None)
    log = None
    if kernel_log is not None:
        kernel_log.parent.mkdir(parents=True, exist_ok=True)
        log = open(kernel_log, "w", encoding="utf-8")
    try:
        with client.setup_kernel(**({"stdout": log, "stderr": log} if log else {})):
            _store_language_info(client, nb)
            memory = _PeakMemory(_kernel_pid(client))
            with memory:
                for index in code_cells:
                    began = time.perf_counter()
                    try:
                        client.execute_cell(nb.cells[index], index)
                    except CellTimeoutError:
                        run.status, run.failed_cell = "timeout", index
                        run.error = f"cell {index} ran longer than {cell_timeout} s"
                        break
                    except (CellExecutionError, DeadKernelError) as err:
                        run.status, run.failed_cell = "failed", index
                        text = _ANSI.sub("", str(err))
                        lines = [line for line in text.strip().splitlines() if line.strip()]
                        run.error = lines[-1][:500] if lines else type(err).__name__
                        break
                    finally:
                        run.cell_seconds.append([index, round(time.perf_counter() - began, 2)])
                        bar.update(1)
                else:
                    run.status = "ok"
    except Exception as err:  # noqa: BLE001 - a kernel that fails to start is a failed run
        run.status, run.error = "failed", f"{type(err).__name__}: {err}"[:500]
    finally:
        bar.close()
        if log is not None:
            log.close()
    if run.status != "ok" and kernel_log is not None and kernel_log.stat().st_size:
        run.error += f" (kernel log: {kernel_log.name})"
    run.seconds = round(time.perf_counter() - start, 1)
    run.peak_rss_mb = round(memory.peak / 2**20, 1)
    clean_metadata(nb)
    with atomic_write(dest, encoding="utf-8") as handle:
        nbformat.write(nb, handle)
    return run


def default_notebooks() -> list[Path]:
    root = paths.project_root()
    if root is None:
        raise SystemExit("edgelab run: no notebooks given and edgelab is not installed from a "
                         "checkout; pass the notebook files, e.g. edgelab run notebooks/*.ipynb")
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _shown(path: Path) -> str:
    """A path as the runner prints it: as given when relative; inside the checkout, the
    outputs or the home folder without this machine's prefix (:func:`edgelab.core.paths.shown`);
    elsewhere with the user's home folder as ``~``."""
    path = Path(path)
    if not path.is_absolute():
        return str(path)
    short = paths.shown(path)
    if short != path.name or path.name == "":
        return short
    home = Path.home()
    try:
        return f"~/{path.resolve().relative_to(home).as_posix()}"
    except ValueError:
        return str(path)


def _say(text: str = "") -> None:
    print(text, flush=True)


def check_notebooks(notebooks: list[Path]) -> None:
    missing = [str(n) for n in notebooks if not Path(n).is_file()]
    if missing:
        raise SystemExit(f"edgelab run: no such notebook: {', '.join(missing)} "
                         "(give .ipynb files, e.g. notebooks/01_mnist_distribute.ipynb)")
    wrong = [str(n) for n in notebooks if Path(n).suffix != ".ipynb"]
    if wrong:
        raise SystemExit(f"edgelab run: not a notebook: {', '.join(wrong)} (give .ipynb files)")


def run(notebooks: list[Path], *, profile: str, out: Path, resume: bool = False,
        inplace: bool = False, progress_bar: bool = True, plan: planning.Plan | None = None,
        cell_timeout: int | None = None) -> tuple[list[NotebookRun], Path]:
    """Execute ``notebooks`` in order in ``profile``; return the runs and ``report.md``.

    ``plan`` (default: :func:`edgelab.run.plan.make_plan`) gives the estimates, the ETA and
    each notebook's cell time limit; ``cell_timeout`` (seconds) replaces that limit.
    """
    if profile not in profiles.PROFILES:
        raise SystemExit(f"edgelab run: unknown profile {profile!r}; use quick or full")
    notebooks = [Path(n) for n in notebooks]
    check_notebooks(notebooks)
    if plan is None:
        plan = planning.make_plan(notebooks, profile)
    out = out.resolve()
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    status_file = out / "status.json"
    previous = {}
    if resume and status_file.exists():
        previous = {r["notebook"]: r for r in json.loads(status_file.read_text())["runs"]}
    os.environ.update({
        profiles.ENV_VAR: profile,
        profiles.REASON_VAR: f"chosen by edgelab run: {plan.reason}",
        paths.OUT_VAR: str(out / "outputs"),
        results.RESULTS_VAR: str(out / "results.jsonl"),
        progress.HEADLESS_VAR: "1",        # text bars in the stored outputs, not widgets
    })
    runs: list[NotebookRun] = []
    executed: dict[str, Path] = {}
    eta = planning.Eta(plan, [str(n) for n in notebooks])
    start = time.perf_counter()
    for number, nb_path in enumerate(notebooks, 1):
        estimate = plan.estimate(nb_path.name)
        prior = previous.get(nb_path.name)
        dest = nb_path if inplace else out / "notebooks" / nb_path.name
        if prior and prior["status"] == "ok":
            kept = NotebookRun.from_dict({**prior, "status": "ok"})
            runs.append(kept)
            executed[nb_path.name] = dest
            eta.skipped(nb_path.name)
            _say(f"[{number}/{len(notebooks)}] {nb_path.name}: already finished in "
                 f"{_shown(out)} (--resume), skipped")
            continue
        limit = cell_timeout if cell_timeout is not None else planning.cell_timeout(estimate)
        rule = f"{limit} s (--cell-timeout)" if cell_timeout is not None else \
            planning.timeout_rule(estimate)
        expected = "" if estimate is None or estimate.minutes is None else \
            f", estimated {planning.duration(estimate.minutes)}"
        _say(f"[{number}/{len(notebooks)}] {nb_path.name}{expected}; cell time limit {rule}")
        os.environ[results.NOTEBOOK_VAR] = nb_path.stem
        # the kernel speaks the notebook's language (exercise hints and verdicts)
        os.environ[language.ENV_VAR] = language.from_path(nb_path) or language.DEFAULT
        r = execute_notebook(nb_path.resolve(), dest, cwd=nb_path.resolve().parent,
                             progress_bar=progress_bar, cell_timeout=limit,
                             kernel_log=out / "logs" / f"{nb_path.stem}.kernel.log")
        r.estimate_minutes = None if estimate is None else estimate.minutes
        r.timeout_rule = rule
        runs.append(r)
        executed[nb_path.name] = dest
        eta.finished(nb_path.name, r.seconds)
        if r.status == "ok":  # the run's own figures, next to the notebooks' ones
            rows_before = len(results.load(results.results_file()))
            results.record(f"run.{nb_path.stem}.minutes", round(r.seconds / 60, 2), "min",
                           source="edgelab run")
            results.record(f"run.{nb_path.stem}.peak_memory", r.peak_rss_mb, "MB",
                           source="edgelab run")
            if r.cell_seconds:   # the main loop: what a change of profile scales (see plan)
                cell, seconds = max(r.cell_seconds, key=lambda c: c[1])
                results.record(f"run.{nb_path.stem}.longest_cell_minutes",
                               round(seconds / 60, 3), "min", note=f"cell {cell}",
                               source="edgelab run")
            planning.remember(results.load(results.results_file())[rows_before:])
        state = "ok" if r.status == "ok" else reporting.status_text(r, markdown=False)
        _say(f"[{number}/{len(notebooks)}] {nb_path.name}: {state} ({r.seconds / 60:.1f} min, "
             f"peak {r.peak_rss_mb:.0f} MB)")
        if eta.line():
            _say(f"    {eta.line()}")
        with atomic_write(status_file, encoding="utf-8") as handle:
            json.dump({"profile": profile, "runs": [asdict(x) for x in runs] +
                       [v for k, v in previous.items() if k not in {x.notebook for x in runs}]},
                      handle, indent=1)
    total = time.perf_counter() - start
    # A total is only a curriculum figure when several notebooks ran in one go; a single
    # notebook's minutes are already recorded above.
    if len(runs) > 1 and all(r.status == "ok" for r in runs) and not previous:
        results.record(f"run.all_{len(runs)}_notebooks.minutes", round(total / 60, 2), "min",
                       source="edgelab run")
    plan_lines = plan.lines()
    report = reporting.write_markdown(out, runs, profile, total, plan_lines)
    reporting.write_html(out, runs, profile, total, executed, plan_lines)
    return runs, report


EXAMPLES = """examples:
  edgelab run --plan                       what would run here, the profile and the times
  edgelab run                              every notebook, the profile that fits this machine
  edgelab run --profile full --plan        how long the real lesson would take here
  edgelab run notebooks/06_*.ipynb --profile quick --out runs/try
  edgelab run --resume --out runs/quick    go on after an interruption

The profile: --profile, else $EDGELAB_PROFILE, else full with a GPU or TPU and quick
without one. The output folder gets the executed notebooks, report.md and report.html."""


def register(subparsers) -> None:
    import argparse

    p = subparsers.add_parser(
        "run", help="execute notebooks headless, with a plan and a report",
        description="Execute notebooks headless, each in a fresh kernel; print the plan "
                    "(profile, estimated time per notebook) first and an ETA as it goes; "
                    "write report.md and report.html into the output folder.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("notebooks", nargs="*", type=Path, metavar="NOTEBOOK",
                   help="notebooks (default: all, in order)")
    p.add_argument("--profile", default=None, choices=profiles.PROFILES,
                   help="quick or full (default: $EDGELAB_PROFILE, else full with a GPU or "
                        "TPU and quick without)")
    p.add_argument("--plan", action="store_true",
                   help="print the profile and each notebook's estimated time here; run nothing")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="output folder (default: runs/<profile>)")
    p.add_argument("--resume", action="store_true", help="skip notebooks already ok in --out")
    p.add_argument("--inplace", action="store_true",
                   help="write executed notebooks back over the sources (to commit outputs)")
    p.add_argument("--cell-timeout", type=int, default=None, metavar="SECONDS",
                   help="stop a cell after this long (default: from the plan, "
                        f"{planning.TIMEOUT_MULTIPLE}x the notebook's estimate, at least "
                        f"{planning.TIMEOUT_FLOOR_S} s)")
    p.add_argument("--no-calibrate", action="store_true",
                   help="never run the short speed probe (only needed where nothing was "
                        "recorded on this machine)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_cli)


def _cli(args) -> int:
    notebooks = args.notebooks or default_notebooks()
    check_notebooks(notebooks)
    if args.cell_timeout is not None and args.cell_timeout < 1:
        print(f"edgelab run: --cell-timeout {args.cell_timeout}: give a positive number of "
              "seconds, e.g. --cell-timeout 3600", file=sys.stderr)
        return 2
    try:
        plan = planning.make_plan(notebooks, args.profile,
                                  calibrate=False if args.no_calibrate else None)
    except profiles.ProfileError as err:
        print(f"edgelab run: {err}", file=sys.stderr)
        return 2
    _say(plan.text())
    if args.plan:
        return 0
    out = args.out or Path("runs") / plan.profile
    _say(f"output folder: {_shown(out)}\n")
    runs, report = run(notebooks, profile=plan.profile, out=out, resume=args.resume,
                       inplace=args.inplace, progress_bar=not args.no_progress, plan=plan,
                       cell_timeout=args.cell_timeout)
    _say(f"\nreport: {_shown(report)} (and {_shown(report.with_suffix('.html'))}, "
         "which opens in a browser)")
    _say(report.read_text())
    return 0 if all(r.status == "ok" for r in runs) else 1
