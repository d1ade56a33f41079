"""Lesson 01's package: NumPy batches, the progress bar, name-based restores, the XLA checks.

These run on the TensorFlow backend, in process (the JAX engine is covered by
tests/test_devices.py and the two-replica notebook runs of ``make test-replicas``).
"""

from __future__ import annotations

import numpy as np
import pytest

from edgelab.mnist import cnn, inputs, training, xla


def digits(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), (np.arange(n) % 10).astype(np.uint8)


def test_numpy_batches_scale_shuffle_and_drop_the_remainder():
    x, y = digits(50)
    full = inputs.numpy_batches(x, y, 16)
    assert len(full) == 4 and len(full[3][0]) == 2
    images, labels = full[0]
    assert images.shape == (16, 28, 28, 1) and images.dtype == np.float32
    assert labels.dtype == np.int32 and np.array_equal(labels, y[:16])
    np.testing.assert_allclose(images[..., 0], x[:16] / 255.0, rtol=1e-6)
    dropped = inputs.numpy_batches(x, y, 16, shuffle=True, seed=3, drop_remainder=True)
    assert len(dropped) == 3 and all(len(b[0]) == 16 for b in dropped)
    first = np.concatenate([b[1] for b in dropped])
    again = np.concatenate([b[1] for b in inputs.numpy_batches(x, y, 16, shuffle=True, seed=3,
                                                               drop_remainder=True)])
    assert np.array_equal(first, again)                  # seeded: the same order
    assert not np.array_equal(first, y[:48])             # shuffled
    dropped.on_epoch_end()
    assert not np.array_equal(np.concatenate([b[1] for b in dropped]), first)  # reshuffled
    with pytest.raises(IndexError):
        dropped[3]
    with pytest.raises(ValueError, match="images but"):
        inputs.numpy_batches(x, y[:10], 16)


def test_pipeline_is_tf_data_where_tensorflow_is_installed():
    x, y = digits(20)
    assert inputs.describe(inputs.pipeline(x, y, 8)) == "tf.data.Dataset"
    assert inputs.describe(inputs.numpy_batches(x, y, 8)).startswith("NumPy batches")


def test_the_cnn_trains_from_numpy_batches_with_a_progress_bar(capsys):
    x, y = digits(64)
    model = cnn.compile_model(cnn.build_model(), 1e-3)
    history = model.fit(inputs.numpy_batches(x, y, 16), epochs=2, verbose=0,
                        callbacks=[training.progress_bar()])
    assert len(history.history["loss"]) == 2
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "4/4" in err and "loss=" in err


def test_a_name_based_restore_silently_misses_a_model_built_again(tmp_path):
    """What notebook 01, section 7 shows: Keras' .h5 restore by layer name finds none of the
    numbered names of a model built a second time, and says nothing; explicit names and the
    structure-based .weights.h5 restore."""
    same = lambda a, b: all(np.array_equal(x, y) for x, y in zip(a, b))
    first = cnn.build_model(layer_names=False)
    first.save(tmp_path / "unnamed.h5")
    again = cnn.build_model(layer_names=False)
    assert {l.name for l in again.layers}.isdisjoint(l.name for l in first.layers)
    untouched = again.get_weights()
    again.load_weights(tmp_path / "unnamed.h5", by_name=True)      # no error ...
    assert same(again.get_weights(), untouched)                     # ... and nothing loaded
    assert not same(again.get_weights(), first.get_weights())
    named = cnn.build_model()
    named.save(tmp_path / "named.h5")
    named_again = cnn.build_model()
    named_again.load_weights(tmp_path / "named.h5", by_name=True)
    assert same(named_again.get_weights(), named.get_weights())
    first.save_weights(tmp_path / "w.weights.h5")
    again.load_weights(tmp_path / "w.weights.h5")
    assert same(again.get_weights(), first.get_weights())


def test_the_tensorboard_callback_logs_the_learning_rate(tmp_path):
    """Notebook 01 lists the curves Keras' TensorBoard callback wrote (not a checked cell:
    it needs TensorFlow, which Colab's TPU runtime lacks); the fact is checked here."""
    import keras

    x, y = digits(64)
    model = cnn.compile_model(cnn.build_model(), 1e-3, steps=8)
    model.fit(inputs.numpy_batches(x, y, 16), validation_data=inputs.numpy_batches(x, y, 32),
              epochs=1, verbose=0, callbacks=[keras.callbacks.TensorBoard(tmp_path / "logs")])
    tags = training.logged_scalars(tmp_path / "logs")
    assert {"epoch_accuracy", "epoch_learning_rate", "epoch_loss"} <= set(tags["train"])
    assert {"epoch_accuracy", "epoch_loss"} <= set(tags["validation"])


def test_xla_checks_agree_and_see_what_each_can():
    import tensorflow as tf

    logits = np.random.default_rng(0).normal(size=(4, 10)).astype(np.float32)

    def strings(t):
        return tf.strings.as_string(tf.argmax(t, axis=1))

    def wide(t):
        return tf.nn.softmax(tf.cast(t, tf.float64))

    assert xla.rejected_ops(strings, logits) == ["AsString"]

    def two_bad(t):     # XLA stops at the first op it cannot compile; TensorBoard lists both
        d = tf.argmax(t, axis=1)
        return tf.strings.as_string(d), tf.py_function(lambda v: v, [d], tf.int64)

    assert len(xla.rejected_ops(two_bad, logits)) == 1
    assert xla.tensorboard_incompatible(two_bad, logits) == ["AsString", "EagerPyFunc"]
    assert xla.tensorboard_incompatible(strings, logits) == ["AsString"]
    assert xla.rejected_ops(wide, logits) == [] and xla.tensorboard_incompatible(wide, logits) == []
    assert xla.wide_float_types(wide, logits) == ["f64"]
    assert xla.wide_float_types(lambda t: tf.nn.softmax(t), logits) == []
    ops = xla.tensorboard_tpu_ops()
    assert {"Conv2D", "MatMul", "Placeholder"} <= ops and "AsString" not in ops
    model = cnn.build_model()
    assert xla.model_rejected_ops(model, np.zeros((2, 28, 28, 1), np.float32)) == []


def test_scaled_learning_rate_follows_the_square_root_rule():
    assert cnn.scaled_learning_rate(1e-3, 1) == 1e-3
    assert cnn.scaled_learning_rate(1e-3, 4) == pytest.approx(2e-3)
    with pytest.raises(ValueError):
        cnn.scaled_learning_rate(1e-3, 0)
