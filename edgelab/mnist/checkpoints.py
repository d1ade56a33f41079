"""A checkpoint that matches variables by name, kept to show why that breaks in Jupyter.

TensorFlow 1's ``tf.train.Saver`` stored each variable under its global name
(``Variable_43``) and restored by looking that name up. Re-running a model-building cell
in the same kernel creates new variables, and the framework gives them new names to keep
them unique, so the lookup fails ("Key ... not found in checkpoint"). Keras 3 numbers
unnamed layers the same way (``dense``, ``dense_1``, ...), so a name-based checkpoint of a
Keras model fails the same way; :func:`save_by_name` and :func:`restore_by_name` are that
checkpoint, in a few lines. Keras' own ``.weights.h5`` and ``.keras`` files (and TensorFlow
2's ``tf.train.Checkpoint``) follow the model's structure instead, and do not care.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def save_by_name(model, path) -> Path:
    """Write every variable of ``model`` under its name (``variable.path``) to an ``.npz``."""
    import keras

    path = Path(path)
    np.savez(path, **{v.path: keras.ops.convert_to_numpy(v.value) for v in model.weights})
    return path


def restore_by_name(model, path) -> int:
    """Assign each variable of ``model`` the array saved under its name; return how many.

    Raises ``KeyError`` naming the first variable whose name the checkpoint lacks, as
    TensorFlow 1's Saver did.
    """
    with np.load(path) as saved:
        for v in model.weights:
            if v.path not in saved.files:
                raise KeyError(f"Key {v.path} not found in checkpoint {Path(path).name}")
        for v in model.weights:
            v.assign(saved[v.path])
    return len(model.weights)
