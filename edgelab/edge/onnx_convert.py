"""ONNX image model (NCHW, PyTorch's layout) -> TFLite with NHWC inputs, checked against onnxruntime.

Models published in PyTorch reach ONNX as NCHW graphs (``[batch, channels, height,
width]``); LiteRT's kernels want NHWC. A converter that keeps NCHW wraps every
convolution in a pair of TRANSPOSE ops; ``onnx2tf`` (PINTO0309's successor to the
``openvino2tensorflow`` of notebook 08's source) rewrites the whole graph to NHWC and keeps
a TRANSPOSE only where the model needs the NCHW order of values, e.g. before flattening a
feature map into a dense layer. This module drives onnx2tf so that it works the same on
every machine, and checks what it wrote:

* **offline**: onnx2tf downloads a sample-image file for any 3-channel input; we write
  that file ourselves in a private working folder (from the calibration images, or
  uniform noise), and calibrate int8 models only with data given here;
* **the input ONNX is never modified** (onnx2tf's optional simplifier rewrites its input
  in place): onnx2tf works on a copy, with the simplifier off;
* **checked**: :func:`check` runs the .tflite and onnxruntime on the same inputs and
  reports the largest absolute difference of every output, with the layouts of inputs
  and outputs and the TRANSPOSE count (:mod:`edgelab.edge.inspect`);
* **atomic**: the .tflite appears at its path complete, or not at all.

``edgelab convert MODEL.onnx OUT.tflite [--int8 --calibration FILE.npy] [--force]`` is the
command line (see :func:`register`). Problems a user can fix raise :class:`ConvertError`
with one line naming the file, input or op and the fix; the CLI prints it and exits 2.

:class:`TFLiteModel` runs a converted file with NCHW arrays in and out, whatever layout
the file uses, so one comparison serves every route of notebook 08 (:func:`compare`).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from edgelab.edge.convert import native_output_silenced

ONNX2TF_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"
FLOAT32_TOLERANCE = 1e-4      # max |tflite - onnxruntime| accepted for float32 files
INT8_TOLERANCE = 0.1          # for int8 files: max difference / range of the reference output
CHECK_EXAMPLES = 4            # random inputs when none are given
EXIT_BAD_INPUT = 2
EXIT_MISMATCH = 3


class ConvertError(ValueError):
    """A problem with the input or the request that the user can fix; one line, no traceback."""


@dataclass(frozen=True)
class Port:
    """One graph input or output: name, shape (None for a dynamic dimension), dim names."""

    name: str
    shape: tuple[int | None, ...]
    dims: tuple[str, ...] = ()

    def text(self) -> str:
        return "[" + ", ".join(str(d) if d is not None else (n or "?")
                               for d, n in zip(self.shape, self.dims or ("",) * len(self.shape))) + "]"


# --------------------------------------------------------------------------- reading ONNX

def _ports(values) -> list[Port]:
    ports = []
    for v in values:
        dims = v.type.tensor_type.shape.dim
        shape = tuple(int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else None
                      for d in dims)
        names = tuple(d.dim_param if d.HasField("dim_param") else "" for d in dims)
        ports.append(Port(v.name, shape, names))
    return ports


def load(path: str | os.PathLike):
    """The checked ``onnx.ModelProto`` of ``path``; :class:`ConvertError` if it is not one."""
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    if not path.exists():
        raise ConvertError(f"{path}: no such file; give the path of an .onnx model.")
    if path.is_dir():
        raise ConvertError(f"{path} is a folder; give an .onnx file.")
    data = path.read_bytes()
    if not data:
        raise ConvertError(f"{path}: the file is empty (0 bytes); re-export the model.")
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as err:
        hint = " (the file ends early: truncated download or an interrupted export?)" \
            if "truncated" in str(err).lower() or "end" in str(err).lower() else ""
        raise ConvertError(f"{path}: not a readable ONNX model{hint}: "
                           f"{type(err).__name__}. Re-export it with torch.onnx.export.") from None
    if not model.graph.node or not model.graph.input or not model.graph.output \
            or not model.opset_import:
        raise ConvertError(f"{path}: not an ONNX model (no graph nodes, inputs, outputs or "
                           "opset): is it another kind of file, or truncated?")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConvertError(f"{path}: the ONNX checker rejects the model ({first[:160]}); is the "
                           "file truncated or hand-edited?") from None
    return model


def graph_inputs(model) -> list[Port]:
    """The real inputs (initializers listed as inputs by old exporters are left out)."""
    weights = {t.name for t in model.graph.initializer}
    return [p for p in _ports(model.graph.input) if p.name not in weights]


def graph_outputs(model) -> list[Port]:
    return _ports(model.graph.output)


def parse_shapes(specs: Sequence[str] | None) -> dict[str, tuple[int, ...]]:
    """``["image:1,3,224,224", ...]`` -> ``{"image": (1, 3, 224, 224)}``."""
    shapes = {}
    for spec in specs or ():
        name, sep, dims = spec.rpartition(":")
        try:
            values = tuple(int(d) for d in dims.split(","))
        except ValueError:
            values = ()
        if not sep or not name or not values or min(values) < 1:
            raise ConvertError(f"--input-shape {spec!r}: write NAME:N,C,H,W with positive "
                               "integers, e.g. image:1,3,224,224")
        shapes[name] = values
    return shapes


def fixed_shapes(model, given: Mapping[str, Sequence[int]] | None = None,
                 source: str = "the model") -> dict[str, tuple[int, ...]]:
    """A static shape for every input: the batch fixed to 1 when dynamic, other dynamic
    dimensions only from ``given``; :class:`ConvertError` names an input it cannot fix."""
    given = dict(given or {})
    inputs = graph_inputs(model)
    unknown = sorted(set(given) - {p.name for p in inputs})
    if unknown:
        raise ConvertError(f"{source}: no input named {unknown[0]!r}; its inputs are "
                           f"{', '.join(p.name for p in inputs)}.")
    shapes = {}
    for p in inputs:
        if p.name in given:
            shape = tuple(int(d) for d in given[p.name])
            if len(shape) != len(p.shape) or any(s is not None and s != g
                                                 for s, g in zip(p.shape, shape)):
                raise ConvertError(f"{source}: input {p.name!r} has shape {p.text()}; "
                                   f"--input-shape gives {list(shape)}, which does not fit it.")
            shapes[p.name] = shape
            continue
        shape = list(p.shape)
        if shape and shape[0] is None:
            shape[0] = 1
        if None in shape:
            example = ",".join(str(d) if d is not None else "224" for d in shape)
            raise ConvertError(
                f"{source}: input {p.name!r} has dynamic size {p.text()} (beyond the batch); "
                f"give one with --input-shape {p.name}:{example}")
        shapes[p.name] = tuple(shape)
    return shapes


def supported_ops() -> set[str]:
    """ONNX op types onnx2tf has a converter for (one module per op in ``onnx2tf.ops``).

    Read from the installed package's files without importing it: importing onnx2tf sets
    ``TF_USE_LEGACY_KERAS=1`` for the whole process (see :func:`_run_onnx2tf`).
    """
    import importlib.util

    spec = importlib.util.find_spec("onnx2tf")
    if spec is None or not spec.submodule_search_locations:
        raise ConvertError("onnx2tf is not installed: install edgelab's torch extra "
                           "(tools/install.sh --extras torch)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "ops"
    return {p.stem for p in folder.glob("*.py") if p.stem[:1].isupper()}


def unsupported_ops(model) -> list[tuple[str, str]]:
    """``(op, node name)`` of nodes no converter here handles (custom domains included)."""
    known = supported_ops()
    bad = []
    for node in model.graph.node:
        op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        if node.domain not in ("", "ai.onnx") or node.op_type not in known:
            bad.append((op, node.name or "(unnamed)"))
    return bad


# --------------------------------------------------------------------------- running TFLite

def _quantize(x: np.ndarray, detail: Mapping) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    if dtype.kind not in "iu":
        return x.astype(dtype)
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)


def _dequantize(y: np.ndarray, detail: Mapping) -> np.ndarray:
    scale, zero = detail["quantization"]
    if np.dtype(detail["dtype"]).kind in "iu" and scale:
        return (y.astype(np.float32) - zero) * np.float32(scale)
    return y.astype(np.float32)


def _fits(shape: Sequence[int], pattern: Sequence[int | None]) -> bool:
    return len(shape) == len(pattern) and all(p is None or s < 0 or p == s
                                             for s, p in zip(shape, pattern))


def _nchw_to(shape: Sequence[int], onnx_shape: Sequence[int | None]) -> str:
    """How a tensor of the .tflite file relates to its NCHW ONNX counterpart (``None``:
    a dynamic dimension, which matches any size)."""
    shape, onnx_shape = tuple(int(d) for d in shape), tuple(onnx_shape)
    nhwc = (onnx_shape[0], *onnx_shape[2:], onnx_shape[1]) if len(onnx_shape) == 4 else None
    if _fits(shape, onnx_shape):
        if nhwc is not None and _fits(shape, nhwc) and len(set(shape[1:])) > 1:
            raise ValueError(f"cannot tell NCHW from NHWC for a tensor of shape {list(shape)}")
        return "NCHW" if len(shape) == 4 else "same"
    if nhwc is not None and _fits(shape, nhwc):
        return "NHWC"
    known = [d for d in onnx_shape if d is not None]
    if None not in onnx_shape and int(np.prod(shape)) == int(np.prod(known)):
        return "reshape"
    raise ValueError(f"a .tflite tensor of shape {list(shape)} does not match the ONNX "
                     f"shape {[d if d is not None else '?' for d in onnx_shape]}")


def _layout_or_none(detail: Mapping, port: Port) -> str | None:
    for shape in (detail["shape"], detail.get("shape_signature")):
        if shape is None or not len(shape):
            continue
        try:
            return _nchw_to(shape, port.shape)
        except ValueError:
            continue
    return None


class TFLiteModel:
    """A .tflite file run with NCHW float arrays in and out, matched to an ONNX model's
    inputs and outputs by name (signature names, as onnx2tf keeps them), else by order.

    ``num_threads`` defaults to 1, as latency comparisons in edgelab do. Integer inputs and
    outputs are quantized and dequantized with the file's own scale and zero point.
    ``prepare_timing``/``time_invoke`` let :func:`edgelab.edge.evaluate.interleaved_latency`
    time it beside other models.
    """

    def __init__(self, path: str | os.PathLike, onnx_inputs: Sequence[Port],
                 onnx_outputs: Sequence[Port], num_threads: int = 1):
        from edgelab.edge.evaluate import load_interpreter

        self.path = Path(path)
        self.interpreter = load_interpreter(self.path, num_threads)
        with native_output_silenced():
            self.interpreter.allocate_tensors()
        ins = self.interpreter.get_input_details()
        outs = self.interpreter.get_output_details()
        self.inputs = self._match(ins, onnx_inputs, "inputs")
        self.outputs = self._match(outs, onnx_outputs, "outputs")

    def _match(self, details, ports: Sequence[Port], kind: str) -> list[tuple[Port, dict, str]]:
        if len(details) != len(ports):
            raise ValueError(f"{self.path.name}: {len(details)} {kind}, the ONNX model has "
                             f"{len(ports)}")
        by_tensor = {d["name"]: d for d in details}
        signatures = self.interpreter.get_signature_list()
        names: dict[str, str] = {}
        if len(signatures) == 1:
            key = next(iter(signatures))
            runner = self.interpreter.get_signature_runner(key)
            sig = runner.get_input_details() if kind == "inputs" else runner.get_output_details()
            index_to_tensor = {d["index"]: d["name"] for d in details}
            names = {n: index_to_tensor.get(d["index"], "") for n, d in sig.items()}
        chosen = None
        if names and all(p.name in names for p in ports):
            chosen = [by_tensor[names[p.name]] for p in ports]
        elif names and sorted(names) in ([f"output_{i}" for i in range(len(ports))],
                                         [f"args_{i}" for i in range(len(ports))]):
            prefix = "output_" if kind == "outputs" else "args_"
            chosen = [by_tensor[names[f"{prefix}{i}"]] for i in range(len(ports))]
        if chosen is None or any(_layout_or_none(d, p) is None for d, p in zip(chosen, ports)):
            # no usable names (or names on tensors of the wrong shape, as some onnx2tf
            # versions write): pair each port with the first unused tensor whose shape fits
            chosen, free = [], list(details)
            for port in ports:
                fits = [d for d in free if _layout_or_none(d, port) is not None]
                if not fits:
                    raise ValueError(f"{self.path.name}: no {kind[:-1]} fits the ONNX "
                                     f"{kind[:-1]} {port.name!r} {port.text()}")
                chosen.append(fits[0])
                free.remove(fits[0])
        matched = []
        for port, detail in zip(ports, chosen):
            try:   # the allocated shape first; a dynamic one only shows in the signature
                layout = _nchw_to(detail["shape"], port.shape)
            except ValueError:
                signature = detail.get("shape_signature")
                if signature is None or not len(signature):
                    raise
                layout = _nchw_to(signature, port.shape)
            matched.append((port, detail, layout))
        return matched

    @property
    def name(self) -> str:
        return self.path.name

    def layouts(self) -> dict[str, list[str]]:
        """``{"inputs": ["image [1, 64, 64, 3] float32 NHWC", ...], "outputs": [...]}``."""
        def text(port, detail, layout):
            return (f"{port.name} {list(int(d) for d in detail['shape'])} "
                    f"{np.dtype(detail['dtype']).name} {layout}")
        return {"inputs": [text(*m) for m in self.inputs],
                "outputs": [text(*m) for m in self.outputs]}

    def _set(self, arrays: Mapping[str, np.ndarray]) -> None:
        for port, detail, layout in self.inputs:
            x = np.asarray(arrays[port.name], np.float32)
            if layout == "NHWC":
                x = x.transpose(0, 2, 3, 1)
            elif layout == "reshape":
                x = x.reshape(detail["shape"])
            self.interpreter.set_tensor(detail["index"], _quantize(np.ascontiguousarray(x), detail))

    def _get(self) -> dict[str, np.ndarray]:
        out = {}
        for port, detail, layout in self.outputs:
            y = _dequantize(self.interpreter.get_tensor(detail["index"]), detail)
            if layout == "NHWC":
                y = y.transpose(0, 3, 1, 2)
            elif layout == "reshape":
                y = y.reshape([d if d is not None else -1 for d in port.shape])
            out[port.name] = np.ascontiguousarray(y)
        return out

    def run(self, arrays: Mapping[str, np.ndarray] | np.ndarray) -> dict[str, np.ndarray]:
        """Outputs (NCHW, float32) by ONNX name, for a batch given by ONNX input name (or one
        array for a single-input model); the batch goes through one image at a time."""
        if not isinstance(arrays, Mapping):
            arrays = {self.inputs[0][0].name: arrays}
        n = len(next(iter(arrays.values())))
        results: dict[str, list[np.ndarray]] = {p.name: [] for p, _, _ in self.outputs}
        for i in range(n):
            self._set({k: v[i:i + 1] for k, v in arrays.items()})
            self.interpreter.invoke()
            for k, v in self._get().items():
                results[k].append(v)
        return {k: np.concatenate(v) for k, v in results.items()}

    def prepare_timing(self, image: np.ndarray | Mapping[str, np.ndarray], warmup: int = 5) -> None:
        if not isinstance(image, Mapping):
            image = {self.inputs[0][0].name: np.asarray(image)[None] if np.ndim(image) == 3
                     else np.asarray(image)[:1]}
        self._set(image)
        for _ in range(warmup):
            self.interpreter.invoke()

    def time_invoke(self) -> float:
        import time

        t0 = time.perf_counter()
        self.interpreter.invoke()
        return time.perf_counter() - t0


def onnx_outputs(path: str | os.PathLike, arrays: Mapping[str, np.ndarray] | np.ndarray,
                 num_threads: int | None = None) -> dict[str, np.ndarray]:
    """The reference: onnxruntime's outputs by name for the given inputs (CPU)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if num_threads:
        options.intra_op_num_threads = num_threads
    sess = ort.InferenceSession(str(path), sess_options=options,
                                providers=["CPUExecutionProvider"])
    if not isinstance(arrays, Mapping):
        arrays = {sess.get_inputs()[0].name: arrays}
    outs = sess.run(None, {k: np.asarray(v, np.float32) for k, v in arrays.items()})
    return {o.name: y for o, y in zip(sess.get_outputs(), outs)}


