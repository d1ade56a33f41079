"""Model files recognised by their content, whatever their name (issue 28): ``edgelab
convert`` given a .tflite renamed .onnx, ``edgelab inspect`` given an ONNX file renamed
.tflite, a SavedModel, a PyTorch checkpoint, a web page or random bytes says what the file
is and what to do with it, in one line, and writes nothing.

Every file here is made by the test: ONNX with ``onnx.helper``, .tflite and SavedModel with
TensorFlow, the others with the standard library.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from edgelab.edge import formats  # noqa: E402
from edgelab.run import cli  # noqa: E402


def tiny_onnx():
    w = numpy_helper.from_array(np.ones((2, 3, 1, 1), np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[1, 1])
    graph = helper.make_graph(
        [node], "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 4, 4])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """name -> path of one file (or folder) of each kind, under misleading names."""
    import tensorflow as tf

    folder = tmp_path_factory.mktemp("kinds")
    out = {}
    onnx_bytes = tiny_onnx().SerializeToString()

    class Doubler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
        def __call__(self, x):
            return 2.0 * x

    module = Doubler()
    saved = folder / "saved_model_dir"
    tf.saved_model.save(module, str(saved))
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [module.__call__.get_concrete_function()], module)
    tflite_bytes = converter.convert()

    def put(name, data):
        (folder / name).write_bytes(data)
        out[name] = folder / name

    put("model_is_tflite.onnx", tflite_bytes)
    put("model_is_onnx.tflite", onnx_bytes)
    put("model.onnx", onnx_bytes)
    put("saved_model.pb", (saved / "saved_model.pb").read_bytes())
    out["saved_model_dir"] = saved
    put("random.onnx", np.random.default_rng(0).integers(0, 256, 4096, np.uint8).tobytes())
    put("random.tflite", np.random.default_rng(1).integers(0, 256, 4096, np.uint8).tobytes())
    put("empty.onnx", b"")
    put("page.onnx", b"<!DOCTYPE html>\n<html><body>Sign in to download</body></html>\n")
    put("pointer.tflite", b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\n")
    put("notes.onnx", b"the model is on the shared drive\n")
    put("weights.h5.onnx", b"\x89HDF\r\n\x1a\n" + bytes(64))
    checkpoint = folder / "checkpoint.onnx"           # what torch.save writes: a zip
    with zipfile.ZipFile(checkpoint, "w") as z:
        z.writestr("checkpoint/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("checkpoint/version", b"3\n")
    out["checkpoint.onnx"] = checkpoint
    return out


@pytest.mark.parametrize("name, key", [
    ("model_is_tflite.onnx", "tflite"), ("model_is_onnx.tflite", "onnx"),
    ("model.onnx", "onnx"), ("saved_model.pb", "saved_model_pb"),
    ("saved_model_dir", "saved_model_dir"), ("random.onnx", "unknown"),
    ("empty.onnx", "empty"), ("page.onnx", "html"), ("pointer.tflite", "lfs"),
    ("notes.onnx", "text"), ("weights.h5.onnx", "hdf5"), ("checkpoint.onnx", "torch")])
def test_identify_reads_the_content_not_the_name(files, name, key):
    assert formats.identify(files[name]).key == key


def _one_line(capsys, argv, code=2):
    assert cli.main(argv) == code
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("name, words", [
    ("model_is_tflite.onnx", ("is a TFLite model", "edgelab inspect")),
    ("saved_model_dir", ("SavedModel folder", "from_saved_model")),
    ("saved_model.pb", ("SavedModel protobuf",)),
    ("random.onnx", ("not an ONNX model", "torch.onnx.export")),
    ("empty.onnx", ("empty",)),
    ("page.onnx", ("HTML page",)),
    ("notes.onnx", ("text file",)),
    ("weights.h5.onnx", ("HDF5",)),
    ("checkpoint.onnx", ("PyTorch checkpoint", "torch.onnx.export"))])
def test_convert_says_what_the_file_is(files, name, words, capsys, tmp_path):
    out = tmp_path / "out.tflite"
    err = _one_line(capsys, ["convert", str(files[name]), str(out)])
    assert files[name].name in err
    for word in words:
        assert word in err, (word, err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, words", [
    ("model_is_onnx.tflite", ("is an ONNX model", "edgelab convert")),
    ("saved_model_dir", ("SavedModel folder",)),
    ("saved_model.pb", ("SavedModel protobuf",)),
    ("random.tflite", ("not a TFLite FlatBuffer",)),
    ("pointer.tflite", ("Git LFS pointer", "git lfs pull")),
    ("checkpoint.onnx", ("PyTorch checkpoint",))])
def test_inspect_says_what_the_file_is(files, name, words, capsys):
    err = _one_line(capsys, ["inspect", str(files[name])])
    for word in words:
        assert word in err, (word, err)


def test_a_renamed_onnx_file_still_converts_by_its_content(files):
    # what is recognised by its content is also accepted by it: the suffix is not checked
    from edgelab.edge import onnx_convert

    model = onnx_convert.load(files["model_is_onnx.tflite"])
    assert [p.name for p in onnx_convert.graph_inputs(model)] == ["x"]
