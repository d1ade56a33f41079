"""Checking a heatmap: does it point at the object, and does it depend on what was learned?

Two kinds of checks from the literature, with the numbers a notebook can assert:

* **localisation**: the mean of a heatmap inside and outside a box around the object
  (:func:`box_means`, with :data:`CHELSEA_CAT_BOX` for the sample cat photo);
* **model randomisation** (Adebayo et al. 2018, "Sanity checks for saliency maps"):
  re-draw the weights of the top layers (:func:`randomize_weights`,
  :func:`randomized_copy`); a method that explains the *model* must give a different map,
  measured by the Spearman :func:`rank_correlation` of the two maps.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


# Where the cat is in samples.load_image("chelsea.png") (451 x 300 px): (x0, y0, x1, y1) in
# pixels, x1 and y1 exclusive. Measured once by eye on the photo enlarged 2x with a 25-px
# grid, and the right third enlarged 3x with a 10-px grid: the cat's head and chest run off
# the left, top and bottom edges; the tip of its right ear reaches x = 395 at the top (the
# cheek's edge is at x = 365); right of x = 395 there is only blurred background.
CHELSEA_CAT_BOX = (0, 0, 395, 300)

def box_means(heatmap: np.ndarray, box: tuple[int, int, int, int]) -> tuple[float, float]:
    """Mean heatmap value inside and outside ``box`` = (x0, y0, x1, y1), pixel coordinates
    of the heatmap, x1/y1 exclusive."""
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.ndim != 2:
        raise ValueError(f"heatmap must be 2-D, got shape {heatmap.shape}")
    x0, y0, x1, y1 = (int(v) for v in box)
    height, width = heatmap.shape
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise ValueError(f"box {box} is not inside a {width}x{height} heatmap "
                         "(want 0 <= x0 < x1 <= width, 0 <= y0 < y1 <= height)")
    inside = np.zeros(heatmap.shape, bool)
    inside[y0:y1, x0:x1] = True
    if inside.all():
        raise ValueError(f"box {box} covers the whole {width}x{height} heatmap: nothing is outside")
    return float(heatmap[inside].mean()), float(heatmap[~inside].mean())


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two heatmaps of the same shape (flattened)."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"heatmaps differ in size: {a.size} vs {b.size} values")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0   # a constant map carries no ranking
    return float(spearmanr(a, b).statistic)


def _check_layer_names(model, layer_names) -> None:
    if isinstance(layer_names, str) or not layer_names:
        raise ValueError(f"layer_names must be a non-empty list of layer names, "
                         f"got {layer_names!r}")
    known = {layer.name for layer in model.layers}
    unknown = [name for name in layer_names if name not in known]
    if unknown:
        raise ValueError(f"layers {unknown} are not top-level layers of {model.name!r}")


def randomize_weights(model, layer_names: Sequence[str], seed: int = 0) -> None:
    """Replace, in place, every weight array of the named top-level layers of a Keras model
    by Gaussian noise with that array's own mean and standard deviation.

    Activations keep their scale but carry none of what training learned (Adebayo et al.
    2018). BatchNorm moving statistics are kept (they only rescale). Calling it again with
    another seed on a model restored with ``set_weights`` gives another random draw, without
    rebuilding the model or retracing a ``GradCam`` built on it.
    """
    _check_layer_names(model, layer_names)
    rng = np.random.default_rng(seed)
    for name in layer_names:
        for variable in model.get_layer(name).weights:
            if "moving" in variable.path:
                continue
            value = np.asarray(variable.numpy())
            noise = rng.normal(value.mean(), value.std() or 1e-3, value.shape)
            variable.assign(noise.astype(value.dtype))


def randomized_copy(model, layer_names: Sequence[str], seed: int = 0):
    """A copy of a Keras model whose named layers have random weights (see
    :func:`randomize_weights`); the original model is not touched."""
    import keras

    _check_layer_names(model, layer_names)   # fail before the (slow) clone
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    randomize_weights(copy, layer_names, seed)
    return copy