# --------------------------------------------------------------------------- converting

@dataclass
class Result:
    """What :func:`convert` wrote and what :func:`check` found."""

    path: Path
    int8: bool
    input_shapes: dict[str, tuple[int, ...]]
    layouts: dict[str, list[str]] = field(default_factory=dict)
    transposes: int = 0
    ops: int = 0
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    tolerance: dict[str, float] = field(default_factory=dict)
    check_inputs: str = ""

    @property
    def ok(self) -> bool:
        return all(self.max_abs_diff[k] <= self.tolerance[k] for k in self.max_abs_diff)

    def report(self) -> str:
        from edgelab.core.paths import shown

        lines = [f"wrote {shown(self.path)} ({self.path.stat().st_size / 1024:,.1f} KB, "
                 f"{'full int8' if self.int8 else 'float32'}): {self.ops} ops, "
                 f"{self.transposes} TRANSPOSE"]
        lines += [f"  input  {t}" for t in self.layouts.get("inputs", [])]
        lines += [f"  output {t}" for t in self.layouts.get("outputs", [])]
        lines.append(f"check against onnxruntime on {self.check_inputs}:")
        for name, diff in self.max_abs_diff.items():
            verdict = "ok" if diff <= self.tolerance[name] else "TOO LARGE"
            lines.append(f"  {name}: max |tflite - onnxruntime| = {diff:.3g} "
                         f"(tolerance {self.tolerance[name]:.3g}) {verdict}")
        return "\n".join(lines)


