"""Notebook 02: how much do ``tf.function`` and XLA speed up the Sonnet train step?

The same Xception (quick-profile sizes: image size, width multiplier, middle blocks,
batch size) and the same real Flower17 batch, trained with the same
:class:`edgelab.xception.training.Trainer` step three ways in one process:

* eager - the step runs op by op in Python;
* ``tf.function`` - traced once into a graph;
* ``tf.function(jit_compile=True)`` - the graph compiled by XLA.

Each mode gets a fresh model, a few warm-up steps (tracing and compiling happen there),
then timed steps. Reports images/s per mode and the speed-ups.
"""

from __future__ import annotations

import os

from benchmarks.common import peak_rss_mb, report, timeit

STEPS = 5          # timed steps per sample
EAGER_STEPS = 2    # eager steps are slow; fewer per sample


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from edgelab.core import profiles
    from edgelab.xception import training as sonnet_training
    from edgelab.datasets import flowers17
    from edgelab.core.seeding import seed_everything

    S = profiles.sizes("xception", "quick")
    files, labels = flowers17.load("train")
    ds = flowers17.dataset(files[:S.batch_size], labels[:S.batch_size],
                           image_size=S.image_size, batch_size=S.batch_size)
    images, y = next(iter(ds))
    images = tf.identity(images)
    dtype, why = sonnet_training.mixed_precision_dtype()
    print(f"Xception quick sizes: {S.image_size}px, width x{S.width_multiplier:g}, "
          f"{S.middle_blocks} middle blocks, batch {S.batch_size}; compute dtype {dtype} ({why})")

    rates = {}
    for mode, kwargs, number in (("eager", dict(use_tf_function=False), EAGER_STEPS),
                                 ("tf_function", dict(), STEPS),
                                 ("xla", dict(jit_compile=True), STEPS)):
        seed_everything(0)
        model = sonnet_training.build_flowers_model(S, dtype)
        trainer = sonnet_training.make_trainer(model, S, **kwargs)

        def step():
            float(trainer.train_step(images, y)["loss"])   # float(): wait for the result

        t = timeit(step, warmup=2, repeat=3, number=number)
        rates[mode] = S.batch_size / t["median"]
        report(f"xception.train_images_per_s.{mode}", rates[mode], "img/s",
               note=f"{S.image_size}px batch {S.batch_size}", source="bench_xception")
    report("xception.tf_function_speedup", rates["tf_function"] / rates["eager"], "x",
           source="bench_xception")
    report("xception.xla_speedup_over_tf_function", rates["xla"] / rates["tf_function"], "x",
           source="bench_xception")
    report("xception.bench_peak_rss", peak_rss_mb(), "MB", source="bench_xception")


if __name__ == "__main__":
    main()
