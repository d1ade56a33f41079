"""Record how far notebook 02's full-profile training has got, with its learning curve.

Notebook 02's full profile (the paper's Xception at 149 px, 150 epochs) takes hours on a
CPU, so it runs in the background (``edgelab run --profile full``) and resumes from its
checkpoints when it is stopped. Its trainer writes ``history.json`` beside the checkpoints
after every epoch. This script reads the newest such file under a run's output folder and
appends rows to ``benchmarks/results.jsonl``, profile ``full``:

* ``xception.full_run.epochs_done``: epochs finished, of the profile's 150;
* ``xception.full_run.val_accuracy`` / ``train_accuracy`` / ``val_loss`` / ``train_loss``:
  the newest epoch's figure, with the whole curve in the row's ``curve`` field (one value
  per epoch), so that notebook 02 can plot the run without its checkpoints;
* ``xception.full_run.best_val_accuracy``: the best epoch's validation accuracy (the
  epoch is in the note);
* ``xception.full_run.seconds_per_epoch``: the pace of the newest epochs, the median time
  between the checkpoints the manager keeps (one per epoch). A resumed run's wall time
  counts only its last stretch, so the pace is what the plan and the notebook compare
  with the estimates made before the run.

The test split is not touched here: the notebook evaluates it once, at the end of the run.
Without a full run in the folder it says so and records nothing.

    python -m benchmarks.bench_xception_full_run [RUN_FOLDER]     (default runs/full)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ["EDGELAB_PROFILE"] = "full"       # the rows describe a full-profile run

from benchmarks.common import RESULTS_FILE  # noqa: E402
from edgelab.core import profiles, results  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def newest_history(run_folder: Path) -> Path | None:
    found = sorted(run_folder.glob("outputs/02_xception/checkpoints/xception-*/history.json"),
                   key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def seconds_per_epoch(folder: Path) -> tuple[float, int] | None:
    """(median seconds between consecutive checkpoints, how many intervals) where the
    checkpoints are one epoch apart (equal step differences); None with fewer than two."""
    import re
    import statistics

    marks = sorted((int(m.group(1)), p.stat().st_mtime) for p in folder.glob("ckpt-*.index")
                   if (m := re.fullmatch(r"ckpt-(\d+)\.index", p.name)))
    gaps = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(marks, marks[1:])]
    if not gaps or len({steps for steps, _ in gaps}) != 1:
        return None
    return statistics.median(seconds for _, seconds in gaps), len(gaps)


def main(argv: list[str]) -> int:
    run_folder = Path(argv[0]) if argv else ROOT / "runs" / "full"
    history_file = newest_history(run_folder)
    if history_file is None:
        print(f"  no full-profile run of notebook 02 under {run_folder} (start one: "
              "edgelab run --profile full notebooks/02_xception_sonnet_flowers.ipynb); "
              "nothing recorded")
        return 0
    history = json.loads(history_file.read_text(encoding="utf-8"))
    done = len(history["loss"])
    planned = profiles.sizes("xception", "full").epochs
    folder = history_file.parent.name
    now = results.now()

    def put(key: str, value, note: str, curve: list | None = None) -> None:
        extra = {"curve": [round(float(v), 5) for v in curve]} if curve is not None else None
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"  {key:<40} {shown:>8}   # {note}")
        if RESULTS_FILE is not None:
            results.record(key, value, "s" if key.endswith("seconds_per_epoch") else "",
                           note=note, file=RESULTS_FILE, source="benchmarks", time=now,
                           extra=extra)

    put("xception.full_run.epochs_done", done, f"of {planned}, checkpoint folder {folder}")
    for key, name in (("val_accuracy", "val_accuracy"), ("train_accuracy", "accuracy"),
                      ("val_loss", "val_loss"), ("train_loss", "loss")):
        put(f"xception.full_run.{key}", float(history[name][-1]),
            f"epoch {done}; the row's curve has one value per epoch", history[name])
    pace = seconds_per_epoch(history_file.parent)
    if pace is not None:
        put("xception.full_run.seconds_per_epoch", pace[0],
            f"median of the {pace[1]} newest epochs' checkpoint intervals, up to epoch {done}")
    best = max(range(done), key=lambda i: history["val_accuracy"][i])
    put("xception.full_run.best_val_accuracy", float(history["val_accuracy"][best]),
        f"epoch {best + 1} of {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