def _write_static_copy(model, shapes: Mapping[str, tuple[int, ...]], dest: Path) -> None:
    """Save ``model`` with every input's dimensions fixed to ``shapes`` (the batch set to 1
    where it was dynamic), so that the converter writes a .tflite with static shapes."""
    import onnx

    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    for value in fixed.graph.input:
        if value.name not in shapes:
            continue
        for dim, size in zip(value.type.tensor_type.shape.dim, shapes[value.name]):
            dim.Clear()
            dim.dim_value = int(size)
    onnx.save(fixed, dest)


def _sample_file(folder: Path, calibration: np.ndarray | None) -> None:
    """The file onnx2tf would download: 20 NHWC 128x128x3 float32 images in [0, 1]."""
    if calibration is not None and calibration.ndim == 4 and calibration.shape[1] == 3:
        import cv2

        picks = calibration[np.resize(np.arange(len(calibration)), 20)].transpose(0, 2, 3, 1)
        sample = np.stack([cv2.resize(np.ascontiguousarray(img), (128, 128),
                                      interpolation=cv2.INTER_LINEAR) for img in picks])
    else:
        sample = np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32)
    np.save(folder / ONNX2TF_SAMPLE, np.clip(sample, 0, 1).astype(np.float32))


def onnx2tf_options(onnx_path: str | os.PathLike, out_folder: str | os.PathLike, *,
                    calibration_path: str | os.PathLike | None = None,
                    input_name: str | None = None) -> dict:
    """The keyword arguments of ``onnx2tf.convert`` that :func:`convert` runs with: the
    float32 conversion, plus full int8 when ``calibration_path`` (an .npy of NHWC float32
    images in [0, 1]) is given for the input ``input_name``. Notebook 08 writes the same
    dict out and compares it with this one."""
    kwargs = dict(input_onnx_file_path=str(onnx_path), output_folder_path=str(out_folder),
                  copy_onnx_input_output_names_to_tflite=True, not_use_onnxsim=True,
                  non_verbose=True)
    from importlib.metadata import version

    if int(version("onnx2tf").split(".")[0]) >= 2:
        # onnx2tf 2.x (Python >= 3.12) writes FlatBuffers directly by default, a path whose
        # integer quantization failed here; the TensorFlow Lite converter is what 1.29 uses.
        kwargs["tflite_backend"] = "tf_converter"
    if calibration_path is not None:
        kwargs.update(output_integer_quantized_tflite=True, quant_type="per-channel",
                      custom_input_op_name_np_data_path=[[input_name, str(calibration_path),
                                                          0.0, 1.0]],
                      input_quant_dtype="int8", output_quant_dtype="int8")
    return kwargs


