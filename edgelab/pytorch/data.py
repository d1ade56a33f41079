"""Flower17 photos with two targets: the flower's name and a mask of where its colours are.

The classification target is Flower17's real label. Flower17 has no segmentation masks in
edgelab's data layer, so the mask target is **computed by a colour rule**, not drawn by a
person: a pixel counts as "flower" when it is colourful (saturation > 0.35, value > 0.25)
or bright white (saturation < 0.2, value > 0.7), and not the green of leaves and grass
(hue 70-170 degrees with saturation > 0.2); a 5x5 opening and closing removes specks.
The rule is wrong in places a learner can see (a blue sky counts as flower, a pale green
petal does not); the network learns to reproduce the rule, and the notebook measures how
well (IoU against the rule on test photos), which is what a conversion must preserve.

Images are decoded and resized with OpenCV (area interpolation) into NCHW float32 in
[0, 1], PyTorch's layout, with the split of :mod:`edgelab.datasets.flowers17`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FOLIAGE_HUE = (70.0, 170.0)     # degrees; green leaves and grass
FOLIAGE_MIN_SATURATION = 0.2
COLOURFUL = (0.35, 0.25)        # saturation above, value above
WHITE = (0.2, 0.7)              # saturation below, value above
CLEAN_KERNEL = 5


@dataclass(frozen=True)
class FlowerMasks:
    """One split: ``images`` float32 [N, 3, S, S] in [0, 1], ``masks`` float32 [N, 1, S, S]
    (0 or 1), ``labels`` int64 [N]."""

    images: np.ndarray
    masks: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def colour_mask(rgb: np.ndarray) -> np.ndarray:
    """The rule's mask (uint8 0/1, [H, W]) of one RGB uint8 image [H, W, 3]."""
    import cv2

    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"colour_mask needs an RGB uint8 image [H, W, 3], got {rgb.dtype} "
                         f"{rgb.shape}")
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL).astype(np.float32)
    hue, sat, val = hsv[..., 0] * (360.0 / 256.0), hsv[..., 1] / 255.0, hsv[..., 2] / 255.0
    foliage = (hue > FOLIAGE_HUE[0]) & (hue < FOLIAGE_HUE[1]) & (sat > FOLIAGE_MIN_SATURATION)
    colourful = (sat > COLOURFUL[0]) & (val > COLOURFUL[1])
    white = (sat < WHITE[0]) & (val > WHITE[1])
    mask = ((colourful | white) & ~foliage).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (CLEAN_KERNEL, CLEAN_KERNEL))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)


def read_rgb(path: str, image_size: int) -> np.ndarray:
    """One JPEG as RGB uint8 [S, S, 3], resized with area interpolation."""
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{path}: OpenCV cannot read this image (missing or corrupt JPEG).")
    bgr = cv2.resize(bgr, (image_size, image_size), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def load(split: str, image_size: int, *, progress: bool = True) -> FlowerMasks:
    """All images of a Flower17 split (``train``, ``val``, ``test``) with both targets."""
    from edgelab.core.progress import bar
    from edgelab.datasets import flowers17

    files, labels = flowers17.load(split)
    images = np.empty((len(files), 3, image_size, image_size), np.float32)
    masks = np.empty((len(files), 1, image_size, image_size), np.float32)
    for i, path in enumerate(bar(files, desc=f"decoding {split}", unit="img",
                                 disable=not progress)):
        rgb = read_rgb(path, image_size)
        masks[i, 0] = colour_mask(rgb)
        images[i] = rgb.transpose(2, 0, 1) / np.float32(255.0)
    return FlowerMasks(images, masks, np.asarray(labels, np.int64))


def to_nhwc(images: np.ndarray) -> np.ndarray:
    """NCHW -> NHWC (what TensorFlow and LiteRT models take), as a contiguous copy."""
    return np.ascontiguousarray(np.asarray(images).transpose(0, 2, 3, 1))
