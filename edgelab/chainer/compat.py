"""Let Chainer 7.8.1 run on NumPy 2, Python 3.11 to 3.13 and any setuptools, in one place.

Chainer is in maintenance mode; its last release (2020) depends on things that have since
gone away. edgelab supplies each of them, with its old meaning, just before Chainer is first
imported, and nothing else:

- ``numpy.sctypes`` (a dict of scalar types by kind) and the alias ``numpy.float``, removed
  in NumPy 2.0 and 1.24. Pinning an old NumPy does not help (it forces old OpenCV and
  ml_dtypes), so the two names are restored on NumPy itself: Chainer reads them at run time.
- ``numpy.distutils``, which NumPy no longer ships for Python >= 3.12. Chainer's import-time
  environment check imports ``numpy.distutils.system_info`` and, on macOS only, asks it for
  the BLAS build options to warn about Accelerate. Where it is missing, a stand-in whose
  ``get_info`` returns ``{}`` ("nothing known", which skips the warning) is registered for
  the duration of ``import chainer`` and removed afterwards.
- ``pkg_resources``, which setuptools >= 82 no longer has (Colab ships setuptools 75.2,
  which still does). The same environment check calls ``pkg_resources.require`` to look for
  CuPy and iDeep. Where it is missing, a stand-in built on :mod:`importlib.metadata` with
  just the four names Chainer uses is registered for the import and removed afterwards,
  so that no other library mistakes it for the real one.

Use it by importing Chainer through this module, which every edgelab Chainer module does::

    from edgelab.chainer.compat import chainer
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import sys
import types
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


def numpy_distutils_standin() -> dict[str, types.ModuleType]:
    """Stand-ins for ``numpy.distutils`` and ``numpy.distutils.system_info``, as Chainer's
    environment check uses them: ``system_info.get_info(name)`` returns ``{}``."""
    package = types.ModuleType("numpy.distutils", "edgelab's stand-in: NumPy ships no "
                               "numpy.distutils for Python >= 3.12")
    package.__path__ = []
    system_info = types.ModuleType("numpy.distutils.system_info")
    system_info.get_info = lambda name, notfound_action=0: {}
    package.system_info = system_info
    return {"numpy.distutils": package, "numpy.distutils.system_info": system_info}


def pkg_resources_standin() -> types.ModuleType:
    """A stand-in for ``pkg_resources`` with what Chainer's environment check calls:
    ``require(spec)``, ``get_distribution(name).version`` and the two exceptions.

    ``require`` checks only the named distribution's version, not (as the real one does)
    its dependencies too: Chainer asks it only whether CuPy or iDeep is installed.
    """
    from packaging.requirements import Requirement

    module = types.ModuleType("pkg_resources", "edgelab's stand-in for Chainer: this "
                              "setuptools has no pkg_resources")

    class ResolutionError(Exception):
        pass

    class DistributionNotFound(ResolutionError):
        pass

    class VersionConflict(ResolutionError):
        pass

    def get_distribution(name: str):
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            raise DistributionNotFound(name) from None
        return types.SimpleNamespace(project_name=name, version=version)

    def require(spec: str):
        req = Requirement(spec)
        dist = get_distribution(req.name)
        if not req.specifier.contains(dist.version, prereleases=True):
            raise VersionConflict(f"{req.name} {dist.version} does not satisfy {spec}")
        return [dist]

    for obj in (ResolutionError, DistributionNotFound, VersionConflict, get_distribution,
                require):
        obj.__module__ = module.__name__
        setattr(module, obj.__name__, obj)
    return module


def missing_modules() -> dict[str, types.ModuleType]:
    """The stand-ins this environment needs for Chainer's import (empty where nothing is
    missing: Python 3.11 with setuptools < 82)."""
    standins = {}
    try:
        import numpy.distutils.system_info  # noqa: F401  (deprecated: warnings are muted)
    except ImportError:
        standins.update(numpy_distutils_standin())
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        standins["pkg_resources"] = pkg_resources_standin()
    return standins


@contextlib.contextmanager
def _registered(standins: dict[str, types.ModuleType]):
    """Make ``standins`` importable for the duration of the block, then remove them."""
    added = [name for name in standins if name not in sys.modules]
    sys.modules.update({name: standins[name] for name in added})
    set_on_numpy = "numpy.distutils" in added and "distutils" not in np.__dict__
    if set_on_numpy:  # `import numpy.distutils.x` binds `numpy`; Chainer then reads the attribute
        np.distutils = standins["numpy.distutils"]
    try:
        yield
    finally:
        for name in added:
            if sys.modules.get(name) is standins[name]:
                del sys.modules[name]
        if set_on_numpy:
            del np.distutils


# What this process's Chainer import needed: "numpy.sctypes", "numpy.float", and the
# stand-ins registered for it ("numpy.distutils", "pkg_resources"); set by import_chainer.
SUPPLIED: list[str] = []


def import_chainer():
    """Import Chainer after patching NumPy, with stand-ins for what this Python lacks.

    If an earlier plain ``import chainer`` failed (the learner ran a cell out of order), it
    left half-initialised ``chainer.*`` modules behind; they are dropped so the import
    can succeed now instead of failing with a confusing circular-import error.
    """
    added = patch_numpy()
    if "chainer" not in sys.modules:
        for name in [m for m in sys.modules if m.startswith("chainer.")]:
            del sys.modules[name]
    with warnings.catch_warnings():
        # Chainer and numpy.distutils import deprecated modules; not the learner's concern.
        warnings.filterwarnings("ignore", category=UserWarning, message=".*pkg_resources.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        standins = missing_modules()
        first = "chainer" not in sys.modules
        with _registered(standins):
            import chainer as _chainer
    if first:
        SUPPLIED[:] = added + [n for n in standins if n != "numpy.distutils.system_info"]
    return _chainer


chainer = import_chainer()
