"""Notebook 03: what does one Grad-CAM map cost, next to one forward+backward pass?

Grad-CAM runs the model forward once and back-propagates the class score only down to the
last feature map, so it should cost no more than a full forward+backward pass of the same
model (goal: <= 2x). Both are measured side by side in one process, on the same images,
each as one compiled ``tf.function`` call that ends with the result in NumPy:

* ``forward_backward``: the logits, then the gradient of the top-class logit with respect
  to the input image (a full backward pass through every layer, as a saliency map needs);
* ``gradcam`` / ``gradcam++``: ``edgelab.gradcam.GradCam(model)(images)``, everything the
  user-facing call does (class choice, resize to the input, normalisation).

Models: the ImageNet MobileNet (0.25, 128 px) of the notebook, and the Flower17 classifier
(MobileNet backbone nested in a Keras model, built with its ImageNet features; its head's
weights do not change the cost), at batch sizes 1 and 8.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import peak_rss_mb, report, timeit

BATCHES = (1, 8)
SOURCE = "bench_gradcam"


def _forward_backward(model):
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def step(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            logits = model(images, training=False)
            score = tf.reduce_max(logits, axis=-1)
        return logits, tape.gradient(score, images)

    def run(images):
        logits, grads = step(images)
        return logits.numpy(), grads.numpy()

    return run


def _measure(name: str, model, images_full) -> None:
    import tensorflow as tf

    from edgelab import gradcam as explain

    fwd_bwd = _forward_backward(model)
    cams = {method: explain.GradCam(model, method=method) for method in explain.METHODS}
    for batch in BATCHES:
        images = tf.constant(images_full[:batch])
        # Interleave the measurements (best of 3 rounds each) so that a busy neighbour on a
        # shared machine slows both sides alike.
        best: dict[str, float] = {}
        for _ in range(3):
            runs = {"forward_backward": lambda: fwd_bwd(images)}
            runs.update({m: (lambda c=c: c(images)) for m, c in cams.items()})
            for key, fn in runs.items():
                t = timeit(fn, warmup=2, repeat=5)["median"]
                best[key] = min(best.get(key, t), t)
        for key, seconds in best.items():
            report(f"gradcam.{name}.b{batch}.{key}_ms", 1000 * seconds, "ms", source=SOURCE)
        report(f"gradcam.{name}.b{batch}.gradcam_over_fwd_bwd",
               best["gradcam"] / best["forward_backward"], "x", note="goal <= 2", source=SOURCE)
        report(f"gradcam.{name}.b{batch}.gradcam++_over_fwd_bwd",
               best["gradcam++"] / best["forward_backward"], "x", source=SOURCE)


def main() -> None:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from edgelab.hub import flowers_classifier
    from edgelab.gradcam import imagenet
    from edgelab.datasets import samples

    photos = [samples.load_image(name) for name in samples.SAMPLE_IMAGES]
    batch = imagenet.preprocess([photos[i % len(photos)] for i in range(max(BATCHES))])
    _measure("imagenet_mobilenet", imagenet.load_model(), batch)
    # The flower model takes [0, 1] images: the same photos, rescaled.
    _measure("flowers_mobilenet", flowers_classifier.build(imagenet.IMAGE_SIZE),
             ((batch + 1.0) / 2.0).astype(np.float32))
    report("gradcam.bench_peak_rss", peak_rss_mb(), "MB", source=SOURCE)


if __name__ == "__main__":
    main()
