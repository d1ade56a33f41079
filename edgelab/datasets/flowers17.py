"""Oxford 17 Category Flowers: file paths and labels for a named split, and a tf.data pipeline.

The 1360 images are ``image_0001.jpg`` ... ``image_1360.jpg``, 80 per class in class order,
so the label of ``image_n.jpg`` is ``(n - 1) // 80``.

Splits. The official protocol uses three random splits of 40 train / 20 val / 20 test
images per class, published as ``datasplits.mat``. When that file is present (in the
cache or the mirror, see ``edgelab data fetch flowers17_splits``) edgelab uses its split 1
(``split_source() == "official"``). It is not in the shared mirror, so otherwise edgelab
uses its own split with the same sizes: within each class, the 80 image numbers are
shuffled by ``numpy.random.default_rng(seed)`` (``SPLIT_SEED = 17`` unless given) and cut
into 40/20/20. The same seed always gives the same split on every machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from edgelab.datasets import registry
from edgelab.datasets.cache import DataError, cache_path, fetch, fetch_file

CLASS_NAMES = (
    "Daffodil", "Snowdrop", "LilyValley", "Bluebell", "Crocus", "Iris", "Tigerlily", "Tulip",
    "Fritillary", "Sunflower", "Daisy", "ColtsFoot", "Dandelion", "Cowslip", "Buttercup",
    "Windflower", "Pansy",
)
NUM_CLASSES = len(CLASS_NAMES)
IMAGES_PER_CLASS = 80
NUM_IMAGES = NUM_CLASSES * IMAGES_PER_CLASS
SPLIT_SIZES = {"train": 40, "val": 20, "test": 20}  # per class
SPLIT_SEED = 17


class FlowersError(ValueError):
    """A missing or unreadable Flower17 image, or a bad split file; names the file."""


def label_of(number: int) -> int:
    """Class index of ``image_<number>.jpg`` (1-based numbering)."""
    if not 1 <= number <= NUM_IMAGES:
        raise ValueError(f"Flower17 image numbers run from 1 to {NUM_IMAGES}, got {number}")
    return (number - 1) // IMAGES_PER_CLASS


def file_name(number: int) -> str:
    return f"image_{number:04d}.jpg"


def _check_jpeg(path: Path) -> None:
    """Cheap structural check: JPEG start and end markers. Names the file on failure."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(3)
            handle.seek(max(size - 2, 0))
            tail = handle.read(2)
    except FileNotFoundError:
        raise FlowersError(f"{path}: Flower17 image is missing. Every one of the {NUM_IMAGES} "
                           "images is needed; restore it (or run: edgelab data fetch flowers17)."
                           ) from None
    if head != b"\xff\xd8\xff" or tail != b"\xff\xd9":
        raise FlowersError(f"{path}: not a complete JPEG (truncated or corrupt). Replace it with "
                           "the original (edgelab data fetch flowers17 re-fetches bad files).")


def image_dir(root: str | os.PathLike | None = None) -> Path:
    """The folder with the 1360 images: ``root`` if given, else the verified cache."""
    if root is not None:
        return Path(root)
    fetch("flowers17")
    return cache_path(registry.get("flowers17").files[0]).parent


def all_files(root: str | os.PathLike | None = None) -> list[Path]:
    """All 1360 image paths in number order, each checked; never silently drops one."""
    folder = image_dir(root)
    if not folder.is_dir():
        raise FlowersError(f"{folder}: no such folder of Flower17 images.")
    files = [folder / file_name(n) for n in range(1, NUM_IMAGES + 1)]
    for f in files:
        _check_jpeg(f)
    return files


def _official_split_file() -> Path | None:
    """datasplits.mat if it is in the cache or the mirror (never downloaded implicitly)."""
    f = registry.get("flowers17_splits").files[0]
    try:
        return fetch_file(f, progress=False, use_urls=False)
    except DataError:
        return None


