"""Transfer learning with a TF Hub module: its input, its top classes, fine-tuning, saving.

What notebook 05 does after :mod:`edgelab.hub.handles` has found a module: images in
the module's input format (:func:`to_hub_input`), readable predictions (:func:`top_k`),
training only the top blocks of the backbone (:func:`top_blocks`, :func:`top_fine_tuner`),
a progress bar over epochs, and a SavedModel that notebook 07 converts
(:func:`save_for_deployment`).

Hub layers are tf_keras (Keras 2) layers: the helpers that build Keras objects call
:func:`require_legacy_keras` first, which explains the fix when the process runs Keras 3.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from edgelab.core.atomic import replace_dir
from edgelab.hub import offline as offline_modules
from edgelab.hub.handles import LEGACY_KERAS_VAR


# --------------------------------------------------------------------------- images

def to_hub_input(image, size: int):
    """An RGB uint8 image -> float32 [1, size, size, 3] in [0, 1], as Hub image modules take.

    The central square is cropped first (ImageNet's evaluation convention), so the subject
    is not squashed, then resized with antialiasing.
    """
    import tensorflow as tf

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = image[top:top + side, left:left + side]
    scale = 255.0 if image.dtype == np.uint8 else 1.0
    resized = tf.image.resize(square.astype(np.float32) / scale, (size, size), antialias=True)
    return tf.clip_by_value(resized, 0.0, 1.0)[None]


def top_k(logits, labels: Sequence[str], k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` most probable ``(label, probability)`` pairs of one row of logits."""
    logits = np.asarray(logits, np.float64).reshape(-1)
    if len(labels) != len(logits):
        raise ValueError(f"{len(logits)} logits but {len(labels)} labels; a TF-Hub ImageNet "
                         "classifier has 1001 outputs (background first): use "
                         "samples.imagenet_labels()")
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    order = np.argsort(-probs, kind="stable")[:k]
    return [(labels[i], float(probs[i])) for i in order]


# --------------------------------------------------------------------------- fine-tuning

def require_legacy_keras() -> None:
    """Raise a clear error unless this process runs tf_keras as ``tf.keras``."""
    import tensorflow as tf

    legacy = tf.keras.layers.Layer.__module__.startswith("tf_keras")
    if os.environ.get(LEGACY_KERAS_VAR) != "1" or not legacy:
        raise RuntimeError(
            "hub.KerasLayer is a tf_keras (Keras 2) layer, and this process runs Keras 3 as "
            f"tf.keras. Set {LEGACY_KERAS_VAR}=1 before TensorFlow is first imported (in a "
            "notebook: first line of the first cell, then restart the kernel).")


def block_of(variable_name: str) -> int | None:
    """The MobileNet v1 block a variable belongs to, from its published (TF-Slim) name.

    TF-Slim numbers MobileNet v1's convolutions in depth order, input to output:
    ``MobilenetV1/Conv2d_0/...`` is the stem (block 0), ``MobilenetV1/Conv2d_<i>_depthwise/...``
    and ``MobilenetV1/Conv2d_<i>_pointwise/...`` form block ``i`` (1..13), and
    ``MobilenetV1/Logits/...`` is the classifier (block 14). Any other name gives ``None``.
    Both the published modules and edgelab's offline build use these names.
    """
    match = _BLOCK_NAME.match(variable_name)
    if match is None:
        return None
    if match.group("logits"):
        return len(offline_modules.BLOCKS) + 1
    return int(match.group("block"))


_BLOCK_NAME = re.compile(rf"^(?:.*/)?{offline_modules.SCOPE}/(?:(?P<logits>Logits)/|"
                         r"Conv2d_(?P<block>\d+)(?:_depthwise|_pointwise)?/)")


def top_blocks(num_blocks: int) -> list[str]:
    """The variable scopes of MobileNet v1's last ``num_blocks`` depthwise-separable blocks.

    The rule, which holds for the published modules and for edgelab's build alike: blocks
    are numbered in depth order (see :func:`block_of`), so the top ``n`` are blocks
    ``14 - n`` to 13, each a depthwise and a pointwise convolution with their batch norms.
    Pass the result to :func:`select_variables`.
    """
    total = len(offline_modules.BLOCKS)
    if not 0 <= num_blocks <= total:
        raise ValueError(f"MobileNet v1 has {total} blocks; num_blocks must be 0..{total}, "
                         f"got {num_blocks}")
    scopes = []
    for i in range(total - num_blocks + 1, total + 1):
        scopes += [f"{offline_modules.SCOPE}/Conv2d_{i}_depthwise",
                   f"{offline_modules.SCOPE}/Conv2d_{i}_pointwise"]
    return scopes


def select_variables(variables: Iterable, scopes: Iterable[str]) -> list:
    """The variables under ``scopes`` (as :func:`top_blocks` gives them), in their order.

    A variable belongs to a scope when its name continues the scope with ``/``
    (``MobilenetV1/Conv2d_13_pointwise/weights:0`` is under ``MobilenetV1/Conv2d_13_pointwise``).
    If ``scopes`` is not empty but no variable matches, the module does not use MobileNet
    v1's published names, and fine-tuning "the top blocks" would silently train nothing of
    the backbone: that raises a ``ValueError`` instead.
    """
    variables, wanted = list(variables), [s.rstrip("/") + "/" for s in scopes]
    chosen = [v for v in variables if any(f"{v.name}".startswith(s) or f"/{s}" in v.name
                                          for s in wanted)]
    if wanted and not chosen:
        seen = ", ".join(v.name for v in variables[:3]) or "no variables at all"
        raise ValueError(f"no variable is under {wanted[0].rstrip('/')} (or the other "
                         f"{len(wanted) - 1} scopes): this module does not name its variables "
                         f"like TF-Slim's MobileNet v1 (it has {seen}, ...). Choose the "
                         "variables to train by that model's own names.")
    return chosen


def top_fine_tuner(model, variables: Sequence):
    """Wrap a tf_keras ``model`` so that ``fit`` trains only ``variables``.

    ``hub.KerasLayer(trainable=True)`` makes *every* variable of the module trainable;
    fine-tuning only the top of a backbone means updating a chosen subset. The wrapper's
    ``train_step`` runs the model with ``training=True`` (dropout on), adds the model's
    losses (the Hub module's regularisation losses among them) through ``compute_loss``,
    and applies gradients to ``variables`` only; every other variable keeps its value.
    Batch norm inside the module follows the model: a Hub layer called with
    ``training=False`` when the model was built (notebook 05 does) normalises with its
    moving statistics and never updates them; one called without it runs in training mode
    during ``fit`` (batch statistics, moving averages updated). Notebook 05 writes this
    class out and checks that it gives the same weights as this one. Compile and fit the
    wrapper; save the inner ``model``.
    """
    require_legacy_keras()
    import tensorflow as tf
    import tf_keras

    chosen = list(variables)
    if not chosen:
        raise ValueError("top_fine_tuner needs at least one variable to train")
    trainable = {v.ref() for v in model.trainable_variables}
    stray = [v.name for v in chosen if v.ref() not in trainable]
    if stray:
        raise ValueError(f"these variables are not trainable variables of {model.name!r}: "
                         f"{stray[:3]}; build the Hub layer with trainable=True")

    class TopFineTuner(tf_keras.Model):
        def __init__(self, inner):
            super().__init__(name=f"{inner.name}_top")
            self.inner = inner

        def call(self, inputs, training=None):
            return self.inner(inputs, training=training)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(x, y, y_pred)
            grads = tape.gradient(loss, chosen)
            self.optimizer.apply_gradients(zip(grads, chosen))
            return self.compute_metrics(x, y, y_pred, None)

    return TopFineTuner(model)


def epoch_progress(description: str = "epochs"):
    """A tf_keras callback: one progress bar over the epochs, with the latest metrics on it.

    Keras' ``verbose=2`` prints two lines an epoch under tf_keras; one bar keeps notebook
    outputs short. The bar is :func:`edgelab.core.progress.bar` (a widget in JupyterLab and
    Colab, a text line headless). Use with ``fit(..., verbose=0, callbacks=[epoch_progress()])``.
    """
    require_legacy_keras()
    import tf_keras

    from edgelab.core import progress

    class EpochProgress(tf_keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bar = progress.bar(total=self.params.get("epochs"), desc=description,
                                    unit="epoch")

        def on_epoch_end(self, epoch, logs=None):
            self.bar.set_postfix({k: f"{v:.3f}" for k, v in (logs or {}).items()}, refresh=False)
            self.bar.update(1)

        def on_train_end(self, logs=None):
            self.bar.close()

    return EpochProgress()


def count_params(variables: Iterable) -> int:
    """The number of values in ``variables`` (a layer's weights, a list of tf.Variables)."""
    return int(sum(int(np.prod(v.shape)) for v in variables))


# --------------------------------------------------------------------------- measuring

def accuracy_standard_error(accuracy: float, n: int) -> float:
    """The standard error of an accuracy measured on ``n`` images: sqrt(p (1 - p) / n).

    How far the same model's accuracy would typically move on another set of images of the
    same size: the precision of *one* accuracy. Two models measured on the same images are
    not compared with it (their errors are correlated); use a paired test on the images
    they disagree on, McNemar's, as notebook 05 does.
    """
    if n <= 0:
        raise ValueError(f"need at least one test image, got n={n}")
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"an accuracy is a fraction in [0, 1], got {accuracy}")
    return float(np.sqrt(accuracy * (1.0 - accuracy) / n))


# --------------------------------------------------------------------------- saving

def save_for_deployment(model, dest: str | os.PathLike, image_size: int) -> Path:
    """Save a tf_keras model as a SavedModel folder ``dest``, atomically.

    The folder has a ``serving_default`` signature taking float32 ``[None, S, S, 3]`` in
    [0, 1] and returning ``{"logits": ...}``, which TFLite's ``from_saved_model`` (notebook
    07, in a Keras 3 process) converts. It is written to a temporary folder and renamed
    into place when complete.
    """
    require_legacy_keras()
    import tensorflow as tf

    dest = Path(dest)
    spec = tf.TensorSpec([None, image_size, image_size, 3], tf.float32, name="images")

    @tf.function(input_signature=[spec])
    def serve(images):
        return {"logits": model(images, training=False)}

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    try:
        model.save(str(tmp), save_format="tf", signatures={"serving_default": serve})
        replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def save_h5(model, dest: str | os.PathLike) -> Path:
    """Save a tf_keras model (configuration and weights) as the ``.h5`` file ``dest``, atomically.

    A Hub layer in it refers to its module folder by path, so loading it needs that folder
    and ``custom_objects={"KerasLayer": hub.KerasLayer}``.
    """
    require_legacy_keras()
    from edgelab.core.atomic import atomic_path

    dest = Path(dest)
    with atomic_path(dest) as tmp:
        model.save(str(tmp))
    return dest
