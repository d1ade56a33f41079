"""MNIST batches for ``model.fit`` on either engine: tf.data when TensorFlow is installed,
NumPy batches when it is not.

The lesson's pipeline is ``tf.data`` (:func:`edgelab.datasets.mnist.dataset`: cache,
shuffle, batch, scale, prefetch), and Keras 3 feeds a ``tf.data.Dataset`` to the JAX
backend as well as to TensorFlow. Colab's TPU runtime has no TensorFlow at all; there the
same batches come from :class:`keras.utils.PyDataset` over the NumPy arrays: shuffled every
epoch with a seeded generator, the last partial batch dropped on request (static shapes),
scaled to [0, 1] one whole batch at a time.
"""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np


def tensorflow_available() -> bool:
    """True when TensorFlow can be imported (without importing it)."""
    if "tensorflow" in sys.modules:
        return True
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def pipeline(images: np.ndarray, labels: np.ndarray, batch_size: int, *, shuffle: bool = False,
             seed: int = 0, drop_remainder: bool = False):
    """Batches of ``(float32 [B,28,28,1] in [0,1], int32 [B])`` for ``fit``/``evaluate``."""
    if tensorflow_available():
        from edgelab.datasets import mnist

        return mnist.dataset(images, labels, batch_size, shuffle=shuffle, seed=seed,
                             drop_remainder=drop_remainder)
    return numpy_batches(images, labels, batch_size, shuffle=shuffle, seed=seed,
                         drop_remainder=drop_remainder)


def describe(batches) -> str:
    """``tf.data.Dataset`` or ``NumPy batches (keras.utils.PyDataset)``: what feeds ``fit``."""
    if type(batches).__name__ == "NumpyBatches":
        return "NumPy batches (keras.utils.PyDataset; TensorFlow is not installed)"
    return "tf.data.Dataset"


def numpy_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, *,
                  shuffle: bool = False, seed: int = 0, drop_remainder: bool = False):
    """The NumPy pipeline: a ``keras.utils.PyDataset`` (works on every Keras backend)."""
    return _numpy_batches_class()(images, labels, batch_size, shuffle=shuffle, seed=seed,
                                  drop_remainder=drop_remainder)


_CLASS = None


def _numpy_batches_class():
    # Defined on first use, so that importing this module does not import Keras (whose
    # backend must be chosen first, see edgelab.devices).
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    import keras

    class NumpyBatches(keras.utils.PyDataset):
        """uint8 (N, 28, 28) images and labels, served as scaled float32 batches."""

        def __init__(self, images, labels, batch_size, *, shuffle=False, seed=0,
                     drop_remainder=False):
            super().__init__()
            if len(images) != len(labels):
                raise ValueError(f"{len(images)} images but {len(labels)} labels")
            if batch_size < 1:
                raise ValueError(f"batch_size must be >= 1, got {batch_size}")
            self.images, self.labels = images, labels.astype(np.int32)
            self.batch_size, self.shuffle, self.drop_remainder = batch_size, shuffle, drop_remainder
            self._rng = np.random.default_rng(seed)
            self._order = np.arange(len(images))
            if shuffle:
                self._rng.shuffle(self._order)

        def __len__(self):
            n = len(self.images) / self.batch_size
            return math.floor(n) if self.drop_remainder else math.ceil(n)

        def __getitem__(self, index):
            if not 0 <= index < len(self):
                raise IndexError(f"batch {index} of {len(self)}")
            take = self._order[index * self.batch_size:(index + 1) * self.batch_size]
            x = self.images[take].astype(np.float32)[..., None] / 255.0
            return x, self.labels[take]

        def __iter__(self):
            for i in range(len(self)):
                yield self[i]

        def on_epoch_end(self):
            if self.shuffle:
                self._rng.shuffle(self._order)

    _CLASS = NumpyBatches
    return _CLASS
