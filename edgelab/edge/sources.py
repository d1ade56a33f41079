"""The models notebook 07 converts and the images it calibrates and evaluates them with.

Two trained models come from earlier lessons, whichever exists:

* MNIST CNN: notebook 01's ``.keras`` file, or one trained here (``edgelab.mnist.load_or_train``);
* Flower17 classifier: notebook 05's tf_keras SavedModel (``flowers_hub_savedmodel``, a
  ``serving_default`` signature taking float32 [None,S,S,3] in [0,1], returning 17
  logits) if present; otherwise the Keras 3 ``flowers_classifier`` exported to a
  SavedModel. Either way the notebook receives a SavedModel folder and its image size,
  so the rest of the lesson is one code path.

Data comes from the verified data layer: calibration images from the training splits,
evaluation images from the test splits (a class-balanced subset when fewer are asked for).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgelab.core import paths

HUB_SAVEDMODEL = "flowers_hub_savedmodel"      # written by notebook 05
EXPORTED_SAVEDMODEL = "flowers_mobilenet_savedmodel"


@dataclass(frozen=True)
class ModelSource:
    """A model ready to convert: a SavedModel folder (or Keras model), its input size and
    a sentence saying where it came from."""

    model: object                 # SavedModel path or Keras model
    image_size: int
    description: str


def mnist_model() -> ModelSource:
    """The trained MNIST CNN (Keras 3; float32 (28,28,1) in [0,1] -> 10 logits)."""
    from edgelab.mnist import load_or_train

    model, how = load_or_train()
    return ModelSource(model, 28, f"MNIST CNN: {how}")


def flowers_model(image_size: int) -> ModelSource:
    """Notebook 05's SavedModel if present, else the Keras 3 flower classifier at
    ``image_size`` exported to a SavedModel next to the other hand-over models."""
    from edgelab.edge.convert import export_saved_model, is_saved_model, saved_model_input

    hub = paths.model_path(HUB_SAVEDMODEL)
    if is_saved_model(hub):
        _, shape, dtype = saved_model_input(hub)
        if len(shape) != 4 or shape[1] is None or dtype != "float32":
            raise ValueError(f"{hub}: expected a float32 [None,S,S,3] input, "
                             f"found {dtype} {shape}.")
        return ModelSource(hub, int(shape[1]), f"Flower17: notebook 05's SavedModel ({hub.name}, "
                                                f"{shape[1]} px)")
    from edgelab.hub.flowers_classifier import load_or_train

    model, how = load_or_train(image_size)
    target = paths.model_path(EXPORTED_SAVEDMODEL)
    export_saved_model(model, target)
    return ModelSource(target, image_size, f"Flower17: Keras 3 MobileNet classifier ({how}), "
                                           f"exported to {target.name} (notebook 05 not run yet)")


def balanced_subset(labels: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``n`` items spread evenly over ``labels`` sorted by class (so every class
    is represented about equally); all indices when ``n >= len(labels)``."""
    labels = np.asarray(labels)
    if n <= 0:
        raise ValueError(f"subset size must be positive, got {n}")
    order = np.argsort(labels, kind="stable")
    if n >= len(labels):
        return np.sort(order)
    picks = np.linspace(0, len(order) - 1, n).round().astype(int)
    return np.sort(order[picks])


def mnist_images(split: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` MNIST images as float32 (n,28,28,1) in [0,1] and their labels; ``split`` is
    ``"train"`` (the first n, for calibration) or ``"test"`` (the first n)."""
    from edgelab.datasets import mnist

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    (x_train, y_train), (x_test, y_test) = mnist.load()
    x, y = (x_train, y_train) if split == "train" else (x_test, y_test)
    return mnist.to_float(x[:n]), y[:n].astype(np.int64)


def flowers_images(split: str, n: int, image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """A class-balanced subset of ``n`` Flower17 images of a split, float32 [0,1]."""
    from edgelab.datasets import flowers17

    files, labels = flowers17.load(split)
    idx = balanced_subset(labels, n)
    files = [files[i] for i in idx]
    labels = np.asarray(labels)[idx]
    ds = flowers17.dataset(files, labels, image_size=image_size, batch_size=64, cache=False)
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


def coral_classifiers() -> dict[str, Path]:
    """The four quantized ImageNet MobileNets of the data layer: short name -> path."""
    from edgelab.datasets import samples

    return {name.removesuffix("_quant.tflite"): samples.tflite_classifier(name)
            for name in samples.TFLITE_CLASSIFIERS}


def resize_uint8(image: np.ndarray, size: int) -> np.ndarray:
    """An RGB uint8 image resized to ``size`` x ``size`` (area interpolation), still uint8:
    the input the quantized Coral classifiers expect."""
    import cv2

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"need an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
