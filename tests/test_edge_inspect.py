"""edgelab.edge.inspect on the four published quantized MobileNets (fixed files, so every
number here is a fact about them), on broken files, and through the CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from edgelab.edge import inspect as ins

# The three v1 models differ only in width and input size: same graph, same op counts.
V1_OPS = {"CONV_2D": 15, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1, "RESHAPE": 1,
          "SOFTMAX": 1}
CORAL = {
    "mobilenet_v1_0.25_128_quant.tflite": dict(bytes=525_598, size=128, layers=31, tensors=89,
                                                ops=V1_OPS, relu6=27),
    "mobilenet_v1_0.5_160_quant.tflite": dict(bytes=1_392_846, size=160, layers=31, tensors=89,
                                              ops=V1_OPS, relu6=27),
    "mobilenet_v1_0.75_192_quant.tflite": dict(bytes=2_652_542, size=192, layers=31, tensors=89,
                                               ops=V1_OPS, relu6=27),
    "mobilenet_v2_1.0_224_quant.tflite": dict(bytes=3_610_798, size=224, layers=66, tensors=174,
                                              ops={"CONV_2D": 36, "DEPTHWISE_CONV_2D": 17,
                                                   "ADD": 10, "AVERAGE_POOL_2D": 1, "RESHAPE": 1,
                                                   "SOFTMAX": 1}, relu6=35),
}


@pytest.fixture
def coral_paths(shared_home):
    """The published files, fetched (verified) through the data layer."""
    from edgelab.datasets import samples

    return {name: samples.tflite_classifier(name) for name in CORAL}


@pytest.fixture
def v1(coral_paths):
    return ins.read(coral_paths["mobilenet_v1_0.25_128_quant.tflite"])


@pytest.fixture
def v2(coral_paths):
    return ins.read(coral_paths["mobilenet_v2_1.0_224_quant.tflite"])


@pytest.mark.parametrize("name", list(CORAL))
def test_coral_models_structure(coral_paths, name):
    want = CORAL[name]
    info = ins.read(coral_paths[name])
    assert info.file_bytes == want["bytes"]
    assert len(info.layers) == want["layers"] and len(info.tensors) == want["tensors"]
    assert info.ops_histogram() == want["ops"]
    assert list(info.ops_histogram()) == list(want["ops"])            # most frequent first
    io = info.io_details()
    assert io["inputs"][0]["shape"] == [1, want["size"], want["size"], 3]
    assert io["inputs"][0]["dtype"] == "UINT8"
    assert (io["inputs"][0]["scale"], io["inputs"][0]["zero_point"]) == (0.0078125, 128)
    assert io["outputs"][0]["shape"] == [1, 1001]
    assert (io["outputs"][0]["scale"], io["outputs"][0]["zero_point"]) == (0.00390625, 0)
    assert info.fused_activations() == {"RELU6": want["relu6"]}
    assert info.standalone_activations() == {}
    assert info.batchnorm_folded() and info.batchnorm_like_ops() == []
    assert info.dtypes().keys() == {"INT32", "UINT8"}
    assert info.associated_files == ["imagenet_labels.txt"]
    assert info.metadata["min_runtime_version"] == "1.5.0"
    assert info.subgraph_count == 1 and info.version == 3
    s = info.summary()
    assert s["parameter_bytes"] + s["other_bytes"] == s["file_bytes"]
    assert 0.85 < s["parameter_bytes"] / s["file_bytes"] < 1


def test_first_conv_quantization(v1):
    first = v1.layers[0]
    assert (first.op, first.kernel, first.stride, first.activation, first.padding) == \
        ("CONV_2D", "3x3", "2x2", "RELU6", "SAME")
    x, w, b = (v1.tensor(t) for t in first.inputs)
    assert (x.dtype, w.dtype, b.dtype) == ("UINT8", "UINT8", "INT32")
    assert w.shape == (8, 3, 3, 3) and b.shape == (8,)
    assert not w.quantization.per_channel and w.quantization.granularity == "per-tensor"
    assert w.quantization.zero_point == (157,)
    assert w.quantization.scale[0] == pytest.approx(0.00888241, rel=1e-6)
    # The bias scale is the product of input and weight scales (int32 accumulator).
    assert b.quantization.scale[0] == pytest.approx(x.quantization.scale[0] * w.quantization.scale[0],
                                                    rel=1e-5)
    out = v1.tensor(first.outputs[0]).quantization
    assert out.zero_point == (0,) and out.scale[0] * 255 == pytest.approx(6.0, rel=1e-4)  # ReLU6
    assert first.params == 8 * 27 + 8


def test_tensor_data_and_dequantized(v1):
    w = v1.weights_of(0)
    q = v1.tensor_data(w.index)
    assert q.dtype == np.uint8 and q.shape == (8, 3, 3, 3)
    real = v1.dequantized(w.index)
    s, z = w.quantization.scale[0], w.quantization.zero_point[0]
    np.testing.assert_allclose(real, (q.astype(np.float32) - z) * s, rtol=1e-6)
    with pytest.raises(ValueError, match="activation"):
        v1.tensor_data(v1.inputs[0])


def test_layer_table_columns_and_kernels(v1):
    table = v1.layer_table()
    assert len(table) == 31
    assert {"op", "kernel", "stride", "activation", "input", "output", "dtype", "params",
            "weight quantization", "output quantization"} <= set(table.columns)
    assert table.loc[1, "op"] == "DEPTHWISE_CONV_2D" and table.loc[1, "kernel"] == "3x3"
    assert table.loc[2, "kernel"] == "1x1"
    assert table.loc[27, "op"] == "AVERAGE_POOL_2D" and table.loc[27, "kernel"] == "4x4"
    assert table.loc[0, "input"] == "1x128x128x3" and table.loc[0, "output"] == "1x64x64x8"
    assert table["params"].sum() == sum(layer.params for layer in v1.layers)


def test_inverted_residuals_in_v2_only(v1, v2):
    blocks = v2.inverted_residuals()
    assert len(blocks) == 10
    assert blocks[0] == (6, 7, 8, 9) and blocks[-1] == (54, 55, 56, 57)
    for expand, dw, project, add in blocks:
        assert v2.layers[expand].kernel == "1x1" and v2.layers[dw].kernel == "3x3"
        assert v2.layers[project].activation == ""          # linear bottleneck
        assert v2.layers[add].op == "ADD"
    assert len(v2.find_chains(ins.INVERTED_RESIDUAL[:3])) == 16
    assert v1.inverted_residuals() == []


def _inverted_residual_model(kernels=(5, 3)):
    """Two inverted-residual blocks (1x1 expand + ReLU6, depthwise kxk + ReLU6, linear 1x1
    project, add), one per depthwise kernel size, like the AutoML models' 5x5 blocks."""
    import keras
    from keras import layers

    inputs = keras.Input((16, 16, 8))
    x = inputs
    for k in kernels:
        h = layers.ReLU(6.0)(layers.Conv2D(48, 1)(x))
        h = layers.ReLU(6.0)(layers.DepthwiseConv2D(k, padding="same")(h))
        x = layers.Add()([x, layers.Conv2D(8, 1)(h)])
    return keras.Model(inputs, x)


