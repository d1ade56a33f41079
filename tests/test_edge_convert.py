"""Conversion to the four TFLite variants and their evaluation, on a small CNN trained here
for a few seconds on real MNIST images (the notebook does the same with the big one)."""

from __future__ import annotations

import numpy as np
import pytest

from edgelab.edge import convert, evaluate
from edgelab.edge import inspect as ins


def _small_cnn():
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(8, 3, activation="relu", name="conv")(inputs)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", name="hidden")(x)   # a 1352x64 kernel: quantized
    return keras.Model(inputs, layers.Dense(10, name="logits")(x), name="small_cnn")


@pytest.fixture(scope="module")
def setup(tmp_path_factory, session_home):
    """A trained small CNN, calibration and test images, and its four .tflite variants."""
    import keras
    from conftest import mirror_dir, no_mirror_message

    mirror = mirror_dir()
    if mirror is None:
        pytest.fail(no_mirror_message() + " (these tests train on real MNIST)")
    # A module fixture runs before the per-test environment is set: name the home here too.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDGELAB_HOME", str(session_home))
        mp.setenv("EDGELAB_MIRROR", str(mirror))
        from edgelab.edge import sources

        x, y = sources.mnist_images("train", 3000)
        x_test, y_test = sources.mnist_images("test", 500)
    keras.utils.set_random_seed(0)
    model = _small_cnn()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=3, batch_size=64, verbose=0)
    out = tmp_path_factory.mktemp("tflite")
    files = convert.Converter().convert_all(model, out, "small", representative=x[:100],
                                            progress=False)
    return dict(model=model, calibration=x[:100], x=x_test, y=y_test, files=files, out=out)


def test_all_variants_written_atomically(setup):
    files, out = setup["files"], setup["out"]
    assert list(files) == list(convert.VARIANTS)
    assert {p.name for p in out.iterdir()} == {f"small_{v}.tflite" for v in convert.VARIANTS}
    sizes = {v: p.stat().st_size for v, p in files.items()}
    assert sizes["int8"] < 0.35 * sizes["float32"]
    assert sizes["dynamic_range"] < 0.35 * sizes["float32"]
    assert 0.4 * sizes["float32"] < sizes["float16"] < 0.6 * sizes["float32"]


def test_variant_dtypes_read_back_from_the_files(setup):
    info = {v: ins.read(p) for v, p in setup["files"].items()}
    io = {v: (i.io_details()["inputs"][0]["dtype"], i.io_details()["outputs"][0]["dtype"])
          for v, i in info.items()}
    assert io == {"float32": ("FLOAT32", "FLOAT32"), "dynamic_range": ("FLOAT32", "FLOAT32"),
                  "float16": ("FLOAT32", "FLOAT32"), "int8": ("INT8", "INT8")}
    hidden = lambda i: next(l for l in i.layers if l.op == "FULLY_CONNECTED")
    assert info["float32"].weights_of(hidden(info["float32"])).dtype == "FLOAT32"
    assert info["dynamic_range"].weights_of(hidden(info["dynamic_range"])).dtype == "INT8"
    assert info["float16"].weights_of(hidden(info["float16"])).dtype == "FLOAT16"
    assert "DEQUANTIZE" in info["float16"].ops_histogram()
    q8 = info["int8"]
    w = q8.weights_of(hidden(q8))
    assert w.dtype == "INT8" and w.quantization.per_channel and set(w.quantization.zero_point) == {0}
    conv = q8.weights_of(next(l for l in q8.layers if l.op == "CONV_2D"))
    assert conv.quantization.per_channel and len(conv.quantization.scale) == 8
    x = q8.tensor(q8.inputs[0]).quantization
    assert not x.per_channel
    assert x.scale[0] == pytest.approx(1 / 255, rel=1e-3) and x.zero_point == (-128,)
    assert all(i.batchnorm_folded() for i in info.values())


def test_int8_weights_dequantize_to_the_keras_kernel(setup):
    q8 = ins.read(setup["files"]["int8"])
    layer = next(l for l in q8.layers if l.op == "FULLY_CONNECTED")
    w = q8.weights_of(layer)
    kernel = setup["model"].get_layer("hidden").kernel.numpy().T     # Keras [in,out], TFLite [out,in]
    half = np.asarray(w.quantization.scale)[:, None] / 2
    assert np.all(np.abs(q8.dequantized(w.index) - kernel) <= half * 1.001)


def test_outputs_agree_with_keras(setup):
    model, x, y = setup["model"], setup["x"], setup["y"]
    reference = model.predict(x, verbose=0)
    out = {v: evaluate.TFLiteRunner(p, num_threads=1).predict(x) for v, p in setup["files"].items()}
    np.testing.assert_allclose(out["float32"], reference, atol=1e-4)
    np.testing.assert_allclose(out["float16"], reference, atol=0.05)
    for v in convert.VARIANTS:
        agree = np.mean(out[v].argmax(1) == reference.argmax(1))
        assert agree >= (0.999 if v == "float32" else 0.97), (v, agree)
    keras_acc = np.mean(reference.argmax(1) == y)
    assert keras_acc > 0.85, "the small CNN should learn MNIST in three epochs"


