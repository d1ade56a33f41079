"""Notebook 01: does the tf.data input pipeline slow training down?

Trains the MNIST CNN with the same compiled train step twice, in one process: once
reading batches from the real pipeline (``mnist.dataset``: scale, cache, shuffle, batch,
prefetch) and once from the same batches already in memory as tensors. The ratio of
step times is the pipeline's overhead (goal: <= 1.1x).
"""

from __future__ import annotations

import time

from benchmarks.common import peak_rss_mb, report, sized

BATCH = 128
STEPS = sized(60, 2)
WARMUP = sized(10, 1)


def main() -> None:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from edgelab.mnist import cnn as mnist_cnn
    from edgelab.datasets import mnist

    (x, y), _ = mnist.load()
    n = BATCH * (STEPS + WARMUP)
    model = mnist_cnn.build_model()
    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    def run(batches) -> float:
        it = iter(batches)
        for _ in range(WARMUP):
            train_step(*next(it))
        t0 = time.perf_counter()
        for _ in range(STEPS):
            loss = train_step(*next(it))
        float(loss)  # wait for the last step
        return (time.perf_counter() - t0) / STEPS

    pipeline = mnist.dataset(x[:n], y[:n], BATCH, shuffle=True, drop_remainder=True, repeat=True)
    in_memory = [(a, b) for a, b in pipeline.take(STEPS + WARMUP)]  # same batches, as tensors
    # Alternate the two twice and keep the best of each, so a noisy neighbour hurts neither.
    t_pipe = min(run(pipeline), run(pipeline))
    t_mem = min(run(in_memory), run(in_memory))
    report("mnist.train_images_per_s.tf_data", BATCH / t_pipe, "img/s", source="bench_mnist_input")
    report("mnist.train_images_per_s.in_memory", BATCH / t_mem, "img/s", source="bench_mnist_input")
    report("mnist.input_pipeline_overhead", t_pipe / t_mem, "x", note="goal <= 1.1",
           source="bench_mnist_input")
    report("mnist.bench_peak_rss", peak_rss_mb(), "MB", source="bench_mnist_input")


if __name__ == "__main__":
    main()