def test_inverted_residuals_with_5x5_depthwise_kernels():
    from edgelab.edge import convert

    keras_model = _inverted_residual_model()
    info = ins.read(convert.Converter().convert(keras_model, "float32"))
    blocks = info.inverted_residuals()
    assert [info.layers[dw].kernel for _, dw, _, _ in blocks] == ["5x5", "3x3"]
    assert all(info.layers[e].activation == "RELU6" and info.layers[p].activation == ""
               for e, _, p, _ in blocks)
    # a matcher that accepts only 3x3 depthwise kernels (the old one) misses the 5x5 block
    assert len(info.inverted_residuals(depthwise_kernels="3x3")) == 1
    assert info.inverted_residuals(depthwise_kernels=("3x3", "5x5")) == blocks
    # kernel specs: one size, several sizes, any
    assert len(info.find_chains([("DEPTHWISE_CONV_2D", "5x5")])) == 1
    assert len(info.find_chains([("DEPTHWISE_CONV_2D", ("5x5", "7x7"))])) == 1
    assert len(info.find_chains([("DEPTHWISE_CONV_2D", None)])) == 2


def test_depths_follow_execution_order(v2):
    depth = v2.depths()
    assert depth[0] == 0 and len(depth) == 66
    assert all(b >= a for a, b in zip(depth, depth[1:]))  # a sequential backbone


