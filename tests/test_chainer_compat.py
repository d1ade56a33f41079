"""edgelab.chainer.compat: Chainer 7.8.1 on Python 3.11 to 3.13, NumPy 2, any setuptools.

The stand-ins are tested twice: directly, and end to end in a fresh process where
``numpy.distutils`` and ``pkg_resources`` cannot be imported (as on Python >= 3.12 and with
setuptools >= 82). On Python 3.13 (the Colab replica) ``numpy.distutils`` is really absent.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from edgelab.chainer import compat as chainer_compat


def test_numpy_distutils_is_absent_from_python_312_on():
    """The fact the stand-in exists for; if NumPy brought it back, the stand-in would rest."""
    present = importlib.util.find_spec("numpy.distutils") is not None
    assert present == (sys.version_info < (3, 12))
    assert ("numpy.distutils" in chainer_compat.missing_modules()) == (not present)


def test_numpy_distutils_standin_knows_nothing():
    mods = chainer_compat.numpy_distutils_standin()
    assert mods["numpy.distutils"].system_info is mods["numpy.distutils.system_info"]
    assert mods["numpy.distutils.system_info"].get_info("blas_opt") == {}


def test_pkg_resources_standin_answers_like_the_real_one():
    pr = chainer_compat.pkg_resources_standin()
    assert pr.get_distribution("numpy").version == importlib.metadata.version("numpy")
    assert pr.require("numpy>=2,<3")[0].version == np.__version__
    with pytest.raises(pr.VersionConflict):
        pr.require("numpy<1")
    with pytest.raises(pr.DistributionNotFound):
        pr.require("cupy-cuda120>=7.7.0,<8.0.0")
    assert issubclass(pr.DistributionNotFound, pr.ResolutionError)


def test_pkg_resources_standin_matches_the_real_one_where_there_is_one():
    real = pytest.importorskip("pkg_resources", reason="this setuptools has no pkg_resources")
    pr = chainer_compat.pkg_resources_standin()
    for spec in ("numpy>=2", "numpy<1", "chainer==7.8.1", "no-such-package-edgelab>=1"):
        outcomes = []
        for module in (real, pr):
            try:
                module.require(spec)
                outcomes.append("ok")
            except module.VersionConflict:
                outcomes.append("conflict")
            except module.DistributionNotFound:
                outcomes.append("not found")
        assert outcomes[0] == outcomes[1], spec


# A fresh process in which numpy.distutils and pkg_resources cannot be imported, as on
# Python >= 3.12 with setuptools >= 82. While Chainer's environment check runs, sys.platform
# says macOS, so that the check really calls numpy.distutils.system_info.get_info (it does
# so on macOS only); the rest of the import sees the real platform.
_WITHOUT = textwrap.dedent("""
    import importlib.machinery, sys
    BLOCKED = ("numpy.distutils", "pkg_resources")
    calls = []

    def as_if_on_macos(check):
        def wrapper():
            real, sys.platform = sys.platform, "darwin"
            try:
                check()
                calls.append("check ran as on macOS")
            finally:
                sys.platform = real
        return wrapper

    class Finder:
        def find_spec(self, name, path=None, target=None):
            if name in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            if name != "chainer._environment_check":
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            exec_module = spec.loader.exec_module
            def exec_and_wrap(module):
                exec_module(module)
                module.check = as_if_on_macos(module.check)
            spec.loader.exec_module = exec_and_wrap
            return spec

    sys.meta_path.insert(0, Finder())
    import numpy as np
    from edgelab.chainer.compat import chainer
    import chainer.links as L
    print(*calls)

    model = L.Classifier(L.Linear(3, 2))
    opt = chainer.optimizers.SGD(lr=0.1)
    opt.setup(model)
    x = np.ones((4, 3), np.float32)
    opt.update(model, x, np.array([0, 1, 0, 1], np.int32))
    print("chainer", chainer.__version__, "trained:", model.loss.array.shape == ())
    for name in BLOCKED:
        try:
            __import__(name)
            print(name, "importable afterwards")
        except ImportError:
            print(name, "still absent")
    print("numpy.distutils attribute left:", "distutils" in np.__dict__)
""")


def test_chainer_imports_without_numpy_distutils_and_pkg_resources():
    out = subprocess.run([sys.executable, "-c", _WITHOUT], capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert "check ran as on macOS" in lines, out.stdout + out.stderr[-2000:]
    assert "chainer 7.8.1 trained: True" in lines, out.stdout + out.stderr[-2000:]
    # The stand-ins served Chainer's import and are gone: no other library sees them.
    assert "numpy.distutils still absent" in lines and "pkg_resources still absent" in lines
    assert "numpy.distutils attribute left: False" in lines
