"""Notebook 01: training images/s with 1 and 2 simulated replicas, on each engine.

Each of the four runs (TensorFlow or JAX x 1 or 2 replicas) is a fresh process, because
the engine and the simulated device count are fixed when Keras and XLA start. A run
chooses its engine with ``edgelab.devices`` (``KERAS_BACKEND``, ``EDGELAB_SIMULATE_DEVICES``),
builds the CNN in the placement's scope, and trains with ``model.fit`` on real MNIST from
``edgelab.mnist.inputs.pipeline`` at the notebook's global batch (64 per replica): a short
fit first (compilation), then the best of two timed epochs of the same number of images.

On one CPU the simulated replicas share the same cores, so two replicas are not expected
to be faster: the figures show what data parallelism costs in synchronisation here, not
what two real devices gain. The load average is kept in each figure's note.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from benchmarks.common import report, sized

PER_REPLICA = 64
IMAGES = sized(64 * 2 * 40, 64 * 2 * 2)      # the same images per timed epoch for every run
WARMUP_IMAGES = sized(64 * 2 * 4, 64 * 2)


def child(backend: str, replicas: int) -> dict:
    from edgelab import devices

    engine = devices.choose_engine()
    import keras

    from edgelab.datasets import mnist
    from edgelab.mnist import cnn, inputs

    placement = engine.distribute()
    assert placement.replicas == replicas and keras.backend.backend() == backend, placement.describe()
    batch = PER_REPLICA * replicas
    (x, y), _ = mnist.load()
    with placement.scope():
        model = cnn.compile_model(cnn.build_model(), cnn.scaled_learning_rate(1e-3, replicas))
    warm = inputs.pipeline(x[:WARMUP_IMAGES], y[:WARMUP_IMAGES], batch, drop_remainder=True)
    data = inputs.pipeline(x[:IMAGES], y[:IMAGES], batch, shuffle=True, drop_remainder=True)
    model.fit(warm, epochs=1, verbose=0)
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        model.fit(data, epochs=1, verbose=0)
        best = min(best, time.perf_counter() - t0)
    return {"images_per_s": IMAGES / best, "describe": placement.describe()}


def main() -> None:
    for backend in ("tensorflow", "jax"):
        for replicas in (1, 2):
            env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_PLATFORMS")}
            env.update(KERAS_BACKEND=backend, EDGELAB_SIMULATE_DEVICES=str(replicas),
                       TF_CPP_MIN_LOG_LEVEL="3")
            proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_mnist_replicas",
                                   "--child", backend, str(replicas)],
                                  env=env, capture_output=True, text=True)
            if proc.returncode:
                sys.exit(f"{backend} x{replicas} failed:\n{proc.stderr[-3000:]}")
            got = json.loads(proc.stdout.strip().splitlines()[-1])
            load = os.getloadavg()[0]
            report(f"mnist.fit_images_per_s.{backend}.{replicas}_replica{'s' * (replicas > 1)}",
                   got["images_per_s"], "img/s",
                   note=f"simulated CPU devices, {PER_REPLICA}/replica; load avg {load:.1f} "
                        f"on {os.cpu_count()} cores", source="bench_mnist_replicas")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]))))
    else:
        main()
