"""Let Chainer 7.8.1 run on NumPy 2, in one place, before Chainer is first imported.

Chainer is in maintenance mode; its last release uses two NumPy names that NumPy 2 removed:
``numpy.sctypes`` (a dict of scalar types by kind) and the alias ``numpy.float`` (removed
in NumPy 1.24). Pinning an old NumPy does not help (it forces old OpenCV and ml_dtypes),
so edgelab restores exactly those two names, with their NumPy 1.x meaning, and nothing else.

Use it by importing Chainer through this module, which every edgelab Chainer module does::

    from edgelab.chainer.compat import chainer
"""

from __future__ import annotations

import sys
import warnings

import numpy as np


def _numpy1_sctypes() -> dict[str, list[type]]:
    return {
        "int": [np.int8, np.int16, np.int32, np.int64],
        "uint": [np.uint8, np.uint16, np.uint32, np.uint64],
        "float": [np.float16, np.float32, np.float64, np.longdouble],
        "complex": [np.complex64, np.complex128, np.clongdouble],
        "others": [bool, object, bytes, str, np.void],
    }


def patch_numpy() -> list[str]:
    """Restore ``numpy.sctypes`` and ``numpy.float`` if missing; return what was added."""
    added = []
    if "sctypes" not in np.__dict__:
        np.sctypes = _numpy1_sctypes()
        added.append("numpy.sctypes")
    if "float" not in np.__dict__:
        np.float = float
        added.append("numpy.float")
    return added


def import_chainer():
    """Import Chainer after patching NumPy.

    If an earlier plain ``import chainer`` failed (the learner ran a cell out of order), it
    left half-initialised ``chainer.*`` modules behind; they are dropped so the import
    can succeed now instead of failing with a confusing circular-import error.
    """
    patch_numpy()
    if "chainer" not in sys.modules:
        for name in [m for m in sys.modules if m.startswith("chainer.")]:
            del sys.modules[name]
    with warnings.catch_warnings():
        # Chainer imports pkg_resources (deprecated in setuptools); not the learner's concern.
        warnings.filterwarnings("ignore", category=UserWarning, message=".*pkg_resources.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        import chainer as _chainer
    return _chainer


chainer = import_chainer()
