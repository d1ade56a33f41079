"""Notebook 08's exercise checkers can fail: for each exercise the reference solution
passes, the untouched starter is "not done yet", and every listed mistake gets its own
message (tests/_exercises.py). The namespace stands in for the notebook at the exercise
cells, at 32 px with an untrained network (the checks look at layouts, shapes, TRANSPOSE
counts and integers, not at accuracy) and real Flower17 photos. Needs the torch extra."""

from __future__ import annotations

import types
import warnings

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("litert_torch")

from _exercises import prove  # noqa: E402

SIZE = 32


@pytest.fixture(scope="module")
def context(tmp_path_factory, session_home):
    import keras
    import litert_torch
    import torch
    from conftest import mirror_dir, no_mirror_message

    from edgelab.datasets.flowers17 import CLASS_NAMES
    from edgelab.edge import convert
    from edgelab.edge.evaluate import interpreter_class
    from edgelab.pytorch import data, export
    from edgelab.pytorch.model import TinyU2Net

    mirror = mirror_dir()
    if mirror is None:
        pytest.fail(no_mirror_message() + " (exercise 5 reads real Flower17 photos)")
    out = tmp_path_factory.mktemp("nb08")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDGELAB_HOME", str(session_home))
        mp.setenv("EDGELAB_MIRROR", str(mirror))
        train = data.load("train", SIZE, progress=False)
        test = data.load("test", SIZE, progress=False)
    # a small NHWC model with int8 input, standing in for section 8's onnx2tf int8 file
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    nhwc = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(x)))
    int8_path = out / "int8.tflite"
    int8_path.write_bytes(convert.Converter().convert(nhwc, "int8", representative=data.to_nhwc(train.images[:50])))
    torch.manual_seed(0)
    yield dict(np=np, torch=torch, litert_torch=litert_torch, warnings=warnings, data=data,
               export=export, TinyU2Net=TinyU2Net, CLASS_NAMES=CLASS_NAMES,
               S=types.SimpleNamespace(image_size=SIZE, width=4),
               lab=types.SimpleNamespace(out=out, seed=42),
               model=TinyU2Net(SIZE, num_classes=len(CLASS_NAMES), width=4).eval(),
               int8_path=int8_path, Interpreter=interpreter_class()[0], train=train, test=test)


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
def test_exercise(number, context, monkeypatch, session_home):
    from conftest import mirror_dir

    monkeypatch.setenv("EDGELAB_HOME", str(session_home))
    monkeypatch.setenv("EDGELAB_MIRROR", str(mirror_dir()))
    prove("08", number, context)
