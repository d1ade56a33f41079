"""The pretrained ImageNet classifier the lessons explain: MobileNet v1 (alpha 0.25, 128 px).

Notebook 03 asks *where* an ImageNet classifier looks. That needs a real pretrained model
that runs offline in seconds on a CPU: Keras' MobileNet v1 at width 0.25 and 128x128 input
(470k parameters, weights from the data layer). This module owns the three things that
must match those weights and that a notebook should not spell out: how the model is
built, how a photo becomes its input, and which name each of its 1000 outputs has.

Keras' MobileNet has 1000 outputs and no "background" class, while the label file has
1001 lines with ``background`` first: Keras class ``i`` is label line ``i + 1``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

IMAGE_SIZE = 128
ALPHA = 0.25
NUM_CLASSES = 1000

# The ImageNet classes under WordNet's "cat, true cat" (n02121620): the five domestic cats
# and the two wildcats, cougar and lynx. The big cats (leopard to cheetah) are a separate
# branch ("big cat"), so they do not count as "a cat" here.
CAT_CLASSES = ("tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat", "cougar", "lynx")


def load_model():
    """Keras MobileNet v1 (alpha 0.25, 128 px) with its ImageNet weights, ready to predict.

    The model ends with a softmax ``Activation`` layer named ``predictions``; Grad-CAM uses
    the scores just before it (``edgelab.gradcam`` finds them).
    """
    import keras

    from edgelab.datasets import samples

    model = keras.applications.MobileNet(alpha=ALPHA, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3),
                                         include_top=True, weights=None)
    model.load_weights(samples.mobilenet_weights(include_top=True))
    return model


def class_names(style: str = "short") -> list[str]:
    """The 1000 class names in the model's output order (the label file without ``background``)."""
    from edgelab.datasets import samples

    return samples.imagenet_labels(style)[1:]


def resize(image: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """The whole photo resized to ``size`` x ``size`` (aspect ratio not kept), uint8 RGB.

    This is what ``keras.utils.load_img(path, target_size=(size, size))`` does in the
    classic Grad-CAM tutorials; nothing is cropped away, so a heatmap at this size maps
    back onto the full photo by resizing alone.
    """
    import cv2

    image = _check_image(image)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def preprocess(images: np.ndarray | Sequence[np.ndarray], size: int = IMAGE_SIZE) -> np.ndarray:
    """RGB uint8 photo(s), any size, to the model's input: float32 (N, size, size, 3) in [-1, 1]."""
    if isinstance(images, np.ndarray) and images.ndim == 3:
        images = [images]
    batch = np.stack([resize(image, size) for image in images]).astype(np.float32)
    return batch / 127.5 - 1.0   # keras.applications.mobilenet.preprocess_input, without Keras


def top_k(probabilities: np.ndarray, k: int = 5, names: Sequence[str] | None = None
          ) -> list[list[tuple[str, float]]]:
    """The ``k`` most probable classes of each row, as ``(name, probability)`` pairs."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2:
        raise ValueError(f"probabilities must be (N, classes), got shape {probabilities.shape}")
    names = class_names() if names is None else names
    if len(names) != probabilities.shape[1]:
        raise ValueError(f"{len(names)} class names for {probabilities.shape[1]} classes")
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return [[(names[i], float(row[i])) for i in idx] for row, idx in zip(probabilities, order)]


def _check_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected one RGB uint8 image (H, W, 3), got {image.dtype} "
                         f"{image.shape}; load photos with edgelab.datasets.samples.load_image")
    return image