def _run_onnx2tf(onnx_path: Path, folder: Path, shapes: Mapping[str, tuple[int, ...]],
                 calibration: np.ndarray | None, input_name: str, quiet: bool) -> None:
    """Run onnx2tf on ``onnx_path`` in a child process.

    onnx2tf sets ``TF_USE_LEGACY_KERAS=1`` when it is imported, so ``tf.keras`` becomes
    tf_keras (Keras 2) for the rest of the process; in a notebook or a test session that
    also uses Keras 3 that breaks later cells. A child process keeps that, onnx2tf's
    prints and its ``sys.exit`` on errors away from the caller.
    """
    import json
    import subprocess
    import sys

    calib_path = None
    if calibration is not None:
        calib_path = folder / "calibration_nhwc.npy"
        np.save(calib_path, np.ascontiguousarray(calibration.transpose(0, 2, 3, 1), np.float32))
    kwargs = onnx2tf_options(onnx_path, folder / "out", calibration_path=calib_path,
                             input_name=input_name)
    (folder / "onnx2tf_args.json").write_text(json.dumps(kwargs))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-m", "edgelab.edge.onnx_convert", "--onnx2tf-worker",
                           str(folder / "onnx2tf_args.json")], cwd=folder, env=env,
                          capture_output=True, text=True)
    if not quiet:
        print(proc.stdout, end="")
    if proc.returncode != 0:
        raise ConvertError(f"{onnx_path.name}: onnx2tf stopped: "
                           f"{_last_error(proc.stdout + proc.stderr)}")