def test_compare_table_and_ratios(setup):
    table = evaluate.compare(setup["files"], setup["x"], setup["y"], runs=3, num_threads=1,
                             progress=False)
    assert list(table.index) == list(convert.VARIANTS)
    assert {"size_kb", "accuracy", "latency_ms", "input", "output", "size_ratio",
            "latency_ratio"} <= set(table.columns)
    assert table.loc["int8", "input"] == "int8" and table.loc["float32", "input"] == "float32"
    assert (table["latency_ms"] > 0).all() and table.loc["float32", "size_ratio"] == 1.0
    r = evaluate.int8_vs_float32(table)
    assert r["size_ratio"] == pytest.approx(table.loc["int8", "size_kb"] / table.loc["float32", "size_kb"])
    assert abs(r["accuracy_drop"]) <= 0.03
    fig = evaluate.plot_comparison(table, "small")
    assert len(fig.axes) == 3
    assert fig.axes[1].get_ylim()[0] == 0                     # accuracy bars start at zero
    right = table.attrs["correct"]
    assert list(right) == list(convert.VARIANTS) and right["int8"].shape == (len(setup["y"]),)
    assert right["int8"].mean() == pytest.approx(table.loc["int8", "accuracy"])
    assert table.attrs["timing"] == "alone"
    with pytest.raises(KeyError, match="int8"):
        evaluate.int8_vs_float32(table.drop(index="int8"))


def test_record_table(setup, tmp_path, monkeypatch):
    from edgelab.core import results

    monkeypatch.setenv("EDGELAB_RESULTS", str(tmp_path / "r.jsonl"))
    table = evaluate.compare(setup["files"], setup["x"][:50], setup["y"][:50], runs=2,
                             num_threads=1, progress=False)
    evaluate.record_table("small", table)
    keys = {row["key"] for row in results.load(tmp_path / "r.jsonl")}
    assert "edge.small.int8.size_kb" in keys and "edge.small.int8_vs_float32.latency_ratio" in keys
    assert len(keys) == 4 * 3 + 3


def test_saved_model_folder_and_keras_file_sources(setup, tmp_path):
    model = setup["model"]
    folder = convert.export_saved_model(model, tmp_path / "sm")
    assert convert.is_saved_model(folder)
    assert convert.saved_model_input(folder)[1:] == ((None, 28, 28, 1), "float32")
    convert.export_saved_model(model, folder)          # replacing an existing export works
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sm"]   # no temporary leftovers
    a = convert.Converter().convert(folder, "float32")
    model.save(tmp_path / "m.keras")
    b = convert.Converter().convert(tmp_path / "m.keras", "float32")
    x = setup["x"][:20]
    np.testing.assert_allclose(evaluate.TFLiteRunner(a).predict(x), evaluate.TFLiteRunner(b).predict(x),
                               atol=1e-5)


def test_plain_tf_saved_model_with_signature(tmp_path):
    """A SavedModel that is not from Keras 3 (like notebook 05's tf_keras export)."""
    import tensorflow as tf

    class Scale(tf.Module):
        def __init__(self):
            self.w = tf.Variable(tf.ones([3, 4]))

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def __call__(self, x):
            return {"y": tf.matmul(x, self.w)}

    module = Scale()
    tf.saved_model.save(module, str(tmp_path / "plain"), signatures={"serving_default": module.__call__})
    assert convert.saved_model_input(tmp_path / "plain") == ("x", (None, 3), "float32")
    data = convert.Converter().convert(tmp_path / "plain", "float32")
    out = evaluate.TFLiteRunner(data).predict(np.ones((2, 3), np.float32))
    np.testing.assert_allclose(out, np.full((2, 4), 3.0))
    with pytest.raises(KeyError, match="no signature 'other'"):
        convert.saved_model_input(tmp_path / "plain", "other")


def test_bad_inputs(setup, tmp_path):
    c = convert.Converter()
    with pytest.raises(ValueError, match="unknown variant 'int4'"):
        c.convert(setup["model"], "int4")
    with pytest.raises(ValueError, match="representative"):
        c.convert(setup["model"], "int8")
    with pytest.raises(ValueError, match="float32"):
        c.convert(setup["model"], "int8", representative=np.zeros((4, 28, 28, 1), np.uint8))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        c.convert(tmp_path / "nowhere", "float32")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a SavedModel"):
        c.convert(tmp_path / "empty", "float32")
    with pytest.raises(FileNotFoundError, match="saved_model.pb"):
        convert.saved_model_input(tmp_path / "empty")
    with pytest.raises(TypeError, match="Keras 3 model"):
        convert.export_saved_model(object(), tmp_path / "x")
    with pytest.raises(ValueError, match="unknown variant"):
        c.convert_all(setup["model"], tmp_path, "m", variants=("float32", "fp8"))
    assert not list(tmp_path.glob("m_*.tflite"))       # nothing written when a variant is bad


def test_runner_bad_inputs(setup):
    runner = evaluate.TFLiteRunner(setup["files"]["int8"], num_threads=1)
    with pytest.raises(ValueError, match="shape"):
        runner.predict(np.zeros((2, 32, 32, 1), np.float32))
    with pytest.raises(ValueError, match="runs"):
        runner.latency_ms(setup["x"][0], runs=0)
    with pytest.raises(ValueError, match="labels"):
        evaluate.accuracy(runner, setup["x"][:5], setup["y"][:4])
    with pytest.raises(ValueError, match="float images"):
        runner.quantize_input(np.zeros((1, 28, 28, 1), np.int32))


def test_differences_finds_what_changed_and_nothing_else(setup, tmp_path):
    files = setup["files"]
    again = convert.Converter().convert(setup["model"], "int8", representative=setup["calibration"])
    assert convert.differences(files["int8"], again) == []
    other = convert.Converter().convert(setup["model"], "int8", representative=setup["calibration"][:10])
    found = convert.differences(files["int8"], other)
    assert found and all("quantization" in f for f in found)          # other activation ranges
    assert convert.differences(files["float32"], files["float16"])[0].startswith("operators")
