"""Notebook 05: what do edgelab's offline TF-Hub modules cost?

* the one-off build of the MobileNet v1 0.25 classification module (Keras weights -> a
  TF-Hub-format SavedModel), into a fresh folder;
* inference speed of that SavedModel against the Keras 3 MobileNet it was built from, on
  the same batch: the plain-TensorFlow rewrite should be no slower (ratio near 1);
* a fine-tuning step (batch norm in inference mode, all trainable variables) on a batch at
  224 px, as notebook 05 fine-tunes (the Hub layer called with ``training=False``).
"""

from __future__ import annotations

import tempfile
import time

from benchmarks.common import peak_rss_mb, report, timeit

BATCH = 32


def main() -> None:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    from edgelab.hub import offline as hub_models
    from edgelab.datasets import samples

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        net = hub_models.build_network("classification")
        hub_models.save_reusable(net, tmp)
        report("hub.build_classifier_s", time.perf_counter() - t0, "s",
               note="read Keras weights, trace 2 call variants + signature, save")
        module = tf.saved_model.load(tmp)

        x = tf.constant(np.random.default_rng(0).random((BATCH, 128, 128, 3), np.float32))
        keras_model = keras.applications.MobileNet(
            input_shape=(128, 128, 3), alpha=0.25, weights=None, classifier_activation=None)
        keras_model.load_weights(samples.mobilenet_weights(include_top=True))
        keras_fn = tf.function(lambda images: keras_model(images * 2.0 - 1.0, training=False))
        hub_fn = tf.function(lambda images: module(images, training=False))
        t_hub = timeit(lambda: hub_fn(x).numpy())["median"]
        t_keras = timeit(lambda: keras_fn(x).numpy())["median"]
        report("hub.classifier_128px_img_per_s", BATCH / t_hub, "img/s", note=f"batch {BATCH}")
        report("hub.savedmodel_vs_keras_time_ratio", t_hub / t_keras, "x",
               note="same network and batch; goal <= 1.1")

    features = hub_models.build_network("feature_vector")
    head = tf.Variable(tf.zeros([hub_models.FEATURE_DIM, 17]))
    variables = features.ordered_variables(trainable_only=True) + [head]
    optimizer = keras.optimizers.Adam(1e-4)
    x224 = tf.constant(np.random.default_rng(1).random((BATCH, 224, 224, 3), np.float32))
    y = tf.constant(np.arange(BATCH) % 17)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            logits = tf.matmul(features.forward(x224, training=False), head)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    t_step = timeit(lambda: step().numpy(), repeat=5)["median"]
    report("hub.finetune_224px_img_per_s", BATCH / t_step, "img/s",
           note=f"all 13 blocks + head, batch {BATCH}")
    report("hub.peak_rss_mb", peak_rss_mb(), "MB")


if __name__ == "__main__":
    main()