def _onnx2tf_worker(args_file: str) -> int:
    """The child process of :func:`_run_onnx2tf`: one onnx2tf conversion, errors as text."""
    import json
    import traceback

    import onnx2tf

    try:
        onnx2tf.convert(**json.loads(Path(args_file).read_text()))
    except SystemExit as stop:   # onnx2tf reports its errors by printing and calling sys.exit(1)
        return int(stop.code or 0) or 1
    except Exception as err:  # noqa: BLE001 - any converter failure becomes one line
        traceback.print_exc()
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        print(f"ERROR onnx2tf failed: {type(err).__name__}: {first}")
        return 1
    return 0


def _last_error(text: str) -> str:
    import re

    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in text.splitlines()]
    errors = [line for line in lines if "ERROR" in line.upper() and len(line) > 8]
    return (errors[-1] if errors else (lines[-1] if lines and lines[-1] else "no message"))[:240]


def convert(model_path: str | os.PathLike, out_path: str | os.PathLike, *,
            int8: bool = False, calibration: np.ndarray | None = None,
            input_shapes: Mapping[str, Sequence[int]] | None = None, force: bool = False,
            quiet: bool = True) -> Result:
    """Convert an NCHW ONNX model to a TFLite file with NHWC inputs (float32, or full int8
    calibrated on ``calibration``, float32 NCHW images as the ONNX model takes them).
    Raises :class:`ConvertError` for anything the user can fix; writes atomically."""
    from edgelab.core.atomic import atomic_path

    model_path, out_path = Path(model_path), Path(out_path)
    if out_path.suffix.lower() != ".tflite":
        raise ConvertError(f"{out_path}: give an output file name ending in .tflite")
    if not out_path.parent.is_dir():
        raise ConvertError(f"{out_path}: the folder {out_path.parent} does not exist; create "
                           "it first or choose another output path.")
    if out_path.exists() and not force:
        raise ConvertError(f"{out_path} already exists; pass --force to overwrite it.")
    model = load(model_path)
    shapes = fixed_shapes(model, input_shapes, str(model_path))
    bad = unsupported_ops(model)
    if bad:
        op, node = bad[0]
        more = f" (and {len(bad) - 1} more node(s))" if len(bad) > 1 else ""
        raise ConvertError(f"{model_path}: op {op} (node {node!r}){more} is not supported by "
                           "onnx2tf; replace it in the PyTorch model before exporting.")
    if int8:
        if calibration is None:
            raise ConvertError("--int8 needs --calibration FILE.npy: a few hundred real input "
                               "images, float32 NCHW like the model's input.")
        if len(shapes) != 1:
            raise ConvertError(f"{model_path}: int8 calibration here handles single-input "
                               f"models; this one has {len(shapes)} inputs.")
        want = next(iter(shapes.values()))
        calibration = np.asarray(calibration, np.float32)
        if calibration.ndim != len(want) or calibration.shape[1:] != want[1:]:
            raise ConvertError(f"calibration data of shape {list(calibration.shape)} does not "
                               f"fit input {next(iter(shapes))!r} {list(want)}: give "
                               f"[N, {', '.join(map(str, want[1:]))}] float32 images.")
    with tempfile.TemporaryDirectory(prefix="edgelab-onnx2tf-") as tmp:
        folder = Path(tmp)
        copy = folder / "model.onnx"
        _write_static_copy(model, shapes, copy)
        _sample_file(folder, calibration)
        _run_onnx2tf(copy, folder, shapes, calibration if int8 else None, next(iter(shapes)),
                     quiet)
        name = "model_full_integer_quant.tflite" if int8 else "model_float32.tflite"
        produced = folder / "out" / name
        if not produced.is_file():
            raise ConvertError(f"{model_path.name}: onnx2tf finished without writing {name}.")
        with atomic_path(out_path) as part:
            shutil.copyfile(produced, part)
    return Result(out_path, int8, shapes)


