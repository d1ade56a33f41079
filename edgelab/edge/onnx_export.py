"""Keras 3 -> ONNX with tf2onnx, run with onnxruntime, compared with TensorFlow.

ONNX is the exchange format of the other runtimes (onnxruntime on servers and phones,
TensorRT, OpenVINO, most NPU toolchains). ``tf2onnx.convert.from_keras`` works with
Keras 3 models on this stack; where it does not (older tf2onnx, unusual layers), tracing
the model into a ``tf.function`` and using ``tf2onnx.convert.from_function`` is the
fallback, and :func:`to_onnx` tries both and says which one it used.

The exported graph keeps TensorFlow's NHWC layout at its input: an image batch is
``[N, H, W, C]``. Models converted from PyTorch are NCHW instead (see notebook 07).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edgelab.edge.convert import native_output_silenced

DEFAULT_OPSET = 17


def _input_signature(model, input_name: str):
    import tensorflow as tf

    shape = model.input_shape
    if isinstance(shape, list):
        raise ValueError(f"model {model.name!r} has {len(shape)} inputs; to_onnx handles one")
    return [tf.TensorSpec([None, *shape[1:]], tf.float32, name=input_name)]


def to_onnx(model, path: str | os.PathLike, *, opset: int = DEFAULT_OPSET,
            input_name: str = "image", quiet: bool = True) -> tuple[Path, str]:
    """Write ``model`` as an ONNX file (atomically). Returns ``(path, route)`` where route
    is ``"from_keras"`` or ``"from_function"`` (the fallback)."""
    import tensorflow as tf
    import tf2onnx

    from edgelab.core.atomic import atomic_path

    signature = _input_signature(model, input_name)
    errors = []
    proto, route = None, ""
    with native_output_silenced(quiet):
        try:
            proto, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=opset)
            route = "from_keras"
        except Exception as err:  # noqa: BLE001 - any failure here means: try the fallback
            errors.append(f"from_keras: {type(err).__name__}: {err}")
        if proto is None:
            fn = tf.function(lambda x: model(x, training=False), input_signature=signature)
            try:
                proto, _ = tf2onnx.convert.from_function(fn, input_signature=signature, opset=opset)
                route = "from_function"
            except Exception as err:  # noqa: BLE001
                errors.append(f"from_function: {type(err).__name__}: {err}")
    if proto is None:
        raise RuntimeError("tf2onnx could not convert the model:\n" + "\n".join(errors))
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(proto.SerializeToString())
    return path, route


def session(path: str | os.PathLike, num_threads: int | None = None):
    """An onnxruntime CPU session for an .onnx file."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such .onnx file.")
    options = ort.SessionOptions()
    if num_threads:
        options.intra_op_num_threads = num_threads
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def run(sess, images: np.ndarray) -> np.ndarray:
    """Outputs of the first output of a session for a float32 batch."""
    name = sess.get_inputs()[0].name
    return sess.run(None, {name: np.asarray(images, np.float32)})[0]


def max_abs_difference(model, onnx_path: str | os.PathLike, images: np.ndarray) -> float:
    """The largest absolute difference between TensorFlow's and onnxruntime's outputs."""
    reference = np.asarray(model(np.asarray(images, np.float32), training=False))
    return float(np.max(np.abs(run(session(onnx_path), images) - reference)))
