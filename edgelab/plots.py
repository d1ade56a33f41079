"""Figures more than one lesson draws: image grids, training curves, confusion matrices, tables.

Each function returns the Matplotlib figure (so a notebook can save it) and draws on
a fresh figure, so re-running a cell never stacks plots.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np


def image_grid(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, *,
               ncols: int = 8, size: float = 1.6, cmap: str | None = None, suptitle: str = ""):
    """Show images (H,W), (H,W,1) or (H,W,3), uint8 or float in [0,1], in a grid."""
    import matplotlib.pyplot as plt

    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
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
        ax.imshow(img, cmap=cmap or ("gray" if img.ndim == 2 else None))
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def history(curves: Mapping[str, Sequence[float]], *, xlabel: str = "epoch", title: str = ""):
    """Plot training curves; keys ``loss``/``val_loss`` and ``accuracy``/``val_accuracy``
    (Keras ``History.history`` or any dict of lists) go on two panels."""
    import matplotlib.pyplot as plt

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
        ax.set_title(base)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int],
                     class_names: Sequence[str], *, normalize: bool = True, title: str = ""):
    """A confusion-matrix heat map (rows: true class, columns: predicted)."""
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
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title(title or f"accuracy {np.trace(cm) / max(cm.sum(), 1):.3f}")
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
