"""Notebook 01's exercise checkers can fail: the reference solution passes, the untouched
starter is "not done yet", and each realistic mistake gets its own message.

The namespace stands in for the notebook at its exercise cells: real MNIST digits (a few
thousand), section 2's batches, a CNN trained for a few steps and saved as section 7 saves
it. Exercise 2 needs two devices, which a process must be given before TensorFlow starts:
it runs in a child process with ``EDGELAB_SIMULATE_DEVICES=2``, as a learner's restarted
kernel would.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from _exercises import prove
from conftest import mirror_dir

TESTS = Path(__file__).resolve().parent


def make_context(out: Path) -> dict:
    """The notebook's names at its exercise cells (the data home and mirror already set)."""
    import keras
    import tensorflow as tf

    from edgelab.core import profiles
    from edgelab.datasets import mnist
    from edgelab.mnist import cnn, inputs

    (x_train, y_train), _ = mnist.load()
    S = profiles.sizes("mnist", "quick")
    x_fit, y_fit = x_train[:2048], y_train[:2048]
    lab = SimpleNamespace(seed=42, out=out)
    steps_per_epoch = 8
    lr = S.learning_rate
    model = cnn.compile_model(cnn.build_model(), lr, steps=S.epochs * steps_per_epoch)
    model.fit(inputs.pipeline(x_fit[:512], y_fit[:512], 64), epochs=1, verbose=0)
    first = cnn.build_model(layer_names=False)
    first.set_weights(model.get_weights())
    first.save_weights(out / "cnn_unnamed.weights.h5")
    model_file = out / "mnist_cnn.keras"
    model.save(model_file)
    return dict(np=np, math=math, tf=tf, keras=keras, cnn=cnn, inputs=inputs, S=S, lab=lab,
                make_batches=inputs.pipeline, x_fit=x_fit, y_fit=y_fit, model=model, lr=lr,
                steps_per_epoch=steps_per_epoch, model_file=model_file)


@pytest.fixture(scope="module")
def context(session_home, tmp_path_factory):
    if mirror_dir() is None:
        pytest.skip("no data mirror (see tests/conftest.py)")
    out = tmp_path_factory.mktemp("nb01")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDGELAB_HOME", str(session_home))
        mp.setenv("EDGELAB_MIRROR", str(mirror_dir()))
        mp.setenv("EDGELAB_OUT", str(out))
        return make_context(out)


@pytest.mark.parametrize("number", [1, 3, 4])
def test_exercise(number, context):
    prove("01", number, context)


def test_exercise_2_one_device_names_the_restart(context):
    """In a process that sees one device, the checker says the variable was not set in time."""
    import tensorflow as tf

    from edgelab import exercises

    ex = exercises("01", record=False, lang="en")[2]
    train = context["make_batches"](context["x_fit"], context["y_fit"], 64, drop_remainder=True)
    result = ex.evaluate(tf.distribute.MirroredStrategy(), context["model"], train)
    assert (result.status, result.key) == ("wrong", "one_device"), result


CHILD = """
import json, sys
sys.path.insert(0, {tests!r})
from edgelab import devices
engine = devices.choose_engine()
import math
from types import SimpleNamespace
import numpy as np
import tensorflow as tf
from _exercises import prove
from edgelab.core import profiles
from edgelab.datasets import mnist
from edgelab.mnist import cnn, inputs

strategy = tf.distribute.MirroredStrategy()
S = profiles.sizes("mnist", "quick")
lr, steps_per_epoch = S.learning_rate * math.sqrt(2), 4
with strategy.scope():
    model = cnn.compile_model(cnn.build_model(), lr, steps=S.epochs * steps_per_epoch)
(x, y), _ = mnist.load()
x_fit, y_fit = x[:1024], y[:1024]
replicas = strategy.num_replicas_in_sync
train_ds = inputs.pipeline(x_fit, y_fit, S.batch_size_per_replica * replicas, shuffle=True,
                           seed=42, drop_remainder=True)
context = dict(np=np, math=math, tf=tf, engine=engine, strategy=strategy, S=S, x_fit=x_fit,
               y_fit=y_fit, make_batches=inputs.pipeline, lab=SimpleNamespace(seed=42),
               train_ds=train_ds, model=model, cnn=cnn, lr=lr, steps_per_epoch=steps_per_epoch)
outcome = prove("01", 2, context)
print(json.dumps({{k: [r.status, r.key] for k, r in outcome.items()}}))
"""


def test_exercise_2_on_two_simulated_devices(session_home, tmp_path):
    if mirror_dir() is None:
        pytest.skip("no data mirror (see tests/conftest.py)")
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_PLATFORMS",
                                                            "KERAS_BACKEND")}
    env.update(EDGELAB_SIMULATE_DEVICES="2", EDGELAB_HOME=str(session_home),
               EDGELAB_MIRROR=str(mirror_dir()), EDGELAB_OUT=str(tmp_path),
               EDGELAB_PROFILE="quick", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD.format(tests=str(TESTS)))],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcome == {"solution": ["passed", "passed"], "starter": ["not_done", "not_done"],
                       "mistake 0": ["wrong", "scope"], "mistake 1": ["wrong", "batch"]}
