"""Figures more than one lesson draws: image grids, training curves, confusion matrices, tables.

Each function returns the Matplotlib figure (so a notebook can save it) and draws on
a fresh figure, so re-running a cell never stacks plots.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np


def _display_range(img: np.ndarray, value_range, index: int) -> tuple[float, float]:
    """The (vmin, vmax) an image is drawn with; see :func:`image_grid`. Only a gray image
    outside its dtype's range is an error (colour images are clipped, as Matplotlib does)."""
    strict = img.ndim == 2
    if value_range == "each":
        lo, hi = float(np.min(img)), float(np.max(img))
        return lo, (hi if hi > lo else lo + 1.0)
    if value_range is not None:
        lo, hi = (float(v) for v in value_range)
        if not hi > lo:
            raise ValueError(f"value_range must be (low, high) with high > low, got {value_range!r}")
        return lo, hi
    if img.dtype == np.bool_:
        return 0.0, 1.0
    if np.issubdtype(img.dtype, np.integer):
        hi = 65535.0 if img.dtype == np.uint16 else 255.0
        lo_seen, hi_seen = int(np.min(img)), int(np.max(img))
        if strict and (lo_seen < 0 or hi_seen > hi):
            raise ValueError(f"image {index} is {img.dtype} with values {lo_seen}..{hi_seen}, "
                             f"outside 0..{hi:.0f}; pass value_range=(low, high), or "
                             "value_range='each' to stretch every image to its own range")
        return 0.0, hi
    lo_seen, hi_seen = float(np.nanmin(img)), float(np.nanmax(img))
    if strict and (lo_seen < -1e-6 or hi_seen > 1 + 1e-6):
        raise ValueError(f"image {index} is {img.dtype} with values {lo_seen:.4g}..{hi_seen:.4g}; "
                         "float images are drawn on 0..1: pass value_range=(low, high), or "
                         "value_range='each' to stretch every image to its own range")
    return 0.0, 1.0


def image_grid(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, *,
               ncols: int = 8, size: float = 1.6, cmap: str | None = None, suptitle: str = "",
               value_range: tuple[float, float] | str | None = None,
               crop: tuple[int, int, int, int] | None = None,
               interpolation: str | None = None):
    """Show images (H,W), (H,W,1) or (H,W,3) in a grid; returns the figure.

    Every image is drawn on one **fixed** scale, so a flat image looks flat and two images
    can be compared by eye: 0..255 for uint8 (0..65535 for uint16), 0..1 for floats and
    bools (a gray float image outside 0..1 is an error, not silently rescaled; colour
    images are clipped to the range). ``value_range``
    changes that: ``(low, high)`` for every image, or ``"each"`` to stretch each image to
    its own minimum and maximum (shows faint detail, but exaggerates contrast: a nearly
    uniform image then looks like black on white). ``crop=(y0, y1, x0, x1)`` zooms every
    image to the same window; ``interpolation="nearest"`` draws each pixel as a square.
    """
    import matplotlib.pyplot as plt

    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    if titles is not None and len(titles) != n:
        raise ValueError(f"image_grid: {n} images but {len(titles)} titles")
    if isinstance(value_range, str) and value_range != "each":
        raise ValueError(f"value_range must be None, (low, high) or 'each', got {value_range!r}")
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = np.asarray(images[i])
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[-1] not in (3, 4)):
            raise ValueError(f"image {i} has shape {img.shape}; expected (H, W), (H, W, 1), "
                             "(H, W, 3) or (H, W, 4)")
        if crop is not None:
            y0, y1, x0, x1 = crop
            img = img[y0:y1, x0:x1]
        lo, hi = _display_range(img, value_range, i)
        if img.ndim == 2:
            ax.imshow(img, cmap=cmap or "gray", vmin=lo, vmax=hi, interpolation=interpolation)
        else:   # colour: Matplotlib ignores vmin/vmax, so scale to 0..1 here
            shown = np.clip((img.astype(np.float32) - lo) / (hi - lo), 0.0, 1.0)
            ax.imshow(shown, interpolation=interpolation)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def history(curves: Mapping[str, Sequence[float]], *, xlabel: str = "epoch", title: str = ""):
    """Plot training curves; keys ``loss``/``val_loss`` and ``accuracy``/``val_accuracy``
    (Keras ``History.history`` or any dict of lists) go on two panels. Epochs are whole
    numbers, so the x axis has ticks at whole numbers only."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    groups: dict[str, list[str]] = {}
    for key in curves:
        base = key.removeprefix("val_").removeprefix("train_")
        groups.setdefault(base, []).append(key)
    fig, axes = plt.subplots(1, len(groups), figsize=(4.5 * len(groups), 3.2), squeeze=False)
    for ax, (base, keys) in zip(axes.flat, groups.items()):
        for key in keys:
            values = list(curves[key])
            ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=key)
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(base)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int],
                     class_names: Sequence[str], *, normalize: bool = True, title: str = ""):
    """A confusion-matrix heat map (rows: true class, columns: predicted).

    With ``normalize`` the colour is the share of the row's (true class's) images, so
    classes of different sizes compare; the numbers printed in the cells are counts. A
    class the model never predicts is named in the title (its column is empty)."""
    import matplotlib.pyplot as plt

    k = len(class_names)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    shown = cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalize else cm
    side = max(4.0, 0.45 * k + 1.5)
    fig, ax = plt.subplots(figsize=(side, side))
    im = ax.imshow(shown, cmap="Blues", vmin=0)
    ax.set_xticks(range(k), class_names, rotation=90, fontsize=8)
    ax.set_yticks(range(k), class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 20:
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=7,
                            color="white" if shown[i, j] > shown.max() / 2 else "black")
    bar = fig.colorbar(im, ax=ax, fraction=0.046)
    bar.set_label("share of the true class's images" if normalize else "images")
    heading = title or f"accuracy {np.trace(cm) / max(cm.sum(), 1):.3f}"
    heading += "\n(colour: share of the row; numbers: counts)" if normalize and k <= 20 else ""
    never = [class_names[j] for j in range(k) if cm[:, j].sum() == 0]
    if never:
        heading += f"\nnever predicted: {', '.join(never)}"
    ax.set_title(heading, fontsize=10)
    fig.tight_layout()
    return fig


def bars(values: Mapping[str, float], *, ylabel: str = "", title: str = "", fmt: str = "{:.3g}"):
    """A labelled bar chart of a few named values (sizes, latencies, accuracies)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(values)), 3.2))
    names, heights = list(values), [float(v) for v in values.values()]
    rects = ax.bar(names, heights, color="tab:blue")
    for r, h in zip(rects, heights):
        ax.annotate(fmt.format(h), (r.get_x() + r.get_width() / 2, h), ha="center", va="bottom",
                    fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    return fig
