"""One figure for notebook 06: what several line extractors draw across one scan line.

A zoom shows *where* lines are; reading one row or column across a feature says *how many*
lines each method draws there and where they sit relative to the brightness profile (a thin
dark band has two sides, a step from dark to light has one).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from edgelab.lineart.synthetic import runs_along

COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red")


def scan_line_figure(image: np.ndarray, arts: Mapping[str, np.ndarray], *,
                     crop: tuple[int, int, int, int], row: int | None = None,
                     column: int | None = None, span: tuple[int, int], title: str = ""):
    """The zoomed ``image`` and each line art in ``arts`` with the scan line in red, then a plot
    of the gray level along the scan line with each method's line pixels as a bar above it.

    ``crop=(y0, y1, x0, x1)``; one of ``row=``/``column=``; ``span=(start, stop)``: the
    stretch of the scan line plotted (image coordinates). Returns the figure.
    """
    import cv2
    import matplotlib.pyplot as plt

    if (row is None) == (column is None):
        raise ValueError("give exactly one of row= or column=")
    y0, y1, x0, x1 = crop
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    profile = gray[row] if row is not None else gray[:, column]
    start, stop = span
    n = len(arts) + 1
    fig, axes = plt.subplots(1, n + 1, figsize=(2.7 * n + 4.2, 2.9),
                             gridspec_kw=dict(width_ratios=[1] * n + [1.6]))
    for ax, (name, img) in zip(axes, [("photo", image), *arts.items()]):
        ax.imshow(img[y0:y1, x0:x1], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        if row is not None:
            ax.plot([max(start, x0) - x0 - .5, min(stop, x1) - x0 - .5], [row - y0] * 2, color="red", lw=1)
        else:
            ax.plot([column - x0] * 2, [max(start, y0) - y0 - .5, min(stop, y1) - y0 - .5], color="red", lw=1)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    ax = axes[-1]
    ax.plot(np.arange(start, stop), profile[start:stop], color="black", lw=1.2, label="gray level")
    for i, (name, art) in enumerate(arts.items()):
        level = 262 + 14 * i
        found = runs_along(art, row=row, column=column, span=span)
        for s, e in found:
            ax.plot([s - .5, e - .5], [level, level], color=COLOURS[i % len(COLOURS)], lw=5,
                    solid_capstyle="butt")
        ax.plot([], [], color=COLOURS[i % len(COLOURS)], lw=5,
                label=f"{name}: {len(found)} line{'s' if len(found) != 1 else ''}")
    ax.set_xlim(start - .5, stop - .5)
    ax.set_ylim(0, 262 + 14 * len(arts) + 6)
    ax.set_xlabel(f"{'column' if row is not None else 'row'} (along the red line)")
    ax.set_ylabel("gray level (0-255)")
    ax.legend(fontsize=7, loc="lower left")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
