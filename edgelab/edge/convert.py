"""Keras 3 model or SavedModel -> TFLite, in the four variants a deployment chooses from.

=================  =========================================  ===========================
variant            what is stored / computed                  needs
=================  =========================================  ===========================
``float32``        weights and activations float32            nothing
``dynamic_range``  weights int8 (per channel), activations    nothing
                   float; quantized on the fly inside ops
``float16``        weights float16, dequantized to float32    nothing
                   at load (GPU delegates can run in fp16)
``int8``           weights int8 per channel, activations int8 a representative dataset
                   per tensor, int8 input and output          (calibration images)
=================  =========================================  ===========================

The robust path with Keras 3 is: ``model.export(dir)`` (a SavedModel with a
``serving_default`` signature), then ``tf.lite.TFLiteConverter.from_saved_model(dir)``;
``from_keras_model`` has known breakages with Keras 3. :class:`Converter` does that, and
accepts a SavedModel folder (for instance a tf_keras model saved by notebook 05) or a
``.keras`` file as well.

The converter's C++ side prints lines such as ``fully_quantize: 0, ...`` straight to the
process's standard output; with ``quiet=True`` (the default) they are sent to /dev/null so
notebook cells stay readable. Python exceptions still surface.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from edgelab.core.atomic import replace_dir
from edgelab.core.quiet import native_silenced

VARIANTS = ("float32", "dynamic_range", "float16", "int8")
DESCRIPTIONS = {
    "float32": "no quantization: float32 weights and activations (the baseline)",
    "dynamic_range": "int8 weights, float activations; ops quantize activations on the fly",
    "float16": "float16 weights (half the bytes), computed in float32 on a CPU",
    "int8": "full integer: int8 weights (per channel) and activations (per tensor), "
            "int8 input/output; calibrated on a representative dataset",
}
DEFAULT_SIGNATURE = "serving_default"


@contextlib.contextmanager
def native_output_silenced(enabled: bool = True) -> Iterator[None]:
    """File descriptors 1 and 2 to /dev/null for the duration (the C++ prints of the
    converter and interpreter); Python-level ``print`` is redirected as well."""
    with native_silenced(enabled=enabled), open(os.devnull, "w") as sink, \
            contextlib.redirect_stdout(sink):
        yield


def export_saved_model(model, directory: str | os.PathLike) -> Path:
    """Export a Keras 3 model as a SavedModel (``serving_default`` signature) into
    ``directory``, atomically: a reader sees the old folder or the whole new one."""
    if not hasattr(model, "export"):
        raise TypeError(f"export_saved_model needs a Keras 3 model, got {type(model).__name__}")
    dest = Path(directory)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    try:
        target = tmp / "model"
        model.export(str(target), format="tf_saved_model", verbose=False)
        replace_dir(target, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def is_saved_model(path: str | os.PathLike) -> bool:
    p = Path(path)
    return p.is_dir() and ((p / "saved_model.pb").exists() or (p / "saved_model.pbtxt").exists())


def saved_model_input(directory: str | os.PathLike, signature_key: str = DEFAULT_SIGNATURE):
    """``(name, shape, dtype)`` of the single input of a SavedModel signature."""
    import tensorflow as tf

    if not is_saved_model(directory):
        raise FileNotFoundError(f"{directory}: not a SavedModel folder (no saved_model.pb).")
    loaded = tf.saved_model.load(str(directory))
    if signature_key not in loaded.signatures:
        raise KeyError(f"{directory}: no signature {signature_key!r}; it has "
                       f"{', '.join(loaded.signatures) or 'none'}.")
    _, kwargs = loaded.signatures[signature_key].structured_input_signature
    if len(kwargs) != 1:
        raise ValueError(f"{directory}: signature {signature_key!r} has {len(kwargs)} inputs; "
                         "this converter handles single-input models.")
    name, spec = next(iter(kwargs.items()))
    return name, tuple(spec.shape.as_list()), spec.dtype.name


def representative_dataset(images: np.ndarray) -> Callable[[], Iterator[list[np.ndarray]]]:
    """The generator factory the converter calibrates with: one float32 image per step."""
    images = np.asarray(images)
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(f"representative images must be a non-empty batch, got shape "
                         f"{images.shape}")
    if images.dtype != np.float32:
        raise ValueError(f"representative images must be float32 like the model input, "
                         f"got {images.dtype}")

    def gen():
        for i in range(len(images)):
            yield [images[i:i + 1]]
    return gen


class Converter:
    """Converts one model to any of :data:`VARIANTS`.

    ``signature_key``: which SavedModel signature to convert; ``quiet``: hide the C++
    converter's prints (see the module docstring).
    """

    def __init__(self, signature_key: str = DEFAULT_SIGNATURE, quiet: bool = True):
        self.signature_key = signature_key
        self.quiet = quiet

    @contextlib.contextmanager
    def _saved_model(self, source) -> Iterator[Path]:
        """A SavedModel folder for ``source`` (Keras model, .keras/.h5 file or SavedModel)."""
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if is_saved_model(path):
                yield path
                return
            if path.is_file() and path.suffix in (".keras", ".h5"):
                import keras

                source = keras.models.load_model(path)
            elif not path.exists():
                raise FileNotFoundError(f"{path}: no such model; give a Keras model, a .keras "
                                        "file or a SavedModel folder.")
            else:
                raise ValueError(f"{path}: not a SavedModel folder or a .keras/.h5 file.")
        with tempfile.TemporaryDirectory(prefix="edgelab-export-") as tmp:
            with native_output_silenced(self.quiet):
                export_saved_model(source, Path(tmp) / "saved_model")
            yield Path(tmp) / "saved_model"

    def _convert_saved_model(self, directory: Path, variant: str, representative) -> bytes:
        import tensorflow as tf

        conv = tf.lite.TFLiteConverter.from_saved_model(str(directory),
                                                        signature_keys=[self.signature_key])
        if variant in ("dynamic_range", "float16", "int8"):
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
        if variant == "float16":
            conv.target_spec.supported_types = [tf.float16]
        if variant == "int8":
            conv.representative_dataset = representative_dataset(representative)
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
        with native_output_silenced(self.quiet):
            return conv.convert()

    def _check(self, variant: str, representative) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        if variant == "int8" and representative is None:
            raise ValueError("variant 'int8' needs representative=<float32 calibration images> "
                             "(a few hundred training images) to choose activation ranges.")

    def convert(self, source, variant: str, representative: np.ndarray | None = None) -> bytes:
        """The .tflite bytes of ``source`` as ``variant``."""
        self._check(variant, representative)
        with self._saved_model(source) as directory:
            return self._convert_saved_model(directory, variant, representative)

    def convert_all(self, source, out_dir: str | os.PathLike, stem: str,
                    representative: np.ndarray | None = None,
                    variants: Sequence[str] = VARIANTS, progress: bool = True) -> dict[str, Path]:
        """Write ``<out_dir>/<stem>_<variant>.tflite`` for each variant (atomically);
        the model is exported to a SavedModel once. Returns variant -> path."""
        from edgelab.core.atomic import atomic_path
        from edgelab.core.progress import bar

        for v in variants:
            self._check(v, representative)
        out_dir = Path(out_dir)
        written = {}
        with self._saved_model(source) as directory:
            for v in bar(list(variants), desc=f"converting {stem}", disable=not progress,
                         leave=False):
                data = self._convert_saved_model(directory, v, representative)
                path = out_dir / f"{stem}_{v}.tflite"
                with atomic_path(path) as tmp:
                    tmp.write_bytes(data)
                written[v] = path
        return written


def differences(a, b) -> list[str]:
    """What differs between two .tflite files (paths or bytes), read with
    :mod:`edgelab.edge.inspect`: the operators in order (with their inputs and outputs), the
    graph's inputs and outputs, every tensor's shape, dtype and quantization parameters
    (scales, zero points, axis), and the stored weights. An empty list: the same model.
    Tensor names are not compared (they carry the exporter's scope names)."""
    from edgelab.edge import inspect

    x, y = inspect.read(a), inspect.read(b)
    found = []
    ops_x = [(l.op, l.inputs, l.outputs, l.activation) for l in x.layers]
    ops_y = [(l.op, l.inputs, l.outputs, l.activation) for l in y.layers]
    if [o[0] for o in ops_x] != [o[0] for o in ops_y]:
        found.append(f"operators: {x.ops_histogram()} vs {y.ops_histogram()}")
    elif ops_x != ops_y:
        found.append("operators: the same ops, wired or fused differently")
    if (x.inputs, x.outputs) != (y.inputs, y.outputs):
        found.append("graph inputs/outputs differ")
    if len(x.tensors) != len(y.tensors):
        found.append(f"{len(x.tensors)} vs {len(y.tensors)} tensors")
        return found
    for s, t in zip(x.tensors, y.tensors):
        if (s.shape, s.dtype) != (t.shape, t.dtype):
            found.append(f"tensor {s.index}: {s.dtype} {s.shape} vs {t.dtype} {t.shape}")
        elif s.quantization != t.quantization:
            found.append(f"tensor {s.index}: quantization {s.quantization} vs {t.quantization}")
        elif s.is_constant != t.is_constant:
            found.append(f"tensor {s.index}: constant in one file only")
        elif s.is_constant and not _same_data(x, y, s.index):
            found.append(f"tensor {s.index}: different stored values")
    return found



def _same_data(x, y, index: int) -> bool:
    try:
        return np.array_equal(x.tensor_data(index), y.tensor_data(index))
    except ValueError:   # a dtype without a NumPy twin: compare the raw bytes
        return x._model.Buffers(x.tensors[index].buffer).DataAsNumpy().tobytes() == \
            y._model.Buffers(y.tensors[index].buffer).DataAsNumpy().tobytes()
