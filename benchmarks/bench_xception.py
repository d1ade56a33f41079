"""Notebook 02: how much do ``tf.function`` and XLA speed up the Sonnet train step?

The same Xception (quick-profile sizes: image size, width multiplier, middle blocks,
batch size) and the same real Flower17 batch, trained with the same
:class:`edgelab.xception.training.Trainer` step three ways in one process:

* eager - the step runs op by op in Python;
* ``tf.function`` - traced once into a graph;
* ``tf.function(jit_compile=True)`` - the graph compiled by XLA.

Each mode gets a fresh model, a few warm-up steps (tracing and compiling happen there),
then timed steps. Reports images/s per mode and the speed-ups.

Then **the full profile's cost**, which notebook 02 quotes because nobody has run it yet:
one training step and one evaluation batch of the full-size model (149 px, width 1.0,
8 middle blocks, batch 32, ``tf.function``) are timed on this machine, and the whole
run (epochs x (train steps + validation batches) + the test split) is added up from them.
For a Colab T4 the same total is divided by how much faster a T4 is than this machine on
a published workload both can run: ResNet-50 inference at batch 32, timed here, against
NVIDIA's T4 figure (:data:`T4_RESNET50_FP32_IMG_S`). Measured: the step times and the
ResNet-50 rate here. Assumed: that the T4 speeds up this Xception's training step as much
as it speeds up ResNet-50 inference (depthwise convolutions use a GPU less well than
ResNet's dense ones, so the true T4 time may be longer; float16 on the T4 would shorten
it). It is an estimate until ``edgelab run --profile full`` records the real one.
"""

from __future__ import annotations

import os

from benchmarks.common import SMOKE, peak_rss_mb, report, sized, timeit

STEPS = sized(5, 1)          # timed steps per sample
EAGER_STEPS = sized(2, 1)    # eager steps are slow; fewer per sample

# NVIDIA DeepLearningExamples, TensorFlow/Classification/ConvNets/resnet50v1.5/README.md,
# "Inference performance: NVIDIA T4 (1x T4 16G)", FP32, batch size 32: 414.66 img/s
# (TensorFlow 20.06-tf1-py3 NGC container).
T4_RESNET50_FP32_IMG_S = 414.66
REFERENCE_BATCH = 32


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
            float(trainer.train_step(images, y)["total_loss"])   # float(): wait for the result

        t = timeit(step, warmup=2, repeat=3, number=number)
        rates[mode] = S.batch_size / t["median"]
        report(f"xception.train_images_per_s.{mode}", rates[mode], "img/s",
               note=f"{S.image_size}px batch {S.batch_size}", source="bench_xception")
    report("xception.tf_function_speedup", rates["tf_function"] / rates["eager"], "x",
           source="bench_xception")
    report("xception.xla_speedup_over_tf_function", rates["xla"] / rates["tf_function"], "x",
           source="bench_xception")
    full_profile_cost()
    report("xception.bench_peak_rss", peak_rss_mb(), "MB", source="bench_xception")


def full_profile_cost() -> None:
    """Time the full-size model here; add up the full profile's run; estimate a T4's."""
    import math

    import keras
    import tensorflow as tf

    from edgelab.core import profiles
    from edgelab.core.seeding import seed_everything
    from edgelab.datasets import flowers17
    from edgelab.xception import training as sonnet_training

    F = profiles.sizes("xception", "quick" if SMOKE else "full")   # smoke: the same code, small
    files, labels = flowers17.load("train")
    ds = flowers17.dataset(files[:F.batch_size], labels[:F.batch_size],
                           image_size=F.image_size, batch_size=F.batch_size)
    images, y = next(iter(ds))
    seed_everything(0)
    model = sonnet_training.build_flowers_model(F, "float32")
    trainer = sonnet_training.make_trainer(model, F)
    print(f"full-size Xception: {F.image_size}px, width x{F.width_multiplier:g}, "
          f"{F.middle_blocks} middle blocks, batch {F.batch_size}, float32, tf.function")
    train = timeit(lambda: float(trainer.train_step(images, y)["total_loss"]), warmup=1, repeat=3)
    evaluate = timeit(lambda: trainer._eval_step(images).numpy(), warmup=1, repeat=3)
    note = f"{F.image_size}px batch {F.batch_size}, median of 3"
    report("xception.full_size.train_step_s", train["median"], "s", note=note,
           source="bench_xception")
    report("xception.full_size.eval_batch_s", evaluate["median"], "s", note=note,
           source="bench_xception")

    n_train, n_val, n_test = (len(flowers17.load(split)[0]) for split in ("train", "val", "test"))
    steps = sonnet_training.steps_per_epoch(n_train, F.batch_size)
    batches = math.ceil(n_val / F.batch_size), math.ceil(n_test / F.batch_size)
    seconds = (F.epochs * (steps * train["median"] + batches[0] * evaluate["median"])
               + batches[1] * evaluate["median"])
    report("xception.full_profile.cpu_hours", seconds / 3600, "h",
           note=f"{F.epochs} epochs x ({steps} steps + {batches[0]} val batches) + test, "
                "from the measured step times", source="bench_xception")

    seed_everything(0)
    resnet = keras.applications.ResNet50(weights=None)
    batch = tf.image.resize(tf.concat([images] * (REFERENCE_BATCH // F.batch_size + 1), 0)
                            [:REFERENCE_BATCH], (224, 224))
    infer = tf.function(lambda x: resnet(x, training=False))
    ref = timeit(lambda: infer(batch).numpy(), warmup=1, repeat=3)
    here = REFERENCE_BATCH / ref["median"]
    report("reference.resnet50_b32_inference_img_s", here, "img/s",
           note="keras.applications.ResNet50, 224px, float32, tf.function", source="bench_xception")
    speedup = T4_RESNET50_FP32_IMG_S / here
    report("xception.full_profile.t4_speedup_assumed", speedup, "x",
           note=f"NVIDIA's T4 ResNet-50 FP32 batch-32 inference {T4_RESNET50_FP32_IMG_S} img/s "
                "over this machine's", source="bench_xception")
    report("xception.full_profile.t4_estimate_hours", seconds / 3600 / speedup, "h",
           note="estimate: this machine's measured total / the ResNet-50 speed-up",
           source="bench_xception")


if __name__ == "__main__":
    main()