def check(result: Result, model_path: str | os.PathLike,
          inputs: Mapping[str, np.ndarray] | np.ndarray | None = None,
          tolerance: float | None = None) -> Result:
    """Run the .tflite and onnxruntime on ``inputs`` (NCHW; random uniform [0, 1) images
    when None) and fill in layouts, TRANSPOSE count and the max difference per output.

    Tolerance: absolute ``FLOAT32_TOLERANCE`` for float32 files; for int8 files
    ``INT8_TOLERANCE`` times the range of each reference output (quantization steps scale
    with it); ``tolerance`` overrides both as an absolute bound."""
    from edgelab.edge import inspect

    model = load(model_path)
    runner = TFLiteModel(result.path, graph_inputs(model), graph_outputs(model))
    if inputs is None:
        rng = np.random.default_rng(0)
        inputs = {k: rng.random((CHECK_EXAMPLES, *v[1:]), dtype=np.float32)
                  for k, v in result.input_shapes.items()}
        result.check_inputs = f"{CHECK_EXAMPLES} random inputs (uniform in [0, 1))"
    else:
        if not isinstance(inputs, Mapping):
            inputs = {next(iter(result.input_shapes)): np.asarray(inputs, np.float32)}
        result.check_inputs = f"{len(next(iter(inputs.values())))} given inputs"
    reference = onnx_outputs(model_path, inputs)
    got = runner.run(inputs)
    for name, ref in reference.items():
        result.max_abs_diff[name] = float(np.max(np.abs(got[name] - ref)))
        if tolerance is not None:
            result.tolerance[name] = float(tolerance)
        elif result.int8:
            result.tolerance[name] = INT8_TOLERANCE * float(max(np.ptp(ref), 1e-6))
        else:
            result.tolerance[name] = FLOAT32_TOLERANCE
    result.layouts = runner.layouts()
    info = inspect.read(result.path)
    result.transposes = info.ops_histogram().get("TRANSPOSE", 0)
    result.ops = len(info.layers)
    return result


