"""Notebook 01 with two simulated replicas, on each engine (``make test-replicas``).

Runs the whole notebook headless in the quick profile with ``EDGELAB_SIMULATE_DEVICES=2``,
once on TensorFlow (``MirroredStrategy`` over two logical CPU devices) and once with
``KERAS_BACKEND=jax`` (``DataParallel`` over two XLA host devices), and checks what the
notebook printed and recorded: the engine, ``replicas: 2``, a global batch twice the
per-replica batch, and the quick accuracy goal. The file name does not start with
``test_`` so that the unit-test run does not collect it; ``make test`` runs it through
the ``test-replicas`` target.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgelab.core import profiles

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_mnist_distribute.ipynb"
GOAL = profiles.sizes("mnist", "quick").test_accuracy_goal   # the notebook asserts it too


def _text(nb: dict) -> str:
    return "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []) if o.get("output_type") == "stream")


@pytest.mark.parametrize("backend,label,how", [
    ("tensorflow", "TensorFlow", "MirroredStrategy"),
    ("jax", "JAX", "keras.distribution.DataParallel"),
])
def test_notebook_01_trains_two_replicas(tmp_path, backend, label, how):
    out = tmp_path / backend
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_PLATFORMS")}
    env.update(EDGELAB_SIMULATE_DEVICES="2", KERAS_BACKEND=backend, EDGELAB_PROFILE="quick")
    proc = subprocess.run([sys.executable, "-m", "edgelab", "run", "--profile", "quick",
                           "--out", str(out), str(NOTEBOOK)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    status = json.loads((out / "status.json").read_text()) if (out / "status.json").exists() else {}
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:], status)

    text = _text(json.loads((out / "notebooks" / NOTEBOOK.name).read_text()))
    assert f"engine: {label} ({how};" in text
    assert "device kind: CPU (simulated: EDGELAB_SIMULATE_DEVICES=2), 2 devices" in text
    assert "\nreplicas: 2\n" in text
    assert "per replica x 2 replicas" in text
    assert "a full copy on each of 2 device(s)" in text

    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    figures = {r["key"]: r["value"] for r in rows}
    assert figures["mnist.replicas"] == 2
    assert figures["mnist.test_accuracy"] >= GOAL, figures