def test_json_is_flatc_like(v1):
    d = json.loads(v1.to_json())
    assert d["version"] == 3 and d["description"] == "MLIR Converted."
    assert [c["builtin_code"] for c in d["operator_codes"]][:2] == ["CONV_2D", "DEPTHWISE_CONV_2D"]
    graph = d["subgraphs"][0]
    assert len(graph["tensors"]) == 89 and len(graph["operators"]) == 31
    op0 = graph["operators"][0]
    assert op0["builtin_options_type"] == "Conv2DOptions"
    # as in flatc's output, fields at their default value (padding SAME, dilation 1) are left out
    assert op0["builtin_options"] == {"fused_activation_function": "RELU6", "stride_h": 2,
                                      "stride_w": 2}
    assert v1.layers[0].padding == "SAME" and v1.layers[0].options["dilation_h_factor"] == 1
    pool = graph["operators"][27]["builtin_options"]
    assert pool["padding"] == "VALID" and pool["filter_width"] == 4
    t = graph["tensors"][graph["inputs"][0]]
    assert t["type"] == "UINT8" and t["quantization"]["zero_point"] == [128]
    assert sum(b.get("data_bytes", 0) for b in d["buffers"]) == sum(v1.buffer_bytes)
    assert [m["name"] for m in d["metadata"]] == ["min_runtime_version", "TFLITE_METADATA"]


def test_json_with_defaults_is_what_flatc_defaults_json_writes(v1):
    """The source ran ``flatc --json --defaults-json``: every field, defaults included,
    with the schema's field names (``dilation_h_factor``, not ``dilation_hfactor``)."""
    plain, full = v1.to_dict(), v1.to_dict(defaults=True)
    op0 = full["subgraphs"][0]["operators"][0]["builtin_options"]
    assert op0 == {"padding": "SAME", "stride_w": 2, "stride_h": 2,
                   "fused_activation_function": "RELU6", "dilation_w_factor": 1,
                   "dilation_h_factor": 1, "quantized_bias_type": "FLOAT32"}
    assert set(plain["subgraphs"][0]["operators"][0]["builtin_options"]) < set(op0)
    t_plain = plain["subgraphs"][0]["tensors"][0]["quantization"]
    t_full = full["subgraphs"][0]["tensors"][0]["quantization"]
    assert "quantized_dimension" not in t_plain and t_full["quantized_dimension"] == 0
    assert json.loads(v1.to_json(defaults=True)) == full


def test_json_with_data_holds_the_bytes(v1):
    d = v1.to_dict(include_data=True)
    w = v1.weights_of(0)
    assert d["buffers"][w.buffer]["data"] == v1.tensor_data(w.index).ravel().tolist()


def test_dot_text(v2):
    dot = v2.to_dot()
    assert dot.startswith('digraph "mobilenet_v2_1.0_224_quant.tflite" {') and dot.rstrip().endswith("}")
    assert len(re.findall(r"(?m)^  op\d+ \[label=", dot)) == 66
    # 65 op-to-op edges of the backbone + 10 skip edges + input + output edge
    assert dot.count("->") == 65 + 10 + 2
    part = v2.to_dot(range(6, 10))
    assert "op6 ->" in part and "op5" not in part.replace("tensor", "")


