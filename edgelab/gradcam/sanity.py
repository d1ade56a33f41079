"""Checking a heatmap: does it point at the object, and does it depend on what was learned?

Two kinds of checks from the literature, with the numbers a notebook can assert:

* **localisation**: a photo that is all cat cannot tell a map that points at the cat from
  one that points anywhere. :func:`two_objects` stacks two photos into one picture, so the
  region of each object is known by construction; :func:`heat_share` is the fraction of a
  map's heat inside a region (the "energy-based pointing game" of Wang et al. 2020,
  Score-CAM). A class-discriminative map puts most of its heat on its own object;
  uniform random 4x4 maps put half of it on either.
* **model randomisation** (Adebayo et al. 2018, "Sanity checks for saliency maps"):
  re-draw the weights of the top layers (:func:`randomize_weights`,
  :func:`randomized_copy`); a method that explains the *model* must give a different map,
  measured by the Spearman :func:`rank_correlation` of the two maps.
  :func:`randomization_cascade` runs the whole test (several random draws per step) and
  keeps every map, so any other score (a heat share, say) can be compared too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np


# --------------------------------------------------------------------------- localisation

def _crop_to_ratio(image: np.ndarray, ratio: float) -> np.ndarray:
    """The largest centred crop of ``image`` whose width / height is ``ratio``."""
    height, width = image.shape[:2]
    if width / height > ratio:
        new = int(round(height * ratio))
        x0 = (width - new) // 2
        return image[:, x0:x0 + new]
    new = int(round(width / ratio))
    y0 = (height - new) // 2
    return image[y0:y0 + new]


def two_objects(top: np.ndarray, bottom: np.ndarray, size: int = 256) -> np.ndarray:
    """One square RGB uint8 picture (``size`` x ``size``) with ``top`` above ``bottom``.

    Each photo is centre-cropped to 2:1 (width:height) and resized to ``size`` x
    ``size / 2``, so neither is distorted, and each fills exactly one half: the top
    object is in rows ``[0, size/2)``, the bottom one in ``[size/2, size)``. On a map of
    any even height the two halves are the top and bottom half of its rows.
    """
    import cv2

    if size < 2 or size % 2:
        raise ValueError(f"size must be an even number of pixels, got {size}")
    halves = []
    for name, image in (("top", top), ("bottom", bottom)):
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
            raise ValueError(f"{name} must be an RGB uint8 photo (H, W, 3), got "
                             f"{image.dtype} {image.shape}")
        halves.append(cv2.resize(_crop_to_ratio(image, 2.0), (size, size // 2),
                                 interpolation=cv2.INTER_AREA))
    return np.concatenate(halves, axis=0)


def heat_share(heatmap: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """The fraction of a heatmap's total heat that lies inside ``box`` = (x0, y0, x1, y1),
    pixel (or cell) coordinates of the heatmap, x1/y1 exclusive.

    1 = all the heat is in the box, the box's share of the area = no preference. A map with
    no heat at all (everything 0) points nowhere: its share is 0.
    """
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.ndim != 2:
        raise ValueError(f"heatmap must be 2-D, got shape {heatmap.shape}")
    if heatmap.min() < 0:
        raise ValueError("heatmap has negative values; a Grad-CAM map is >= 0")
    x0, y0, x1, y1 = (int(v) for v in box)
    height, width = heatmap.shape
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise ValueError(f"box {box} is not inside a {width}x{height} heatmap "
                         "(want 0 <= x0 < x1 <= width, 0 <= y0 < y1 <= height)")
    total = heatmap.sum()
    return float(heatmap[y0:y1, x0:x1].sum() / total) if total > 0 else 0.0


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two heatmaps of the same shape (flattened)."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"heatmaps differ in size: {a.size} vs {b.size} values")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0   # a constant map carries no ranking
    return float(spearmanr(a, b).statistic)


# --------------------------------------------------------------------------- randomisation

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


@dataclass(frozen=True)
class Cascade:
    """What :func:`randomization_cascade` computed for N images.

    ``trained``: the trained model's maps (N, H, W); for each step (in the order given),
    ``maps[step]``: the randomised models' maps (draws, N, H, W) and ``rho[step]``: their
    rank correlation with the trained maps (draws, N).
    """

    trained: np.ndarray
    maps: dict[str, np.ndarray]
    rho: dict[str, np.ndarray]

    @property
    def steps(self) -> list[str]:
        return list(self.maps)

    def table(self, image_names: Sequence[str]) -> str:
        """Mean rank correlation per step and image, with its standard error over the
        draws and the range of the single draws."""
        width = max(26, *(len(s) + 2 for s in self.steps))
        draws = len(next(iter(self.rho.values())))
        lines = [f"rank correlation with the trained model's map: mean +- standard error "
                 f"(range) over {draws} random draws",
                 f"{'randomised':{width}s}" + "".join(f"{n:>34s}" for n in image_names)]
        for step, values in self.rho.items():
            se = self.standard_error(step)
            lines.append(f"{step:{width}s}" + "".join(
                f"{m:9.2f} +- {e:4.2f} ({lo:5.2f} to {hi:5.2f})"
                for m, e, lo, hi in zip(values.mean(0), se, values.min(0), values.max(0))))
        return "\n".join(lines)

    def standard_error(self, step: str) -> np.ndarray:
        """Per image, the standard error of the mean rank correlation at ``step``."""
        values = self.rho[step]
        if len(values) < 2:
            return np.full(values.shape[1], np.nan)
        return values.std(axis=0, ddof=1) / np.sqrt(len(values))


def randomization_cascade(model, images, class_index, steps: Mapping[str, Sequence[str]], *,
                          draws: int = 10, seed: int = 0, **gradcam_options) -> Cascade:
    """Adebayo et al.'s model-randomisation test for a Keras model.

    ``steps`` maps a label to the top-level layers randomised at that step (the cascade
    goes from the top down, so each step usually includes the previous one's layers).
    For each step and each of ``draws`` seeds (``seed``, ``seed + 1``, ...), a copy of
    the model gets those layers re-drawn (:func:`randomize_weights`) and explains the
    same ``images`` for the same ``class_index`` as the trained model. One copy and one
    traced ``GradCam`` serve every draw. ``gradcam_options`` go to ``GradCam``
    (``method``, ``layer``, ``upsample``).
    """
    from edgelab.gradcam.cam import GradCam

    if not steps:
        raise ValueError("steps must name at least one step: {label: [layer names]}")
    if int(draws) < 1:
        raise ValueError(f"draws must be >= 1, got {draws!r}")
    for layers in steps.values():
        _check_layer_names(model, layers)
    trained = GradCam(model, **gradcam_options)(images, class_index)
    weights = model.get_weights()
    copy = randomized_copy(model, next(iter(steps.values())), seed)
    copy_cam = GradCam(copy, **gradcam_options)
    maps, rho = {}, {}
    for label, layers in steps.items():
        step_maps = []
        for draw in range(int(draws)):
            copy.set_weights(weights)
            randomize_weights(copy, layers, seed=seed + draw)
            step_maps.append(copy_cam(images, class_index))
        maps[label] = np.stack(step_maps)
        rho[label] = np.array([[rank_correlation(a, b) for a, b in zip(trained, drawn)]
                               for drawn in maps[label]])
    return Cascade(trained=trained, maps=maps, rho=rho)
