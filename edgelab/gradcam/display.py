"""Showing a heatmap: resized to the image, colour-mapped, blended, and in a figure.

A Grad-CAM map has the coarse resolution of the last feature map (4x4, 7x7...). To see
it, it is resized to the image (bilinear), turned into colours and blended onto the
photo; :func:`figure` puts image, heatmap, overlay and the top classes in one row per
image, which is where a reader would rather look than read numbers.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def resize_heatmap(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A heatmap (h, w) resized (bilinear) to ``size`` = (height, width), float32."""
    import cv2

    heatmap = np.asarray(heatmap, dtype=np.float32)
    if heatmap.ndim != 2:
        raise ValueError(f"heatmap must be 2-D (height, width), got shape {heatmap.shape}")
    height, width = int(size[0]), int(size[1])
    if heatmap.shape == (height, width):
        return heatmap
    return cv2.resize(heatmap, (width, height), interpolation=cv2.INTER_LINEAR)


def colorize(heatmap: np.ndarray, colormap: int | None = None) -> np.ndarray:
    """A [0, 1] heatmap as an RGB uint8 image through an OpenCV colormap (default: jet)."""
    import cv2

    heatmap = np.asarray(heatmap, dtype=np.float32)
    if heatmap.ndim != 2:
        raise ValueError(f"heatmap must be 2-D (height, width), got shape {heatmap.shape}")
    levels = np.uint8(np.round(255 * np.clip(heatmap, 0.0, 1.0)))
    bgr = cv2.applyColorMap(levels, cv2.COLORMAP_JET if colormap is None else colormap)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.4,
            colormap: int | None = None) -> np.ndarray:
    """The heatmap, colour-mapped and resized to the image, alpha-blended onto it.

    ``image``: RGB (H, W, 3) at any size, uint8 or float in [0, 1]; ``heatmap``: (h, w) in
    [0, 1]; ``alpha``: weight of the heatmap (0 = the image, 1 = only the heatmap).
    Returns RGB uint8.
    """
    import cv2

    image = _as_uint8_rgb(image)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    colored = colorize(resize_heatmap(heatmap, image.shape[:2]), colormap)
    return cv2.addWeighted(image, 1.0 - alpha, colored, alpha, 0.0)


def _as_uint8_rgb(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be RGB (H, W, 3), got shape {image.shape}")
    if image.dtype == np.uint8:
        return image
    if not np.issubdtype(image.dtype, np.floating) or image.min() < 0.0 or image.max() > 1.0:
        raise ValueError(f"image must be RGB uint8, or float in [0, 1]; got {image.dtype} with "
                         f"values {image.min()} to {image.max()} (undo the model's "
                         "preprocessing first)")
    return np.uint8(np.round(255 * image))


def figure(images: Sequence[np.ndarray], heatmaps: Sequence[np.ndarray],
           top: Sequence[Sequence[tuple[str, float]]] | None = None,
           titles: Sequence[str] | None = None, alpha: float = 0.4, size: float = 2.4):
    """One row per image: the image, its heatmap, the overlay, and the top-k classes.

    ``top[i]`` is a list of ``(class name, probability)`` pairs (``imagenet.top_k`` or
    :func:`top_k` make them); the explained class can be marked by the title.
    """
    import matplotlib.pyplot as plt

    n = len(images)
    if n == 0 or len(heatmaps) != n:
        raise ValueError(f"need as many heatmaps as images, got {n} images and "
                         f"{len(heatmaps)} heatmaps")
    if top is not None and len(top) != n:
        raise ValueError(f"top must have one list per image ({n}), got {len(top)}")
    ncols = 4 if top is not None else 3
    fig, axes = plt.subplots(n, ncols, figsize=(size * ncols * 1.05, size * n), squeeze=False)
    for i in range(n):
        image = _as_uint8_rgb(images[i])
        heat = resize_heatmap(heatmaps[i], image.shape[:2])
        panels = [(image, titles[i] if titles else "image"), (heat, "Grad-CAM heatmap"),
                  (overlay(image, heat, alpha), "overlay")]
        for ax, (picture, label) in zip(axes[i], panels):
            if picture.ndim == 2:
                ax.imshow(picture, cmap="jet", vmin=0.0, vmax=1.0)
            else:
                ax.imshow(picture)
            ax.set_title(label, fontsize=9)
            ax.axis("off")
        if top is not None:
            ax = axes[i, 3]
            names = [name for name, _ in top[i]][::-1]
            values = [p for _, p in top[i]][::-1]
            ax.barh(range(len(values)), values, color="tab:blue")
            ax.set_yticks(range(len(values)))
            ax.set_yticklabels(names, fontsize=8)
            ax.set_xlim(0, 1)
            ax.set_title(f"top {len(values)}", fontsize=9)
            ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    return fig


def contour_grid(images: Sequence[np.ndarray], heatmaps: Sequence[np.ndarray],
                 titles: Sequence[str] | None = None, *, ncols: int = 4, size: float = 2.4,
                 levels: tuple[float, ...] = (0.5, 0.8)):
    """Photos with the heatmap drawn as contour lines instead of colours blended in.

    A jet overlay cannot be read on red, orange or yellow subjects (flowers): the map's
    colours and the photo's mix. Contour lines at ``levels`` of the map's peak (default
    half, dashed, and 80%, solid) leave the photo's colours alone; each line is white
    with a black edge, so it shows on light and dark parts alike.
    """
    import matplotlib.pyplot as plt
    from matplotlib import patheffects

    n = len(images)
    if n == 0 or len(heatmaps) != n:
        raise ValueError(f"need as many heatmaps as images, got {n} images and "
                         f"{len(heatmaps)} heatmaps")
    if titles is not None and len(titles) != n:
        raise ValueError(f"contour_grid: {n} images but {len(titles)} titles")
    levels = tuple(sorted(float(v) for v in levels))
    if not levels or levels[0] <= 0 or levels[-1] >= 1:
        raise ValueError(f"levels must be fractions of the peak between 0 and 1, got {levels}")
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.3) * nrows + 0.4),
                             squeeze=False)
    edge = [patheffects.withStroke(linewidth=3.2, foreground="black")]
    styles = ["dashed"] * (len(levels) - 1) + ["solid"]
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        image = _as_uint8_rgb(images[i])
        heat = resize_heatmap(heatmaps[i], image.shape[:2])
        ax.imshow(image)
        if heat.max() > 0:
            lines = ax.contour(heat / heat.max(), levels=levels, colors="white",
                               linewidths=1.6, linestyles=styles)
            lines.set(path_effects=edge)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    shown = " and ".join(f"{v:.0%}" for v in levels)
    fig.suptitle(f"lines: {shown} of each map's peak (dashed to solid)", fontsize=9)
    fig.tight_layout()
    return fig


def top_k(logits: np.ndarray, class_names: Sequence[str], k: int = 5
          ) -> list[list[tuple[str, float]]]:
    """Softmax of each row of logits, then its ``k`` best ``(class name, probability)`` pairs."""
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2 or logits.shape[1] != len(class_names):
        raise ValueError(f"logits must be (N, {len(class_names)}) for {len(class_names)} class "
                         f"names, got shape {logits.shape}")
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = z / z.sum(axis=1, keepdims=True)
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [[(class_names[j], float(p[j])) for j in idx] for p, idx in zip(probs, order)]