# --------------------------------------------------------------------------- comparing routes

def compare(model_path: str | os.PathLike, tflite_files: Mapping[str, str | os.PathLike],
            images: np.ndarray, *, runs: int, num_threads: int = 1):
    """One row per .tflite file (``route -> path``) converted from the same ONNX model:
    TRANSPOSE and op counts, size, max |tflite - onnxruntime| over every output on
    ``images`` (NCHW), and single-image latency (median and interquartile range, one
    thread, the files timed in turns). A file the interpreter cannot run gets its error in
    the ``runs`` column and no figures. A pandas DataFrame indexed by route."""
    import pandas as pd

    from edgelab.edge import inspect
    from edgelab.edge.evaluate import interleaved_latency

    model = load(model_path)
    reference = onnx_outputs(model_path, images)
    rows, runners = [], []
    for route, path in tflite_files.items():
        info = inspect.read(path)
        row = {"route": route, "transposes": info.ops_histogram().get("TRANSPOSE", 0),
               "ops": len(info.layers), "size_kb": Path(path).stat().st_size / 1024,
               "max_abs_diff": np.nan, "latency_ms": np.nan, "latency_q1_ms": np.nan,
               "latency_q3_ms": np.nan, "runs": "yes"}
        try:
            runner = TFLiteModel(path, graph_inputs(model), graph_outputs(model), num_threads)
            got = runner.run(images)
        except (RuntimeError, ValueError) as err:
            row["runs"] = "no: " + str(err).strip().splitlines()[0][:90]
            rows.append(row)
            continue
        row["max_abs_diff"] = max(float(np.max(np.abs(got[k] - v))) for k, v in reference.items())
        rows.append(row)
        runners.append((row, runner))
    if runners:
        times = interleaved_latency([r for _, r in runners], [images[0]] * len(runners), runs)
        for (row, _), t in zip(runners, times):
            row.update(latency_ms=t.median_ms, latency_q1_ms=t.q1_ms, latency_q3_ms=t.q3_ms)
    return pd.DataFrame(rows).set_index("route")


