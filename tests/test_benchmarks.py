"""Every benchmark still runs, end to end, in its smoke mode.

Nobody runs a benchmark until the day its figure is wanted, so a change in ``edgelab`` can
break one unnoticed (``bench_xception`` once read a key the train step no longer returned).
Here each script runs in a fresh process, as ``python -m benchmarks`` runs it, with
``EDGELAB_BENCH_SMOKE=1``: the same code path at tiny sizes and one timing sample
(``benchmarks/common.py``). Its figures mean nothing and are not checked; what is checked is
that it finishes, records the rows it promises (to a file of the test's own) and leaves the
committed ``benchmarks/results.jsonl`` untouched. Speed goals are never asserted in tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
COMMITTED = BENCHMARKS / "results.jsonl"
# The speed benchmarks (python -m benchmarks) and the learning-rate experiment behind
# notebook 05's recipe, which is run by hand the same way.
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("bench_*.py")) + ["hub_rates"]

# A key each script must record (its last or most important row).
PROMISED = {
    "bench_calibration": "calibration.train_images_per_s",
    "bench_chainer_dataset": "chainer.dataset_bench_peak_rss",
    "bench_edge": "edge.bench_peak_rss",
    "bench_gradcam": "gradcam.bench_peak_rss",
    "bench_hub": "hub.peak_rss_mb",
    "bench_install": "install.environment_mb",
    "bench_lineart": "lineart.bench_peak_rss",
    "bench_mnist_input": "mnist.bench_peak_rss",
    "bench_mnist_replicas": "mnist.fit_images_per_s.jax.2_replicas",
    "bench_xception": "xception.full_profile.t4_estimate_hours",
    "bench_xception_full_run": "xception.full_run.best_val_accuracy",
    "hub_rates": "hub.rate_selection.adam_1e-4_cosine.val_accuracy",
}


def test_every_script_promises_a_row():
    assert sorted(PROMISED) == SCRIPTS


def _fake_full_run(folder: Path) -> Path:
    """What notebook 02's trainer leaves after three epochs: history.json and one
    checkpoint index per epoch (the recorder reads only these)."""
    ckpt = folder / "outputs/02_xception/checkpoints/xception-test"
    ckpt.mkdir(parents=True)
    curve = {"loss": [2.5, 2.0, 1.6], "accuracy": [0.2, 0.35, 0.5],
             "val_loss": [2.6, 2.2, 1.9], "val_accuracy": [0.15, 0.3, 0.4]}
    (ckpt / "history.json").write_text(json.dumps(curve), encoding="utf-8")
    for epoch in (1, 2, 3):
        index = ckpt / f"ckpt-{epoch * 22}.index"
        index.write_bytes(b"")
        os.utime(index, (1_000_000 + 40 * epoch,) * 2)
    return folder


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs_in_smoke_mode(script, shared_home, tmp_path):
    rows_file = tmp_path / "rows.jsonl"
    env = dict(os.environ, EDGELAB_BENCH_SMOKE="1", EDGELAB_BENCH_RESULTS=str(rows_file),
               EDGELAB_PROFILE="quick", TF_CPP_MIN_LOG_LEVEL="2")
    args = [str(_fake_full_run(tmp_path / "run"))] if script == "bench_xception_full_run" else []
    before = COMMITTED.read_bytes()
    proc = subprocess.run([sys.executable, "-m", f"benchmarks.{script}", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert COMMITTED.read_bytes() == before, f"{script} wrote to {COMMITTED.name} in smoke mode"
    keys = [json.loads(line)["key"] for line in rows_file.read_text().splitlines()]
    assert PROMISED[script] in keys, f"{script} recorded {keys}"
