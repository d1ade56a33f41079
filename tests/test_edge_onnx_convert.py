"""``edgelab convert``: NCHW ONNX -> NHWC TFLite with onnx2tf, checked against onnxruntime.

The ONNX files are built here with ``onnx.helper`` (no PyTorch needed), small enough that a
conversion takes seconds. The tests are skipped where onnx2tf is not installed (it comes with
the ``torch`` extra: ``tools/install.sh --extras torch``).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
import importlib.util  # noqa: E402

if importlib.util.find_spec("onnx2tf") is None:   # found, not imported: see test_..._keras_3
    pytest.skip("onnx2tf is not installed (edgelab's torch extra)", allow_module_level=True)
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from edgelab.edge import inspect, onnx_convert  # noqa: E402
from edgelab.run import cli  # noqa: E402

S = 16   # image side


def _conv(name, x, cin, cout, rng, k=3, group=1, dilation=1, out=None):
    w = numpy_helper.from_array((rng.standard_normal((cout, cin // group, k, k)) * 0.3)
                                .astype(np.float32), f"{name}_w")
    b = numpy_helper.from_array((rng.standard_normal(cout) * 0.1).astype(np.float32), f"{name}_b")
    pad = dilation * (k // 2)
    node = helper.make_node("Conv", [x, w.name, b.name], [out or name], name=name,
                            kernel_shape=[k, k], pads=[pad] * 4, group=group,
                            dilations=[dilation, dilation])
    return node, [w, b]


def skip_model(batch="N", height=S, width=S, extra_nodes=(), opset=17):
    """Two outputs: a mask-like map (concat skips, bilinear resize, depthwise conv,
    HardSwish, a dilated conv, max-pool) and class scores after a flatten + dense."""
    rng = np.random.default_rng(0)
    nodes, inits = [], []

    def add(pair):
        nodes.append(pair[0])
        inits.extend(pair[1])

    add(_conv("c1", "image", 3, 8, rng))
    nodes.append(helper.make_node("HardSwish", ["c1"], ["a1"], name="hswish"))
    nodes.append(helper.make_node("MaxPool", ["a1"], ["p1"], name="pool", kernel_shape=[2, 2],
                                  strides=[2, 2]))
    add(_conv("dw", "p1", 8, 8, rng, group=8))                       # depthwise
    add(_conv("c2", "dw", 8, 8, rng, dilation=2))                      # dilated
    nodes.append(helper.make_node("Relu", ["c2"], ["r2"], name="relu2"))
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    inits.append(scales)
    nodes.append(helper.make_node("Resize", ["r2", "", "scales"], ["up"], name="resize",
                                  mode="linear", coordinate_transformation_mode="half_pixel"))
    nodes.append(helper.make_node("Concat", ["up", "a1"], ["cat"], name="concat", axis=1))
    add(_conv("c3", "cat", 16, 4, rng, k=1))
    nodes.append(helper.make_node("Sigmoid", ["c3"], ["mask"], name="sigmoid"))
    nodes.append(helper.make_node("Flatten", ["r2"], ["flat"], name="flatten", axis=1))
    w = numpy_helper.from_array((rng.standard_normal((5, 8 * (S // 2) ** 2)) * 0.05)
                                .astype(np.float32), "fc_w")
    b = numpy_helper.from_array(np.zeros(5, np.float32), "fc_b")
    inits += [w, b]
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc",
                                  transB=1))
    nodes.extend(extra_nodes)
    graph = helper.make_graph(
        nodes, "skips",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 3, height, width])],
        [helper.make_tensor_value_info("mask", TensorProto.FLOAT, [batch, 4, S, S]),
         helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 5])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


@pytest.fixture(scope="module")
def skip_onnx(tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "skips.onnx"
    onnx.save(skip_model(), path)
    return path


@pytest.fixture(scope="module")
def converted(skip_onnx, tmp_path_factory):
    out = tmp_path_factory.mktemp("tflite") / "skips.tflite"
    before = skip_onnx.read_bytes()
    result = onnx_convert.convert(skip_onnx, out)
    assert skip_onnx.read_bytes() == before, "the input ONNX file was modified"
    return onnx_convert.check(result, skip_onnx)


def test_multi_output_model_converts_to_nhwc_and_matches_onnxruntime(converted):
    assert converted.ok
    assert set(converted.max_abs_diff) == {"mask", "logits"}
    assert max(converted.max_abs_diff.values()) < 1e-4
    assert converted.transposes <= 2
    assert converted.layouts["inputs"] == [f"image [1, {S}, {S}, 3] float32 NHWC"]
    ops = inspect.read(converted.path).ops_histogram()
    for op in ("CONCATENATION", "RESIZE_BILINEAR", "DEPTHWISE_CONV_2D", "HARD_SWISH"):
        assert op in ops, (op, ops)


def test_converting_leaves_this_process_on_keras_3(converted):
    # onnx2tf sets TF_USE_LEGACY_KERAS=1 when imported, which turns tf.keras into tf_keras for
    # the whole process (it broke later Keras 3 tests once); edgelab runs it in a child.
    import sys

    import tensorflow as tf

    assert "onnx2tf" not in sys.modules
    assert os.environ.get("TF_USE_LEGACY_KERAS") != "1"
    assert not tf.keras.layers.Layer.__module__.startswith("tf_keras")


def test_outputs_come_back_nchw_by_onnx_name(converted, skip_onnx):
    model = onnx_convert.load(skip_onnx)
    runner = onnx_convert.TFLiteModel(converted.path, onnx_convert.graph_inputs(model),
                                      onnx_convert.graph_outputs(model))
    x = np.random.default_rng(1).random((2, 3, S, S), dtype=np.float32)
    got = runner.run(x)
    ref = onnx_convert.onnx_outputs(skip_onnx, x)
    assert got["mask"].shape == (2, 4, S, S) and got["logits"].shape == (2, 5)
    assert np.abs(got["mask"] - ref["mask"]).max() < 1e-4
    # a wrong input layout (NHWC data read as NCHW) must not pass the same check
    wrong = x.transpose(0, 1, 3, 2).copy()
    assert np.abs(runner.run(wrong)["logits"] - ref["logits"]).max() > 1e-3


def test_int8_with_calibration_writes_integer_io(skip_onnx, tmp_path):
    calib = np.random.default_rng(2).random((24, 3, S, S), dtype=np.float32)
    out = tmp_path / "q.tflite"
    result = onnx_convert.check(onnx_convert.convert(skip_onnx, out, int8=True,
                                                     calibration=calib), skip_onnx, calib[:8])
    io_types = inspect.read(out).io_details()
    assert io_types["inputs"][0]["dtype"] == "INT8"
    assert all(o["dtype"] == "INT8" for o in io_types["outputs"])
    assert result.ok, result.report()
    assert max(result.max_abs_diff.values()) > 0     # it really is quantized


def test_cli_converts_and_reports(skip_onnx, tmp_path, capsys):
    out = tmp_path / "cli.tflite"
    assert cli.main(["convert", str(skip_onnx), str(out)]) == 0
    text = capsys.readouterr().out
    assert "TRANSPOSE" in text and "NHWC" in text and "max |tflite - onnxruntime|" in text
    # refuses to overwrite without --force, then overwrites with it
    assert cli.main(["convert", str(skip_onnx), str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert cli.main(["convert", str(skip_onnx), str(out), "--force"]) == 0


def test_cli_exits_non_zero_above_the_tolerance(skip_onnx, tmp_path, capsys):
    out = tmp_path / "strict.tflite"
    assert cli.main(["convert", str(skip_onnx), str(out), "--tolerance", "0"]) in (0, 3)
    # an impossible tolerance: negative differences do not exist
    assert cli.main(["convert", str(skip_onnx), str(out), "--force", "--tolerance", "-1"]) == 3
    assert "tolerance" in capsys.readouterr().err


def _one_line_error(capsys, argv, *needles):
    assert cli.main(["convert", *argv]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def test_bad_inputs_get_one_clear_line(skip_onnx, tmp_path, capsys):
    out = str(tmp_path / "x.tflite")
    text = tmp_path / "notes.onnx"
    text.write_text("this is not a model\n")
    _one_line_error(capsys, [str(text), out], "notes.onnx", "ONNX")
    truncated = tmp_path / "cut.onnx"
    truncated.write_bytes(skip_onnx.read_bytes()[:2000])
    _one_line_error(capsys, [str(truncated), out], "cut.onnx")
    _one_line_error(capsys, [str(tmp_path / "missing.onnx"), out], "missing.onnx", "no such")
    _one_line_error(capsys, [str(skip_onnx), str(tmp_path / "nofolder" / "x.tflite")],
                    "nofolder", "does not exist")
    assert not (tmp_path / "x.tflite").exists()
    assert not list(tmp_path.glob(".*part*")), "a half-written file was left behind"


def test_dynamic_spatial_size_names_the_input_and_the_fix(tmp_path, capsys):
    path = tmp_path / "dyn.onnx"
    onnx.save(skip_model(height="H", width="W"), path)
    err = _one_line_error(capsys, [str(path), str(tmp_path / "d.tflite")],
                          "'image'", "--input-shape image:1,3,")
    assert "[N, 3, H, W]" in err
    # a dynamic batch alone is fixed to 1 without being asked
    assert onnx_convert.fixed_shapes(skip_model()) == {"image": (1, 3, S, S)}
    assert onnx_convert.fixed_shapes(skip_model(height="H", width="W"),
                                     {"image": (1, 3, S, S)}) == {"image": (1, 3, S, S)}


def test_dynamic_spatial_size_converts_once_given(tmp_path, capsys):
    path = tmp_path / "dyn.onnx"
    onnx.save(skip_model(height="H", width="W"), path)
    out = tmp_path / "d.tflite"
    assert cli.main(["convert", str(path), str(out), "--input-shape", f"image:1,3,{S},{S}"]) == 0
    assert f"image [1, {S}, {S}, 3] float32 NHWC" in capsys.readouterr().out


def test_an_unsupported_op_is_named(tmp_path, capsys):
    custom = helper.make_node("Warp", ["mask"], ["warped"], name="my_warp", domain="org.example")
    model = skip_model(extra_nodes=[custom])
    model.opset_import.append(helper.make_opsetid("org.example", 1))
    path = tmp_path / "custom.onnx"
    onnx.save(model, path)
    _one_line_error(capsys, [str(path), str(tmp_path / "c.tflite")], "org.example.Warp",
                    "my_warp", "not supported")


def test_parse_shapes_rejects_malformed_specs():
    assert onnx_convert.parse_shapes(["x:1,3,8,8"]) == {"x": (1, 3, 8, 8)}
    for bad in ("x", "x:", "x:1,a", ":1,3", "x:0,3,8,8"):
        with pytest.raises(onnx_convert.ConvertError):
            onnx_convert.parse_shapes([bad])


def test_int8_without_calibration_is_refused(skip_onnx, tmp_path):
    with pytest.raises(onnx_convert.ConvertError, match="--calibration"):
        onnx_convert.convert(skip_onnx, tmp_path / "q.tflite", int8=True)