# --------------------------------------------------------------------------- CLI

CONVERT_EXAMPLES = """examples:
  edgelab convert model.onnx model.tflite                float32, checked on 4 random images
  edgelab convert model.onnx model_int8.tflite --int8 --calibration images.npy
                                                         full int8, calibrated on real images
  edgelab convert model.onnx model.tflite --input-shape image:1,3,224,224
                                                         fix a dynamic input size first"""


def register(subparsers) -> None:
    """``edgelab convert MODEL.onnx OUT.tflite [--int8 --calibration FILE.npy] [--force]``."""
    import argparse

    p = subparsers.add_parser(
        "convert", help="convert an NCHW ONNX image model to an NHWC .tflite, and check it",
        description="Convert an ONNX image model with NCHW inputs (as PyTorch exports them) "
                    "into a TFLite file with NHWC inputs with onnx2tf, offline; then run both "
                    "on the same inputs and report the layouts, the TRANSPOSE count and the "
                    "max abs difference against onnxruntime. Exit status: 0 ok, 2 bad input, "
                    f"3 difference above the tolerance (float32: {FLOAT32_TOLERANCE:g}; int8: "
                    f"{INT8_TOLERANCE:g} x the range of each output).",
        epilog=CONVERT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="the .onnx file (NCHW image inputs)")
    p.add_argument("out", help="the .tflite file to write")
    p.add_argument("--int8", action="store_true",
                   help="full-integer int8 (int8 weights, activations, input and output)")
    p.add_argument("--calibration", metavar="FILE.npy",
                   help="with --int8: float32 NCHW images [N, C, H, W] to calibrate on; also "
                        "the check inputs unless --inputs is given")
    p.add_argument("--inputs", metavar="FILE.npy",
                   help="float32 NCHW inputs to check on (default: 4 random images)")
    p.add_argument("--input-shape", action="append", metavar="NAME:N,C,H,W",
                   help="fix a dynamic input size, e.g. image:1,3,224,224 (repeatable)")
    p.add_argument("--tolerance", type=float, metavar="T",
                   help="accepted max abs difference (overrides the defaults above)")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.set_defaults(func=_cli)


def _load_npy(path: str, what: str) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise ConvertError(f"{what} {path}: no such file.")
    try:
        data = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ConvertError(f"{what} {path}: not a readable .npy array ({err}).") from None
    if not isinstance(data, np.ndarray) or data.ndim < 2 or not np.issubdtype(data.dtype,
                                                                               np.number):
        raise ConvertError(f"{what} {path}: want a numeric array [N, C, H, W].")
    return data.astype(np.float32)


def _cli(args) -> int:
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")   # before TensorFlow is imported
    warnings.filterwarnings("ignore")
    try:
        if args.calibration and not args.int8:
            raise ConvertError("--calibration is only used with --int8.")
        calibration = _load_npy(args.calibration, "--calibration") if args.calibration else None
        given = _load_npy(args.inputs, "--inputs") if args.inputs else None
        result = convert(args.model, args.out, int8=args.int8, calibration=calibration,
                         input_shapes=parse_shapes(args.input_shape), force=args.force)
        if given is None and calibration is not None:
            given = calibration[:16]
        if given is not None:
            want = next(iter(result.input_shapes.values()))
            if given.shape[1:] != want[1:]:
                raise ConvertError(f"--inputs {args.inputs}: shape {list(given.shape)} does not "
                                   f"fit the input {list(want)}.")
        try:
            with native_output_silenced():
                check(result, args.model, given, args.tolerance)
        except (ValueError, RuntimeError) as err:   # the interpreter refuses the file
            if isinstance(err, ConvertError):
                raise
            raise ConvertError(f"{args.out} was written but cannot be checked: "
                               f"{str(err).strip().splitlines()[0][:200]}") from None
    except ConvertError as err:
        print(f"edgelab convert: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(result.report())
    if not result.ok:
        print("edgelab convert: the converted model differs from onnxruntime by more than the "
              "tolerance; the file is kept for inspection (edgelab inspect).", file=sys.stderr)
        return EXIT_MISMATCH
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["--onnx2tf-worker"]:
    sys.exit(_onnx2tf_worker(sys.argv[2]))
