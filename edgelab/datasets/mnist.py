"""MNIST from the original IDX files: as NumPy arrays and as a ``tf.data`` pipeline.

The four gzip files are fetched (and checksum-verified) by the data layer, then parsed
here with a strict reader: wrong magic numbers, counts or lengths raise an error that
names the file, instead of producing garbage digits.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from edgelab.datasets.cache import fetch

NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28)
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


# Test images whose label is wrong, by human raters: Northcutt, Athalye & Mueller, "Pervasive
# Label Errors in Test Sets Destabilize Machine Learning Benchmarks" (NeurIPS Datasets and
# Benchmarks 2021, https://labelerrors.com). Confident learning flagged candidates; five
# Mechanical Turk raters each judged them, and an image counts as mislabelled when fewer than
# three of the five chose its given label. These are the 15 MNIST test images that met that
# bar (index in the test set -> the label MNIST gives it), from the authors' published
# ratings (github.com/cleanlab/label-errors, mturk/mnist_mturk.json).
TEST_LABEL_ERRORS = {947: 8, 1621: 0, 1901: 9, 2130: 4, 2462: 2, 2597: 5, 2654: 6, 3520: 6,
                     3558: 5, 5937: 5, 6651: 0, 6783: 1, 8527: 4, 9679: 6, 9729: 5}


class IdxFormatError(ValueError):
    """A file is not a valid MNIST IDX file; the message names it."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip or plain) of unsigned bytes into an array of its shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as err:
        raise IdxFormatError(f"{path}: cannot read it as {'gzip' if opener is gzip.open else 'IDX'} "
                             f"({err}); delete it and fetch it again (edgelab data fetch mnist).") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IdxFormatError(f"{path}: not an IDX file (bad magic number).")
    dtype_code, ndim = data[2], data[3]
    if dtype_code != 0x08:
        raise IdxFormatError(f"{path}: IDX element type 0x{dtype_code:02x} is not unsigned byte.")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxFormatError(f"{path}: truncated IDX header.")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) if shape else 0
    if len(data) - header != expected:
        raise IdxFormatError(f"{path}: header says {shape} = {expected} bytes, "
                             f"file has {len(data) - header}; the file is truncated or corrupt.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def load() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (N, 28, 28) and labels (N,)."""
    files = {p.name: p for p in fetch("mnist")}
    out = []
    for split in ("train", "test"):
        images, labels = (read_idx(files[n]) for n in FILES[split])
        if images.shape[0] != labels.shape[0]:
            raise IdxFormatError(f"MNIST {split}: {images.shape[0]} images but "
                                 f"{labels.shape[0]} labels.")
        out.append((images, labels))
    return out[0], out[1]


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1], the CNN's input."""
    return (images.astype(np.float32) / 255.0)[..., None]


def dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, *, shuffle: bool = False,
            seed: int = 0, drop_remainder: bool = False, cache: bool = True, repeat: bool = False):
    """A ``tf.data.Dataset`` of ``(float32 [B,28,28,1], int32 [B])`` batches.

    The order follows the tf.data performance guide: ``cache`` the small uint8 dataset in
    memory, ``shuffle`` it every epoch, ``batch`` (``drop_remainder=True`` gives the static
    shapes TPUs need), then scale whole batches at once (a vectorized ``map`` after
    ``batch`` costs one op per batch instead of one per image), and ``prefetch`` so the
    next batch is prepared while the accelerator works on this one.
    """
    import tensorflow as tf

    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    ds = tf.data.Dataset.from_tensor_slices((images, labels.astype(np.int32)))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(min(len(images), 20_000), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(lambda x, y: (tf.cast(x, tf.float32)[..., None] / 255.0, y),
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
