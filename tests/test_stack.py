"""The whole stack in one process: Chainer (on NumPy 2) and TensorFlow/Keras/Sonnet train."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np


def test_numpy_patch_restores_exactly_two_names():
    from edgelab.chainer import compat as chainer_compat

    assert chainer_compat.patch_numpy() == []  # already applied at import, idempotent
    assert np.float is float
    assert np.sctypes["float"][1] is np.float32 and np.int64 in np.sctypes["int"]


def test_chainer_and_tensorflow_train_in_one_process():
    from edgelab.chainer.compat import chainer
    import chainer.functions as F
    import chainer.links as L
    import keras
    import sonnet as snt
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)

    # Chainer: a few SGD steps on a linear classifier lower the loss.
    np.random.seed(0)   # Chainer's initializers draw from NumPy's global generator
    model = L.Classifier(L.Linear(4, 2))
    opt = chainer.optimizers.SGD(lr=0.5)
    opt.setup(model)
    losses = []
    for _ in range(20):
        opt.update(model, x, y)
        losses.append(float(model.loss.array))
    assert losses[-1] < losses[0] * 0.7
    assert isinstance(F.relu(x).array, np.ndarray)

    # Keras 3 on TensorFlow: the same task.
    keras.utils.set_random_seed(0)
    k = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    k.compile(optimizer=keras.optimizers.SGD(0.5),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = k.fit(x, y, epochs=20, batch_size=64, verbose=0).history["loss"]
    assert hist[-1] < hist[0] * 0.7

    # Sonnet 2: one GradientTape step with snt.optimizers.
    tf.random.set_seed(0)   # Sonnet's initializers draw from TensorFlow's global seed
    lin = snt.Linear(2)
    sgd = snt.optimizers.SGD(0.5)
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, lin(x)))
        sgd.apply(tape.gradient(loss, lin.trainable_variables), lin.trainable_variables)
        return float(loss)
    first = step()
    for _ in range(20):
        last = step()
    assert last < first * 0.7


def test_importing_chainer_first_is_caught():
    """A fresh process that imports chainer without edgelab fails the way PITFALLS says,
    and edgelab.chainer.compat explains what to do instead of failing obscurely."""
    code = textwrap.dedent("""
        try:
            import chainer
        except AttributeError as err:
            print("plain import fails:", "sctypes" in str(err))
        from edgelab.chainer.compat import chainer
        print("via edgelab:", chainer.__version__)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "plain import fails: True" in out.stdout, out.stdout + out.stderr
    assert "via edgelab: 7.8.1" in out.stdout, out.stdout + out.stderr
