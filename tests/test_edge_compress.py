"""Magnitude pruning, the distillation loss and the ONNX export, on small models."""

from __future__ import annotations

import numpy as np
import pytest

from edgelab.edge import compress, onnx_export


def _tiny(seed=0):
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 1), name="image")
    x = layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = layers.Flatten(name="flat")(x)
    return keras.Model(inputs, layers.Dense(3, name="logits")(x), name="tiny")


def _data(n=256, seed=0):
    """A separable toy problem (synthetic, labelled as such): the class is the brightest
    third of the image."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.random((n, 8, 8, 1), dtype=np.float32) * 0.3
    for i, c in enumerate(y):
        x[i, :, c * 2:c * 2 + 3] += 0.7
    return x, y


def test_gzip_bytes():
    zeros, noise = bytes(100_000), np.random.default_rng(0).bytes(100_000)
    assert compress.gzip_bytes(zeros) < 1_000 < 90_000 < compress.gzip_bytes(noise)


def test_gzip_bytes_of_a_file(tmp_path):
    f = tmp_path / "f.bin"
    f.write_bytes(bytes(5_000))
    assert compress.gzip_bytes(f) == compress.gzip_bytes(bytes(5_000))


def test_pruning_is_exact_and_leaves_the_original_alone():
    model = _tiny()
    before = [w.copy() for w in model.get_weights()]
    pruner = compress.MagnitudePruner(sparsity=0.5)
    pruned = pruner.prune(model)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    s = compress.sparsity(pruned)
    assert s["conv"] == pytest.approx(0.5, abs=1 / 36) and s["logits"] == pytest.approx(0.5, abs=1 / 300)
    # the zeroed weights are the smallest ones
    w, w0 = pruned.get_layer("logits").kernel.numpy(), model.get_layer("logits").kernel.numpy()
    assert np.abs(w0[w == 0]).max() <= np.abs(w0[w != 0]).min()


def test_fine_tuning_keeps_the_zeros():
    x, y = _data()
    pruner = compress.MagnitudePruner(sparsity=0.7, learning_rate=1e-2, batch_size=32)
    pruned = pruner.prune(_tiny())
    masks = {k: v.copy() for k, v in pruner.masks.items()}
    history = pruner.fine_tune(pruned, x, y, epochs=3)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for name, mask in masks.items():
        kernel = pruned.get_layer(name).kernel.numpy()
        assert np.all(kernel[mask == 0] == 0), name
    assert compress.sparsity(pruned)["all kernels"] >= 0.69


def test_pruner_bad_inputs():
    import keras

    with pytest.raises(ValueError, match="sparsity"):
        compress.MagnitudePruner(sparsity=1.0)
    with pytest.raises(RuntimeError, match="prune"):
        compress.MagnitudePruner().apply(_tiny())
    no_weights = keras.Sequential([keras.Input((4,)), keras.layers.ReLU()])
    with pytest.raises(ValueError, match="no Conv2D"):
        compress.MagnitudePruner().prune(no_weights)


def test_distillation_loss_matches_the_formula():
    rng = np.random.default_rng(0)
    labels = np.array([0, 2, 1, 1])
    teacher, student = rng.normal(size=(4, 3)) * 3, rng.normal(size=(4, 3))
    T, alpha = 3.0, 0.6

    def log_softmax(z):
        z = z - z.max(1, keepdims=True)
        return z - np.log(np.exp(z).sum(1, keepdims=True))

    p_t = np.exp(log_softmax(teacher / T))
    kl = (p_t * (log_softmax(teacher / T) - log_softmax(student / T))).sum(1)
    ce = -log_softmax(student)[np.arange(4), labels]
    want = np.mean(alpha * T * T * kl + (1 - alpha) * ce)
    y_true = compress.distillation_targets(labels, teacher)
    got = float(compress.distillation_loss(T, alpha)(y_true, student.astype(np.float32)))
    assert got == pytest.approx(want, rel=1e-5)
    # alpha = 0: plain cross-entropy; student == teacher and alpha = 1: zero
    assert float(compress.distillation_loss(T, 0.0)(y_true, student.astype(np.float32))) == \
        pytest.approx(ce.mean(), rel=1e-5)
    assert float(compress.distillation_loss(T, 1.0)(y_true, teacher.astype(np.float32))) == \
        pytest.approx(0.0, abs=1e-5)


def test_distillation_targets_and_distiller_checks():
    with pytest.raises(ValueError, match="teacher logits"):
        compress.distillation_targets(np.zeros(3), np.zeros((4, 10)))
    with pytest.raises(ValueError, match="temperature"):
        compress.Distiller(temperature=0)
    with pytest.raises(ValueError, match="alpha"):
        compress.Distiller(alpha=1.5)


def test_distiller_trains_both_ways():
    x, y = _data(512)
    teacher = _tiny(1)
    compress.Distiller(learning_rate=1e-2, batch_size=32).fit(teacher, x, y, epochs=3)
    assert compress.keras_accuracy(teacher, x, y) > 0.9
    logits = teacher.predict(x, verbose=0)
    for soft in (None, logits):
        student = _tiny(2)
        compress.Distiller(learning_rate=1e-2, batch_size=32).fit(student, x, y, epochs=3,
                                                                  teacher_logits=soft)
        assert compress.keras_accuracy(student, x, y) > 0.9


def test_compare_students_is_paired_and_reproducible():
    x, y = _data(256)
    teacher = _tiny(1)
    compress.Distiller(learning_rate=1e-2, batch_size=32).fit(teacher, x, y, epochs=3)
    logits = teacher.predict(x, verbose=0)
    xt, yt = _data(128, seed=1)
    distiller = compress.Distiller(learning_rate=1e-2, batch_size=32)
    args = dict(seeds=[0, 1], epochs=2, distiller=distiller, build=lambda: _tiny(), progress=False)
    table = compress.compare_students(x[:64], y[:64], logits[:64], xt, yt, **args)
    assert list(table.index) == [0, 1] and list(table.columns) == ["labels only", "distilled", "gain"]
    assert np.allclose(table["gain"], table["distilled"] - table["labels only"])
    again = compress.compare_students(x[:64], y[:64], logits[:64], xt, yt, **args)
    assert table.equals(again)                       # the seed fixes initial weights and batches
    # alpha = 0 ignores the teacher: both runs of a seed are then the same training
    same = compress.compare_students(x[:64], y[:64], logits[:64], xt, yt, seeds=[3], epochs=2,
                                     distiller=compress.Distiller(alpha=0.0, batch_size=32),
                                     build=lambda: _tiny(), progress=False)
    assert same.loc[3, "gain"] == 0.0
    with pytest.raises(ValueError, match="seed"):
        compress.compare_students(x, y, logits, xt, yt, seeds=[], epochs=1)


def test_student_is_small():
    student = compress.build_student()
    assert student.count_params() == 9_098
    assert student.input_shape == (None, 28, 28, 1) and student.output_shape == (None, 10)


# --------------------------------------------------------------------------- ONNX

def test_onnx_export_matches_tensorflow(tmp_path):
    model = _tiny()
    x, _ = _data(16)
    path, route = onnx_export.to_onnx(model, tmp_path / "tiny.onnx")
    assert route in ("from_keras", "from_function") and path.stat().st_size > 0
    sess = onnx_export.session(path, num_threads=1)
    assert sess.get_inputs()[0].name == "image"
    assert list(sess.get_inputs()[0].shape[1:]) == [8, 8, 1]          # NHWC kept
    assert onnx_export.max_abs_difference(model, path, x) < 1e-5


def test_onnx_fallback_route(tmp_path, monkeypatch):
    import tf2onnx

    def broken(*args, **kwargs):
        raise RuntimeError("from_keras does not like this model")

    monkeypatch.setattr(tf2onnx.convert, "from_keras", broken)
    model = _tiny()
    path, route = onnx_export.to_onnx(model, tmp_path / "tiny.onnx")
    assert route == "from_function"
    assert onnx_export.max_abs_difference(model, path, _data(8)[0]) < 1e-5


def test_onnx_bad_inputs(tmp_path):
    import keras

    with pytest.raises(FileNotFoundError, match="none.onnx"):
        onnx_export.session(tmp_path / "none.onnx")
    a, b = keras.Input((3,)), keras.Input((3,))
    two = keras.Model([a, b], keras.layers.Add()([a, b]))
    with pytest.raises(ValueError, match="2 inputs"):
        onnx_export.to_onnx(two, tmp_path / "two.onnx")
