"""What kind of model file is this? Recognised by its content, not its name.

People rename files, save downloads under the wrong suffix, and pass a folder where a file
was expected. ``edgelab convert`` (which wants ONNX) and ``edgelab inspect`` (which wants a
.tflite FlatBuffer) use :func:`identify` to say what they were given instead, and what to
do with it, in one line: "b1.onnx is a TFLite model (.tflite), not ONNX: ...".

The checks read the first bytes (magic numbers and FlatBuffer identifiers), look inside
zip archives for the members that name their format, and, for Protocol Buffers (which have
no magic number: an ONNX model and a TensorFlow SavedModel both start with byte 0x08),
parse the message with ``onnx`` when it is installed. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

TFLITE_IDENTIFIER = b"TFL3"


@dataclass(frozen=True)
class Kind:
    """A recognised file kind: ``key`` (stable, for code), ``name`` (for people), and what
    to do with such a file in edgelab (``use``)."""

    key: str
    name: str
    use: str = ""


TFLITE = Kind("tflite", "a TFLite model (.tflite FlatBuffer)",
              "it needs no conversion; read it with edgelab inspect {path}")
ONNX = Kind("onnx", "an ONNX model",
            "convert it with edgelab convert {path} model.tflite")
SAVED_MODEL_DIR = Kind("saved_model_dir", "a TensorFlow SavedModel folder",
                       "convert it with tf.lite.TFLiteConverter.from_saved_model "
                       "(edgelab.edge.convert in lesson 07)")
SAVED_MODEL_PB = Kind("saved_model_pb", "a TensorFlow SavedModel protobuf (saved_model.pb)",
                      "convert its folder with tf.lite.TFLiteConverter.from_saved_model "
                      "(edgelab.edge.convert in lesson 07)")
GRAPHDEF_PB = Kind("graphdef", "a TensorFlow GraphDef protobuf (frozen graph)",
                   "load it in TensorFlow and convert it with tf.lite.TFLiteConverter")
KERAS = Kind("keras", "a Keras model (.keras zip)",
             "load it with keras.saving.load_model and convert it with the TFLite converter "
             "(edgelab.edge.convert in lesson 07)")
HDF5 = Kind("hdf5", "an HDF5 file (a Keras .h5 model?)",
            "load it with Keras and convert it with the TFLite converter "
            "(edgelab.edge.convert in lesson 07)")
TORCH = Kind("torch", "a PyTorch checkpoint (torch.save zip)",
             "load the model in PyTorch and export it with torch.onnx.export first")
TORCHSCRIPT = Kind("torchscript", "a TorchScript archive (torch.jit.save)",
                   "load it with torch.jit.load and export it with torch.onnx.export first")
PICKLE = Kind("pickle", "a Python pickle (an old-style torch.save file?)",
              "load the model in PyTorch and export it with torch.onnx.export first")
SAFETENSORS = Kind("safetensors", "a safetensors weights file (weights only, no graph)",
                   "load the weights into their model in PyTorch and export it with "
                   "torch.onnx.export")
NUMPY = Kind("npy", "a NumPy array file (.npy)", "")
ZIP = Kind("zip", "a zip archive", "extract the model file from it")
GZIP = Kind("gzip", "a gzip-compressed file (.gz or .tar.gz)", "extract the model file from it")
TAR = Kind("tar", "a tar archive", "extract the model file from it")
IMAGE = Kind("image", "an image file", "")
TEXT = Kind("text", "a text file", "")
HTML = Kind("html", "an HTML page (a download that saved a web page instead of the file?)",
            "download the file itself (the 'raw' or 'download' link)")
LFS = Kind("lfs", "a Git LFS pointer (a small text file, not the model)",
           "fetch the real file with git lfs pull, or download it from the site")
EMPTY = Kind("empty", "empty (0 bytes)", "download or export it again")
FOLDER = Kind("folder", "a folder", "")
UNKNOWN = Kind("unknown", "not a model format edgelab knows", "")


def _zip_kind(path: Path) -> Kind:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return ZIP
    base = {n.rsplit("/", 1)[-1] for n in names}
    if "config.json" in base and any(n.endswith(".weights.h5") for n in base):
        return KERAS
    if "constants.pkl" in base or any("/code/" in n for n in names):
        return TORCHSCRIPT
    if "data.pkl" in base:
        return TORCH
    if any(n.endswith(".onnx") for n in names):
        return Kind("zip", "a zip archive with an .onnx file inside", "extract the .onnx file")
    if any(n.endswith(".tflite") for n in names):
        return Kind("zip", "a zip archive with a .tflite file inside",
                    "extract the .tflite file")
    return ZIP


def _protobuf_kind(data: bytes) -> Kind | None:
    """ONNX, SavedModel or GraphDef, told apart by parsing (no magic number exists)."""
    try:
        import onnx
        from google.protobuf.message import DecodeError
    except ImportError:   # pragma: no cover - onnx comes with edgelab's dependencies
        onnx = None
    if onnx is not None:
        try:
            model = onnx.load_model_from_string(data)
            if model.graph.node and model.opset_import:
                return ONNX
        except (DecodeError, ValueError, RuntimeError, TypeError):
            pass
    head = data[:4096]
    if b"tensorflow/serving" in data[:1 << 20] or b"serving_default" in data[:1 << 20] \
            or (head[:2] == b"\x08\x01" and b"\x12" in head[2:3]):
        return SAVED_MODEL_PB
    if head[:1] == b"\x0a" and (b"Placeholder" in data[:1 << 20] or b"Const" in head):
        return GRAPHDEF_PB
    return None


def identify(path: str | os.PathLike) -> Kind:
    """The kind of file (or folder) at ``path``, from its content. ``FileNotFoundError``
    when it does not exist."""
    path = Path(path)
    if path.is_dir():
        if (path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file():
            return SAVED_MODEL_DIR
        return FOLDER
    size = path.stat().st_size
    if size == 0:
        return EMPTY
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head[4:8] == TFLITE_IDENTIFIER:
        return TFLITE
    if head[:4] == b"PK\x03\x04" or head[:4] == b"PK\x05\x06":
        return _zip_kind(path)
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        return HDF5
    if head[:6] == b"\x93NUMPY":
        return NUMPY
    if head[:2] == b"\x1f\x8b":
        return GZIP
    if len(head) >= 8 and head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04",
                                                                b"\x05"):
        return PICKLE
    if head[:8] == b"\x89PNG\r\n\x1a\n" or head[:3] == b"\xff\xd8\xff" or head[:4] in (
            b"GIF8", b"RIFF") or head[:2] == b"BM":
        return IMAGE
    if size >= 8 and int.from_bytes(head[:8], "little") < size and head[8:9] == b"{":
        return SAFETENSORS
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return HTML
    if head.startswith(b"version https://git-lfs"):
        return LFS
    if size > 262 and _tar_magic(path):
        return TAR
    data = path.read_bytes() if size <= (512 << 20) else head
    kind = _protobuf_kind(data) if head[:1] in (b"\x08", b"\x0a", b"\x12", b"\x3a") else None
    if kind is not None:
        return kind
    if _looks_like_text(head):
        return TEXT
    return UNKNOWN


def _tar_magic(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(257)
        return handle.read(5) == b"ustar"


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in text)


def describe(path: str | os.PathLike, kind: Kind | None = None) -> str:
    """``"is a TFLite model (.tflite FlatBuffer): it needs no conversion; ..."``: what the
    file is, and what to do with it (``{path}`` in :attr:`Kind.use` becomes the path)."""
    kind = kind or identify(path)
    text = f"is {kind.name}"
    return f"{text}: {kind.use.format(path=path)}" if kind.use else text
