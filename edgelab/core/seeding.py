"""One seed for every random number generator a lesson touches.

Reproducible runs need Python's ``random``, NumPy and TensorFlow seeded together (Keras'
``set_random_seed`` does all three). Chainer draws from NumPy. The default seed lives here
so that notebooks, tests and benchmarks agree on it.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np

DEFAULT_SEED = 42


def seed_everything(seed: int = DEFAULT_SEED, *, tensorflow: bool | None = None) -> int:
    """Seed ``random``, NumPy and (if wanted) TensorFlow/Keras; return the seed.

    ``tensorflow=None`` seeds TensorFlow only if it is already imported, so a Chainer
    lesson does not pay TensorFlow's import time just to be reproducible.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)  # affects subprocesses (data loaders)
    random.seed(seed)
    np.random.seed(seed)
    if tensorflow or (tensorflow is None and "tensorflow" in sys.modules):
        import keras

        keras.utils.set_random_seed(seed)
    return seed
