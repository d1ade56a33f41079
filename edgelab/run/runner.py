"""``edgelab run``: execute the curriculum headless, one fresh kernel per notebook, with a report.

::

    edgelab run                                   # every notebook, full profile, runs/full
    edgelab run notebooks/01_*.ipynb --profile quick --out runs/quick
    edgelab run --resume --out runs/full          # skip notebooks that already finished

The output folder gets::

    notebooks/NN_name.ipynb   the executed notebooks (with a failing cell's error kept)
    outputs/                  what the notebooks wrote (EDGELAB_OUT): models, logs, figures
    results.jsonl             every figure the notebooks recorded (EDGELAB_RESULTS)
    status.json               per-notebook status, time and memory (used by --resume)
    report.md                 the summary a person reads

A failing notebook is reported with its failing cell and the run goes on with the next
one; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edgelab.core.project import VERSION
from edgelab.core import machine, paths, profiles, results
from edgelab.core.atomic import atomic_write

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
CELL_TIMEOUT = 3600  # seconds; a single cell (a full-profile training run) may be long


@dataclass
class NotebookRun:
    notebook: str
    status: str = "pending"            # ok | failed | skipped
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    cells: int = 0
    failed_cell: int | None = None
    error: str = ""
    figures: dict = field(default_factory=dict)


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


def execute_notebook(src: Path, dest: Path, *, cwd: Path, progress: bool = True,
                     cell_timeout: int = CELL_TIMEOUT) -> NotebookRun:
    """Execute ``src`` in a fresh kernel, write the executed notebook to ``dest``."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from tqdm import tqdm

    run = NotebookRun(notebook=src.name)
    nb = nbformat.read(src, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    run.cells = len(code_cells)
    for i in code_cells:  # start clean: no stale outputs survive a failed run
        nb.cells[i].outputs, nb.cells[i].execution_count = [], None
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}}, allow_errors=False,
                            coalesce_streams=True)
    start = time.perf_counter()
    bar = tqdm(total=len(code_cells), desc=src.stem, unit="cell", disable=not progress,
               leave=True, dynamic_ncols=True)
    memory = _PeakMemory(None)
    try:
        with client.setup_kernel():
            memory = _PeakMemory(_kernel_pid(client))
            with memory:
                for index in code_cells:
                    try:
                        client.execute_cell(nb.cells[index], index)
                    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
                        run.status, run.failed_cell = "failed", index
                        text = _ANSI.sub("", str(err))
                        lines = [line for line in text.strip().splitlines() if line.strip()]
                        run.error = lines[-1][:500] if lines else type(err).__name__
                        break
                    finally:
                        bar.update(1)
                else:
                    run.status = "ok"
    except Exception as err:  # noqa: BLE001 - a kernel that fails to start is a failed run
        run.status, run.error = "failed", f"{type(err).__name__}: {err}"[:500]
    finally:
        bar.close()
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
                         "checkout; pass notebook paths.")
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _figures_by_notebook(rows: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for (key, _), row in results.latest(rows).items():
        out.setdefault(row.get("source", ""), {})[key] = (row["value"], row.get("unit", ""))
    return out


def write_report(out: Path, runs: list[NotebookRun], profile: str, total_seconds: float) -> Path:
    rows = results.load(out / "results.jsonl")
    figures = _figures_by_notebook(rows)
    ok = sum(r.status == "ok" for r in runs)
    lines = [
        f"# edgelab run: {ok}/{len(runs)} notebooks ok",
        "",
        f"- profile: **{profile}**; edgelab {VERSION}",
        f"- machine: {machine.hardware_line()}",
        f"- finished: {_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}",
        f"- total wall time: {total_seconds / 60:.1f} min",
        "",
        "| notebook | status | wall time | peak memory | key figures |",
        "|---|---|---:|---:|---|",
    ]
    for r in runs:
        stem = Path(r.notebook).stem
        figs = figures.get(stem, {})
        fig_text = "; ".join(f"`{k}` = {results._fmt(v)}{(' ' + u) if u else ''}"
                             for k, (v, u) in sorted(figs.items())) or "-"
        status = r.status if r.status != "failed" else \
            f"**FAILED** at cell {r.failed_cell}: {r.error.replace('|', '/')}"
        lines.append(f"| {r.notebook} | {status} | {r.seconds / 60:.1f} min | "
                     f"{r.peak_rss_mb:,.0f} MB | {fig_text} |")
    lines += ["", "Executed notebooks are in `notebooks/`, everything they wrote in `outputs/`,",
              "and every recorded figure (with machine and time) in `results.jsonl`."]
    report = out / "report.md"
    with atomic_write(report, encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return report


def run(notebooks: list[Path], *, profile: str, out: Path, resume: bool = False,
        inplace: bool = False, progress: bool = True) -> tuple[list[NotebookRun], Path]:
    if profile not in profiles.PROFILES:
        raise SystemExit(f"edgelab run: unknown profile {profile!r}; use quick or full")
    missing = [str(n) for n in notebooks if not Path(n).is_file()]
    if missing:
        raise SystemExit(f"edgelab run: no such notebook: {', '.join(missing)}")
    out = out.resolve()
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    status_file = out / "status.json"
    previous = {}
    if resume and status_file.exists():
        previous = {r["notebook"]: r for r in json.loads(status_file.read_text())["runs"]}
    os.environ.update({
        profiles.ENV_VAR: profile,
        paths.OUT_VAR: str(out / "outputs"),
        results.RESULTS_VAR: str(out / "results.jsonl"),
    })
    runs: list[NotebookRun] = []
    start = time.perf_counter()
    for nb_path in map(Path, notebooks):
        prior = previous.get(nb_path.name)
        if prior and prior["status"] == "ok":
            kept = NotebookRun(**{**prior, "status": "ok"})
            runs.append(kept)
            print(f"{nb_path.name}: already finished in {out} (--resume), skipped")
            continue
        os.environ[results.NOTEBOOK_VAR] = nb_path.stem
        dest = nb_path if inplace else out / "notebooks" / nb_path.name
        r = execute_notebook(nb_path.resolve(), dest, cwd=nb_path.resolve().parent,
                             progress=progress)
        runs.append(r)
        if r.status == "ok":  # the run's own figures, next to the notebooks' ones
            results.record(f"run.{nb_path.stem}.minutes", round(r.seconds / 60, 2), "min",
                           source="edgelab run")
            results.record(f"run.{nb_path.stem}.peak_memory", r.peak_rss_mb, "MB",
                           source="edgelab run")
        state = "ok" if r.status == "ok" else f"FAILED at cell {r.failed_cell}: {r.error}"
        print(f"{nb_path.name}: {state} ({r.seconds:.0f} s, peak {r.peak_rss_mb:.0f} MB)")
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
    report = write_report(out, runs, profile, total)
    return runs, report


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="execute notebooks headless and write a report")
    p.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: all, in order)")
    p.add_argument("--profile", default=None, choices=profiles.PROFILES,
                   help="quick or full (default: $EDGELAB_PROFILE, else full)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: runs/<profile>)")
    p.add_argument("--resume", action="store_true", help="skip notebooks already ok in --out")
    p.add_argument("--inplace", action="store_true",
                   help="write executed notebooks back over the sources (to commit outputs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_cli)


def _cli(args) -> int:
    profile = args.profile or profiles.current()
    out = args.out or Path("runs") / profile
    notebooks = args.notebooks or default_notebooks()
    runs, report = run(notebooks, profile=profile, out=out, resume=args.resume,
                       inplace=args.inplace, progress=not args.no_progress)
    print(f"\nreport: {report}")
    print(report.read_text())
    return 0 if all(r.status == "ok" for r in runs) else 1
