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
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

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


def top_blocks(num_blocks: int) -> list[str]:
    """Layer names of MobileNet's last ``num_blocks`` depthwise-separable blocks."""
    total = len(offline_modules.BLOCKS)
    if not 0 <= num_blocks <= total:
        raise ValueError(f"MobileNet v1 has {total} blocks; num_blocks must be 0..{total}, "
                         f"got {num_blocks}")
    names = []
    for i in range(total - num_blocks + 1, total + 1):
        names += [f"conv_dw_{i}", f"conv_dw_{i}_bn", f"conv_pw_{i}", f"conv_pw_{i}_bn"]
    return names


def select_variables(variables: Iterable, layer_names: Iterable[str]) -> list:
    """The variables of the layers ``layer_names`` (names like ``conv_pw_13/kernel:0``)."""
    wanted = set(layer_names)
    return [v for v in variables if v.name.split("/", 1)[0] in wanted]


def top_fine_tuner(model, variables: Sequence):
    """Wrap a tf_keras ``model`` so that ``fit`` trains only ``variables``.

    ``hub.KerasLayer(trainable=True)`` makes *every* variable of the module trainable;
    fine-tuning only the top of a backbone means updating a chosen subset. The wrapper's
    ``train_step`` computes gradients for ``variables`` only (the rest keep their values,
    though batch norm in the trainable module still runs in training mode). Compile and
    fit the wrapper; save the inner ``model``.
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
    """A tf_keras callback: one tqdm bar over the epochs, with the latest metrics on it.

    Keras' ``verbose=2`` prints two lines an epoch under tf_keras; one bar keeps notebook
    outputs short. Use with ``fit(..., verbose=0, callbacks=[epoch_progress()])``.
    """
    require_legacy_keras()
    import tf_keras
    from edgelab.core.progress import bar as tqdm

    class EpochProgress(tf_keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bar = tqdm(total=self.params.get("epochs"), desc=description, unit="epoch")

        def on_epoch_end(self, epoch, logs=None):
            self.bar.set_postfix({k: f"{v:.3f}" for k, v in (logs or {}).items()}, refresh=False)
            self.bar.update(1)

        def on_train_end(self, logs=None):
            self.bar.close()

    return EpochProgress()


def count_params(variables: Iterable) -> int:
    return int(sum(int(v.shape.num_elements()) for v in variables))


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
        offline_modules.replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest
