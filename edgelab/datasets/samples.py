"""Sample images, ImageNet labels and pretrained weights the lessons use, by name.

Each helper fetches (verified) through the data layer and returns a local path or the
loaded object, so lessons never spell out a URL or a cache path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgelab.datasets import registry
from edgelab.datasets.cache import fetch_file

SAMPLE_IMAGES = ("grace_hopper.jpg", "chelsea.png", "coffee.png")
TFLITE_CLASSIFIERS = (
    "mobilenet_v1_0.25_128_quant.tflite",
    "mobilenet_v1_0.5_160_quant.tflite",
    "mobilenet_v1_0.75_192_quant.tflite",
    "mobilenet_v2_1.0_224_quant.tflite",
)


def _get(dataset: str, name: str) -> Path:
    return fetch_file(registry.get(dataset).file(name), dataset=dataset)


def image_path(name: str) -> Path:
    """Local path of a sample image: ``grace_hopper.jpg``, ``chelsea.png`` or ``coffee.png``."""
    return _get("sample_images", name)


def load_image(name: str) -> np.ndarray:
    """A sample image as an RGB uint8 array (H, W, 3)."""
    import cv2

    path = image_path(name)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{path}: OpenCV cannot decode this image.")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def imagenet_labels(style: str = "short") -> list[str]:
    """The 1001 ImageNet class names, index 0 = ``background``.

    ``style="short"``: TensorFlow's names ("tabby", "military uniform");
    ``style="coral"``: Coral's full synonym lists ("tabby, tabby cat").
    """
    files = {"short": "ImageNetLabels.txt", "coral": "imagenet_labels.txt"}
    if style not in files:
        raise ValueError(f"style must be one of {', '.join(files)}, got {style!r}")
    lines = _get("imagenet_labels", files[style]).read_text(encoding="utf-8").splitlines()
    if len(lines) != 1001:
        raise ValueError(f"expected 1001 ImageNet labels, found {len(lines)}")
    return lines


def mobilenet_weights(include_top: bool = True) -> Path:
    """Keras MobileNet v1 alpha-0.25 ImageNet weights (.h5).

    With top: the 128-px classifier (1000 classes, no background). Without top: the
    feature extractor, whose weights work at any input size >= 32 px.
    """
    name = "mobilenet_2_5_128_tf.h5" if include_top else "mobilenet_2_5_224_tf_no_top.h5"
    return _get("mobilenet_v1_025", name)


def tflite_classifier(name: str = TFLITE_CLASSIFIERS[0]) -> Path:
    """One of the four quantized ImageNet MobileNet .tflite classifiers (uint8 in/out)."""
    return _get("mobilenet_tflite", name)