def test_draw_and_render_without_graphviz(v2, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    fig = v2.draw(range(2, 17))
    assert len(fig.axes[0].patches) >= 15
    monkeypatch.setattr(ins.shutil, "which", lambda name: None)
    used = v2.render(tmp_path / "g.png")
    assert used.startswith("matplotlib")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    v2.render(tmp_path / "g.svg")
    assert b"<svg" in (tmp_path / "g.svg").read_bytes()[:1000]
    with pytest.raises(ValueError, match="png"):
        v2.render(tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="no layers"):
        v2.draw([])


# --------------------------------------------------------------------------- bad input

def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.tflite"):
        ins.read(tmp_path / "nothing.tflite")
    with pytest.raises(ins.TFLiteFormatError, match="folder"):
        ins.read(tmp_path)


def test_not_a_tflite_file(tmp_path):
    bad = tmp_path / "labels.txt"
    bad.write_text("background\ntench\ngoldfish\n" * 10)
    with pytest.raises(ins.TFLiteFormatError, match="not a TFLite FlatBuffer"):
        ins.read(bad)
    with pytest.raises(ins.TFLiteFormatError, match="too short"):
        ins.read(b"TFL3")
    h5 = tmp_path / "w.h5"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(ins.TFLiteFormatError, match="HDF5"):
        ins.read(h5)


@pytest.mark.parametrize("name", ["mobilenet_v1_0.25_128_quant.tflite",
                                  "mobilenet_v2_1.0_224_quant.tflite"])
def test_every_truncation_is_detected(coral_paths, name):
    data = coral_paths[name].read_bytes()
    cuts = sorted(set(np.linspace(8, len(data) - 1, 60).astype(int).tolist()
                      + [len(data) - 1, len(data) - 100, 12, 100]))
    for cut in cuts:
        with pytest.raises(ins.TFLiteFormatError, match="truncated|corrupt|not a TFLite"):
            ins.read(data[:cut])


def test_corrupt_bytes_inside(coral_paths):
    data = bytearray(coral_paths["mobilenet_v1_0.25_128_quant.tflite"].read_bytes())
    data[0:4] = (len(data) + 10).to_bytes(4, "little")       # root table past the end
    with pytest.raises(ins.TFLiteFormatError, match="truncated or corrupt"):
        ins.read(bytes(data))


# --------------------------------------------------------------------------- CLI

def test_cli_table_json_dot_png(coral_paths, tmp_path, capsys, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from edgelab.run.cli import main

    path = str(coral_paths["mobilenet_v1_0.25_128_quant.tflite"])
    assert main(["inspect", path]) == 0
    out = capsys.readouterr().out
    assert "31 layers" in out and "DEPTHWISE_CONV_2D" in out and "BatchNorm folded" in out

    assert main(["inspect", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 3

    monkeypatch.setattr(ins.shutil, "which", lambda name: None)
    rc = main(["inspect", path, "--json", str(tmp_path / "m.json"), "--dot", str(tmp_path / "m.dot"),
               "--png", str(tmp_path / "m.png")])
    assert rc == 0
    assert json.loads((tmp_path / "m.json").read_text())["subgraphs"][0]["name"] == "main"
    assert (tmp_path / "m.dot").read_text().startswith("digraph")
    assert (tmp_path / "m.png").stat().st_size > 1000
    assert "matplotlib" in capsys.readouterr().out


def test_cli_bad_file(tmp_path, capsys):
    from edgelab.run.cli import main

    bad = tmp_path / "model.tflite"
    bad.write_bytes(b"not a model at all, just text")
    assert main(["inspect", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "model.tflite" in err and "not a TFLite FlatBuffer" in err
    assert main(["inspect", str(tmp_path / "missing.tflite")]) == 2
    assert "no such file" in capsys.readouterr().err