def _read_official(path: Path, which: int = 1) -> dict[str, np.ndarray]:
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
    except Exception as err:  # noqa: BLE001 - scipy raises several types
        raise FlowersError(f"{path}: cannot read the split file ({err}).") from None
    out = {}
    for split, key in (("train", "trn"), ("val", "val"), ("test", "tst")):
        name = f"{key}{which}"
        if name not in mat:
            raise FlowersError(f"{path}: has no {name!r}; is it Flower17's datasplits.mat?")
        numbers = np.sort(np.asarray(mat[name]).ravel().astype(int))
        counts = np.bincount((numbers - 1) // IMAGES_PER_CLASS, minlength=NUM_CLASSES)
        want = SPLIT_SIZES[split]
        if numbers.min() < 1 or numbers.max() > NUM_IMAGES or not np.all(counts == want):
            raise FlowersError(f"{path}: {name} is not {want} images per class of 1..{NUM_IMAGES}.")
        out[split] = numbers
    return out


def seeded_split(seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """edgelab's stratified 40/20/20-per-class split: sorted 1-based image numbers."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[int]] = {k: [] for k in SPLIT_SIZES}
    for c in range(NUM_CLASSES):
        numbers = rng.permutation(np.arange(c * IMAGES_PER_CLASS + 1, (c + 1) * IMAGES_PER_CLASS + 1))
        start = 0
        for split, n in SPLIT_SIZES.items():
            out[split].extend(numbers[start:start + n].tolist())
            start += n
    return {k: np.array(sorted(v)) for k, v in out.items()}


def split_source() -> str:
    """``"official"`` if datasplits.mat is available, else ``"seeded"``."""
    return "official" if _official_split_file() is not None else "seeded"


def split_numbers(split: str, seed: int = SPLIT_SEED) -> np.ndarray:
    """1-based image numbers of ``split`` ("train", "val", "test" or "all")."""
    if split == "all":
        return np.arange(1, NUM_IMAGES + 1)
    if split not in SPLIT_SIZES:
        raise ValueError(f"unknown Flower17 split {split!r}; use train, val, test or all")
    official = _official_split_file()
    parts = _read_official(official) if official is not None else seeded_split(seed)
    return parts[split]


def load(split: str = "train", *, root: str | os.PathLike | None = None,
         seed: int = SPLIT_SEED) -> tuple[list[str], np.ndarray]:
    """File paths (str) and int32 labels of one split, in image-number order."""
    files = all_files(root)
    numbers = split_numbers(split, seed)
    return [str(files[n - 1]) for n in numbers], np.array([label_of(n) for n in numbers], np.int32)


# --------------------------------------------------------------------------- tf.data

def decode(path, image_size: int):
    """Read, decode and resize one JPEG to float32 [image_size, image_size, 3] in [0, 1]."""
    import tensorflow as tf

    image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
    image = tf.image.resize(image, (image_size, image_size), antialias=True)
    return tf.clip_by_value(image / 255.0, 0.0, 1.0)


def augment(image, seed):
    """The source lesson's three augmentations, random flip, brightness and contrast, in
    milder ranges than its (brightness +-63 of 255, contrast 0.2 to 1.8); stateless."""
    import tensorflow as tf

    s = tf.random.experimental.stateless_split(seed, 3)
    image = tf.image.stateless_random_flip_left_right(image, s[0])
    image = tf.image.stateless_random_brightness(image, 0.2, s[1])
    image = tf.image.stateless_random_contrast(image, 0.7, 1.3, s[2])
    return tf.clip_by_value(image, 0.0, 1.0)


def dataset(files: Sequence[str], labels: Sequence[int], *, image_size: int, batch_size: int,
            shuffle: bool = False, augment_images: bool = False, seed: int = 0,
            cache: bool = True, drop_remainder: bool = False):
    """A ``tf.data.Dataset`` of ``(float32 [B,S,S,3] in [0,1], int32 [B])``.

    Decoded, resized images are cached in memory (Flower17 at 149 px is about 360 MB for
    all 1360 images; a split is a fraction of that), augmentation runs after the cache so
    every epoch sees new variations.
    """
    import tensorflow as tf

    if len(files) != len(labels):
        raise ValueError(f"{len(files)} files but {len(labels)} labels")
    ds = tf.data.Dataset.from_tensor_slices((list(map(str, files)), np.asarray(labels, np.int32)))
    ds = ds.map(lambda p, y: (decode(p, image_size), y), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    if augment_images:
        counter = tf.data.Dataset.counter()
        ds = tf.data.Dataset.zip((ds, counter)).map(
            lambda xy, i: (augment(xy[0], tf.stack([tf.cast(seed, tf.int64), i])), xy[1]),
            num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
