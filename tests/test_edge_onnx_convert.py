"""``edgelab convert``: NCHW ONNX -> NHWC TFLite with onnx2tf, checked against onnxruntime.

The ONNX files are built here with ``onnx.helper`` (no PyTorch needed), small enough that a
conversion takes seconds. The tests are skipped where onnx2tf is not installed (it comes with
the ``torch`` extra: ``tools/install.sh --extras torch``).
"""

from __future__ import annotations

import os
from pathlib import Path

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


# ----------------------------------------------------------------------------- issue 28:
# models from other exporters, fixed batches, converter failures, the int8 verdict

def _cli_run(argv) -> tuple[int, str, str]:
    """``edgelab ARGV`` in this process: (exit status, stdout, stderr)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def batch1_conv():
    """A single Conv with the static input [1, 3, 32, 32] torch.onnx.export writes by default."""
    rng = np.random.default_rng(3)
    node, inits = _conv("conv", "x", 3, 4, rng, out="y")
    graph = helper.make_graph(
        [node], "b1", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 32, 32])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def paddle_like():
    """What PaddlePaddle's exporter writes for an OCR backbone: node names with "@", tensor
    names with dots, a dynamic batch named "p2o.DynamicDimension.0", scalars given as
    Constant(value_float) and added together (a constant subgraph), and two blocks of
    (3x3 conv + 1x1 conv) -> Add -> HardSwish -> Mul by a [1] scale -> Add of a [1] bias."""
    rng = np.random.default_rng(4)
    nodes, inits = [], []

    def conv(name, x, cin, cout, k):
        w = numpy_helper.from_array((rng.standard_normal((cout, cin, k, k)) * 0.3)
                                    .astype(np.float32), f"{name}.w_0")
        b = numpy_helper.from_array((rng.standard_normal(cout) * 0.1).astype(np.float32),
                                    f"{name}.b_0")
        inits.extend([w, b])
        out = f"{name}.tmp_0"
        nodes.append(helper.make_node("Conv", [x, w.name, b.name], [out], name=f"Conv@{name}",
                                      kernel_shape=[k, k], pads=[k // 2] * 4))
        return out

    h = conv("conv2d_0", "x", 3, 8, 3)
    for b in range(2):
        s = f"add_{b}.tmp_0"
        nodes.append(helper.make_node("Add", [conv(f"conv2d_{b}a", h, 8, 8, 3),
                                              conv(f"conv2d_{b}b", h, 8, 8, 1)], [s],
                                      name=f"Add@{b}"))
        inits += [numpy_helper.from_array(np.array([0.9], np.float32), f"lab_{b}.scale"),
                  numpy_helper.from_array(np.array([0.05], np.float32), f"lab_{b}.bias")]
        nodes += [helper.make_node("HardSwish", [s], [f"hswish_{b}.tmp_0"], name=f"HardSwish@{b}"),
                  helper.make_node("Mul", [f"hswish_{b}.tmp_0", f"lab_{b}.scale"],
                                   [f"lab_{b}.tmp_0"], name=f"Mul@lab{b}"),
                  helper.make_node("Add", [f"lab_{b}.tmp_0", f"lab_{b}.bias"],
                                   [f"lab_{b}.tmp_1"], name=f"Add@lab{b}")]
        h = f"lab_{b}.tmp_1"
    nodes += [helper.make_node("Constant", [], ["one"], name="Constant@0", value_float=1.0),
              helper.make_node("Constant", [], ["two"], name="Constant@1", value_float=2.0),
              helper.make_node("Add", ["one", "two"], ["three"], name="Add@const"),
              helper.make_node("Mul", [h, "three"], ["scaled.tmp_0"], name="Mul@scale")]
    logits = conv("conv2d_last", "scaled.tmp_0", 8, 4, 1)
    nodes.append(helper.make_node("Softmax", [logits], ["softmax_0.tmp_0"], name="Softmax@0",
                                  axis=1))
    dyn = "p2o.DynamicDimension.0"
    graph = helper.make_graph(
        nodes, "paddle_like",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [dyn, 3, S, S])],
        [helper.make_tensor_value_info("softmax_0.tmp_0", TensorProto.FLOAT, [dyn, 4, S, S])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    return model


def test_a_static_batch_of_one_is_checked_one_input_at_a_time(tmp_path):
    path = tmp_path / "b1.onnx"
    onnx.save(batch1_conv(), path)
    code, out, err = _cli_run(["convert", path, tmp_path / "b1.tflite"])
    assert code == 0, err
    assert "Traceback" not in err and err == ""
    assert "one at a time (the model's batch size is fixed to 1)" in out
    assert "4 random inputs" in out and "x [1, 32, 32, 3] float32 NHWC" in out
    assert "y: max |tflite - onnxruntime|" in out and out.rstrip().endswith("ok")


@pytest.fixture(scope="module")
def paddle_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("paddle")
    path = folder / "det.onnx"
    onnx.save(paddle_like(), path)
    before = path.read_bytes()
    code, out, err = _cli_run(["convert", path, folder / "det.tflite"])
    assert path.read_bytes() == before, "the input ONNX file was modified"
    return folder, code, out, err


def test_a_paddle_export_converts_after_the_clean_up(paddle_run):
    folder, code, out, err = paddle_run
    assert code == 0, out + err
    assert "renamed 16 node(s) whose names TensorFlow rejects (e.g. 'Conv@conv2d_0' -> " \
        "'Conv_conv2d_0')" in out
    assert "folded 1 node(s) that compute constants (Add)" in out
    assert "softmax_0.tmp_0: max |tflite - onnxruntime|" in out and "ok" in out
    info = inspect.read(folder / "det.tflite")
    assert info.ops_histogram().get("HARD_SWISH") == 2


def test_transpose_pairs_around_hardswish_blocks_are_removed(paddle_run):
    folder, code, out, err = paddle_run
    # onnx2tf computes the conv + conv sum of a square map in NCHW; the TFLite converter
    # cannot push the transposes through HardSwish: one pair around each block, removed
    assert "removed 4 TRANSPOSE ops: 2 pair(s) that cancelled around HARD_SWISH -> MUL -> " \
        "ADD" in out, out
    info = inspect.read(folder / "det.tflite")
    assert info.transpose_pairs() == []
    assert f"{info.ops_histogram().get('TRANSPOSE', 0)} TRANSPOSE" in out.splitlines()[0]


def test_when_onnx2tf_fails_the_message_names_the_node_and_keeps_the_log(tmp_path):
    path = tmp_path / "det.onnx"
    onnx.save(paddle_like(), path)
    out = tmp_path / "det.tflite"
    code, stdout, err = _cli_run(["convert", path, out, "--no-clean"])
    assert code == onnx_convert.EXIT_CONVERTER_FAILED, stdout + err
    line = err.strip()
    assert line.count("\n") == 0 and "Traceback" not in line
    assert line.startswith(f"edgelab convert: {path}: onnx2tf could not convert it at ")
    assert "model.onnx" not in line                      # not the temporary copy's name
    log = onnx_convert.log_path(out)
    assert log.is_file() and log.name in line and "Traceback" in log.read_text()
    assert not out.exists()
    failure = onnx_convert.failure_from_log(log.read_text(), paddle_like())
    assert failure.node and failure.op and failure.reason


def test_the_failing_node_is_read_from_onnx2tf_log():
    log = "\n".join([
        "INFO: onnx_op_type: Conv onnx_op_name: Conv_0",
        "INFO: onnx_op_type: Add onnx_op_name: Add_lab0",
        "ERROR: The trace log is below.",
        "Traceback (most recent call last):",
        '  File "/x/onnx2tf/ops/Add.py", line 3, in make_node',
        "ValueError: Dimensions must be equal, but are 16 and 8.",
        "ERROR: onnx_op_name: Add_lab0",
        "ERROR: Read this and deal with it. https://github.com/PINTO0309/onnx2tf"])
    cleanup = onnx_convert.Cleanup(renamed={"Add_lab0": "Add@lab0"})
    failure = onnx_convert.failure_from_log(log, None, cleanup)
    assert failure == onnx_convert.Failure("Add@lab0", "Add",
                                           "ValueError: Dimensions must be equal, but are 16 "
                                           "and 8")
    assert failure.text().startswith("at node 'Add@lab0' (Add): ValueError")


def test_the_clean_copy_computes_what_the_original_does(tmp_path):
    model = paddle_like()
    cleaned, report = onnx_convert.clean(model, {"x": (1, 3, S, S)})
    assert all(onnx_convert._TF_NAME.fullmatch(n.name) for n in cleaned.graph.node)
    assert not [n for n in cleaned.graph.node if n.op_type == "Constant"]
    assert report.folded == {"Add": 1} and len(report.renamed) == 16   # all nodes left
    assert model.graph.node[0].name == "Conv@conv2d_0"          # the original is untouched
    onnx.save(model, tmp_path / "a.onnx")
    onnx.save(cleaned, tmp_path / "b.onnx")
    x = np.random.default_rng(5).random((1, 3, S, S), dtype=np.float32)
    a = onnx_convert.onnx_outputs(tmp_path / "a.onnx", x)["softmax_0.tmp_0"]
    b = onnx_convert.onnx_outputs(tmp_path / "b.onnx", x)["softmax_0.tmp_0"]
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # a PyTorch export's names ("/enc1/Conv") are left as they are
    torch_like = skip_model()
    torch_like.graph.node[0].name = "/enc1/enc1.0/Conv"
    _, report = onnx_convert.clean(torch_like, {"image": (1, 3, S, S)})
    assert report.renamed == {}


def test_a_fixed_batch_is_fed_a_batch_at_a_time(tmp_path):
    path = tmp_path / "b1.onnx"
    onnx.save(batch1_conv(), path)
    x = np.random.default_rng(6).random((3, 3, 32, 32), dtype=np.float32)
    out = onnx_convert.onnx_outputs(path, x)["y"]
    one = np.concatenate([onnx_convert.onnx_outputs(path, x[i:i + 1])["y"] for i in range(3)])
    assert out.shape == (3, 4, 32, 32)
    np.testing.assert_array_equal(out, one)


# The int8 verdict: one model, three outputs a user reads differently.
def verdict_model():
    """``logits`` [N, 3]: the sign of (channel 1 - channel 2) of the image decides between
    classes 0 and 1, while channel 0, scaled by 1000 in the same activation tensor, takes all
    its int8 range (so int8 flips classes), and a third logit near -50 makes the output's
    range wide. ``probs`` [N, 2]: a softmax that stays near 0.5. ``heat`` [N, 1, 8, 8]: an
    almost empty probability map."""
    nodes, inits = [], []

    def init(name, value):
        inits.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
        return name

    w = np.zeros((2, 3, 1, 1), np.float32)
    w[0, 0], w[1, 1], w[1, 2] = 1000, 1, -1
    nodes += [
        helper.make_node("Conv", ["image", init("w", w), init("b", [0, 0])], ["h"],
                         name="mix", kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["h"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flat", axis=1),
        helper.make_node("Gemm", ["f", init("W", [[0, 10], [0, -10], [0.001, 0]]),
                                  init("B", [0, 0, -50])], ["logits"], name="fc", transB=1),
        helper.make_node("Gemm", ["f", init("W2", [[0, 0.01], [0, -0.01]]), init("B2", [0, 0])],
                         ["z"], name="fc2", transB=1),
        helper.make_node("Softmax", ["z"], ["probs"], name="softmax", axis=1),
        helper.make_node("Conv", ["image", init("wm", np.full((1, 3, 1, 1), 0.1)),
                                  init("bm", [-8.0])], ["mz"], name="heat_conv",
                         kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["mz"], ["heat"], name="sigmoid")]
    graph = helper.make_graph(
        nodes, "verdicts", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                          ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3]),
         helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 2]),
         helper.make_tensor_value_info("heat", TensorProto.FLOAT, ["N", 1, 8, 8])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_the_int8_verdict_follows_what_each_output_is_for(tmp_path):
    path = tmp_path / "verdicts.onnx"
    onnx.save(verdict_model(), path)
    images = np.random.default_rng(0).random((32, 3, 8, 8), dtype=np.float32)
    result = onnx_convert.convert(path, tmp_path / "q.tflite", int8=True, calibration=images)
    onnx_convert.check(result, path, images[:16])
    assert result.rules == {"logits": "classes", "probs": "values", "heat": "values"}
    assert result.verdicts == {"logits": False, "probs": True, "heat": True}, result.report()
    agree, judged, total = result.top1["logits"]
    assert total == 16 and judged >= 4 and agree < total
    report = result.report()
    assert "TOO MANY CLASS FLIPS" in report and "rule: top-1 agreement >= 90%" in report
    assert "none with a clear winner, so judged by its values" in report     # probs
    assert "rule: mean <= 4 steps" in report
    # the former rule (max diff <= 0.1 x the reference's range) got all three wrong
    ref = onnx_convert.onnx_outputs(path, images[:16])
    former = {k: result.max_abs_diff[k] <= onnx_convert.INT8_TOLERANCE * np.ptp(v)
              for k, v in ref.items()}
    assert former == {"logits": True, "probs": False, "heat": False}
    # a user who knows better says which rule an output needs
    onnx_convert.check(result, path, images[:16], output_kinds={"logits": "values"})
    assert result.rules["logits"] == "values"


def test_the_rule_for_outputs_without_a_clear_winner_and_the_override():
    result = onnx_convert.Result(Path("x.tflite"), True, {"image": (1, 3, 8, 8)})
    ref = np.full((4, 2), 0.5, np.float32)
    onnx_convert._judge("p", ref + 0.002, ref, int8=True, kind="classes", step=1 / 256,
                        tolerance=None, result=result)
    assert result.rules["p"] == "values" and result.verdicts["p"]
    onnx_convert._judge("p", ref + 0.002, ref, int8=True, kind="classes", step=1 / 256,
                        tolerance=0.001, result=result)
    assert result.rules["p"] == "max" and not result.verdicts["p"]
    assert onnx_convert.output_kind(onnx_convert.Port("boxes", (1, 4))) == "values"
    assert onnx_convert.output_kind(onnx_convert.Port("logits", (None, 17))) == "classes"


def test_exit_statuses_are_documented_and_an_unforeseen_error_is_one_line(
        tmp_path, monkeypatch):
    help_text = cli.subparsers(cli.build_parser())["convert"].format_help()
    for status in (0, 1, 2, 3, 4):
        assert f"\n  {status}  " in help_text, status
    path = tmp_path / "b1.onnx"
    onnx.save(batch1_conv(), path)

    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(onnx_convert, "convert", broken)
    code, out, err = _cli_run(["convert", path, tmp_path / "b1.tflite"])
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "KeyError" in err and "bug in edgelab" in err


def test_bad_arguments_of_the_new_options(tmp_path, capsys):
    path = tmp_path / "b1.onnx"
    onnx.save(batch1_conv(), path)
    _one_line_error(capsys, [str(path), str(tmp_path / "o.tflite"), "--output-kind", "y:boxes"],
                    "--output-kind", "NAME:classes")
    nan = tmp_path / "nan.npy"
    np.save(nan, np.full((4, 3, 32, 32), np.nan, np.float32))
    _one_line_error(capsys, [str(path), str(tmp_path / "o.tflite"), "--inputs", str(nan)],
                    "nan.npy", "NaN")
    assert not (tmp_path / "o.tflite").exists()
