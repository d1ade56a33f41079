"""A ten-second speed probe, so a plan can carry run times over from another machine.

:func:`measure` trains a small fixed CNN (four 3x3 convolutions, 32x32x3 inputs, batch 64)
for a few steps on TensorFlow's default device, the GPU where there is one, and returns
the images per second it reached. The inputs are random numbers: this is a timing probe,
no lesson learns from it. The same probe recorded on a machine that has notebook run times
(``benchmarks/bench_calibration.py`` records it next to them) gives the speed ratio
that :mod:`edgelab.run.plan` divides those times by.

``python -m edgelab.run.calibrate`` prints ``{"images_per_s": ...}``; the plan runs it in a
subprocess so the runner itself never imports TensorFlow or holds a GPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

BATCH = 64
WARMUP_STEPS = 3
MIN_SECONDS = 3.0      # time steps until at least this long has passed ...
MAX_STEPS = 200        # ... or this many steps ran


def measure() -> float:
    """Training images per second of the probe CNN on the default device."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10),
    ])
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    for _ in range(WARMUP_STEPS):           # tracing and compiling happen here
        model.train_on_batch(x, y)
    steps, start = 0, time.perf_counter()
    while steps < MAX_STEPS and (steps < 5 or time.perf_counter() - start < MIN_SECONDS):
        float(model.train_on_batch(x, y))   # float(): wait for the step to finish
        steps += 1
    return steps * BATCH / (time.perf_counter() - start)


def measure_in_subprocess(timeout: float = 180) -> float:
    """:func:`measure` in a fresh Python process (no TensorFlow in the caller)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-m", "edgelab.run.calibrate"], capture_output=True,
                          text=True, timeout=timeout, env=env)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return float(json.loads(line)["images_per_s"])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    raise RuntimeError(f"calibration exited with {proc.returncode}: {tail}")


if __name__ == "__main__":
    print(json.dumps({"images_per_s": measure()}))
    sys.exit(0)
