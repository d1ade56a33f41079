"""tools/colab_replica.py: what the Colab replica holds, and the check that install.sh
--colab left Colab's own packages alone (the replica itself is built by `make test-colab`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FREEZE = ROOT / "tools" / "colab" / "pip-freeze.gpu.txt"

_spec = importlib.util.spec_from_file_location("colab_replica", ROOT / "tools" / "colab_replica.py")
replica = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(replica)


def _freeze(tmp_path, text: str, name: str = "pip-freeze.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_plan_takes_what_edgelab_touches_at_colabs_versions_and_leaves_out_cuda(tmp_path):
    freeze = _freeze(tmp_path, "\n".join([
        "numpy==2.1.3", "tensorflow==2.20.0", "Keras==3.13.2", "ipywidgets==7.7.1",
        "torch==2.11.0+cu128", "nvidia-cublas-cu12==12.8.4.1", "spacy==3.8.7",
        "google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz",
    ]))
    pinned = _freeze(tmp_path, "numpy==2.4.6\ntensorflow==2.21.0\nkeras==3.15.1\n"
                     "nvidia-cublas-cu12==12.8.4.1\nchainer==7.8.1\n", "constraints.txt")
    requirements, constraints, left_out = replica.plan(freeze, pinned)
    assert requirements == ["ipywidgets==7.7.1", "Keras==3.13.2", "numpy==2.1.3",
                            "tensorflow==2.20.0"]  # names as Colab spells them
    assert "spacy==3.8.7" in constraints  # not installed, but Colab's version if pulled in
    assert not any(c.startswith(("torch", "nvidia", "google-colab")) for c in constraints)
    assert left_out == {"nvidia-cublas-cu12": "a CUDA/TPU or PyTorch package"}


def test_plan_of_colabs_own_list():
    requirements, _, _ = replica.plan(FREEZE)
    pins = dict(r.split("==") for r in requirements)
    assert pins["tensorflow"] == "2.20.0" and pins["numpy"] == "2.1.3"
    assert pins["opencv-python-headless"].startswith("5.") and pins["setuptools"] == "75.2.0"
    assert pins["jax"] == pins["jaxlib"] == "0.7.2"             # notebook 01's JAX engine, CPU build
    assert not any(name.startswith(("torch", "jax-cuda", "nvidia")) for name in pins)


def test_check_names_every_package_that_is_no_longer_colabs(tmp_path):
    have = replica.installed_versions(sys.executable)
    numpy = have["numpy"]
    freeze = _freeze(tmp_path, f"numpy=={numpy}\npytest==0.0.1\nno-such-dist-edgelab==1.0\n")
    problems = replica.check(freeze, sys.executable)
    assert problems == [f"pytest: Colab has 0.0.1, the replica has {have['pytest']}"]
    freeze = _freeze(tmp_path, "tensorflow==0.1\n")
    assert replica.check(freeze, sys.executable) == [
        f"tensorflow: Colab has 0.1, the replica has {have['tensorflow']}"]
