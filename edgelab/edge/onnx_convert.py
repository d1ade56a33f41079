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
  in place): onnx2tf works on a static copy, with the simplifier off, cleaned first
  (:func:`clean`: constant subgraphs folded and names TensorFlow rejects rewritten, as
  exports from other frameworks such as PaddlePaddle need);
* **fewer TRANSPOSE ops**: pairs that cancel around elementwise ops are removed from the
  written file (:mod:`edgelab.edge.transposes`), and the report says where each remaining
  one sits;
* **checked**: :func:`check` runs the .tflite and onnxruntime on the same inputs (a batch
  at a time when the model's batch is fixed) and judges every output by a rule that fits
  it: float32 files by their largest difference; int8 classifier scores by top-1 agreement
  and other int8 outputs by their mean error in quantization steps;
* **atomic**: the .tflite appears at its path complete, or not at all.

``edgelab convert MODEL.onnx OUT.tflite [--int8 --calibration FILE.npy] [--force]`` is the
command line (see :func:`register`). Problems a user can fix raise :class:`ConvertError`
with one line naming the file, input or op and the fix (exit status 2); when onnx2tf stops
on a valid model, :class:`ConverterFailed` names the node, its op type and the reason, and
onnx2tf's whole log is kept beside the output (exit status 4). A file that is not ONNX is
recognised by its content (:mod:`edgelab.edge.formats`) and the message says what it is.

:class:`TFLiteModel` runs a converted file with NCHW arrays in and out, whatever layout
the file uses, so one comparison serves every route of notebook 08 (:func:`compare`).
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from edgelab.edge.convert import native_output_silenced

ONNX2TF_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"
FLOAT32_TOLERANCE = 1e-4      # max |tflite - onnxruntime| / max(1, max |onnxruntime|), float32
# The int8 rules (see check): what a user of each output cares about, in the output's own
# quantization steps (its scale), which the calibration set fixes, not the check inputs.
INT8_MEAN_STEPS = 4.0         # values (maps, boxes, scores): mean |error| <= 4 steps
INT8_TOP1_AGREEMENT = 0.9     # classes: top-1 agrees on >= 90% of the inputs with a clear
INT8_MARGIN_STEPS = 2.0       # winner (reference top-1 ahead of the runner-up by > 2 steps)
INT8_TOLERANCE = 0.1          # the former rule (max diff <= 0.1 x range); no longer used
CHECK_EXAMPLES = 4            # random inputs when none are given
FOLD_LIMIT_BYTES = 64 << 20   # constants folded only up to this size (a folded Expand can be huge)
EXIT_BAD_INPUT = 2
EXIT_MISMATCH = 3
EXIT_CONVERTER_FAILED = 4
EXIT_STATUS = {
    0: "converted, and the check passed",
    1: "an unforeseen error: a bug in edgelab (please report it with the command line)",
    EXIT_BAD_INPUT: "bad input: a file or an argument to fix (the message says which, and how)",
    EXIT_MISMATCH: "converted, but the .tflite differs from onnxruntime beyond the rule\n"
                   "     (the file is kept, for edgelab inspect)",
    EXIT_CONVERTER_FAILED: "the converter failed on a valid ONNX model: the message names the\n"
                           "     node and the reason; onnx2tf's whole log is kept beside OUT"}


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
    """The checked ``onnx.ModelProto`` of ``path``; :class:`ConvertError` if it is not one.

    A file that is not ONNX is recognised by its content (:mod:`edgelab.edge.formats`),
    whatever its name, and the message says what it is: a .tflite renamed .onnx, a
    SavedModel folder, a PyTorch checkpoint, a web page saved instead of the download..."""
    import onnx
    from google.protobuf.message import DecodeError

    from edgelab.edge import formats

    path = Path(path)
    if not path.exists():
        raise ConvertError(f"{path}: no such file; give the path of an .onnx model.")
    kind = formats.identify(path)
    if kind.key != "onnx":
        if kind in (formats.FOLDER,):
            raise ConvertError(f"{path} is a folder; give an .onnx file.")
        if kind is formats.UNKNOWN or kind is formats.TEXT:
            data = path.read_bytes()[:4096]
            try:
                onnx.load_model_from_string(path.read_bytes())
                error = ""
            except (DecodeError, ValueError, RuntimeError) as err:
                error = type(err).__name__
            if kind is formats.TEXT:
                raise ConvertError(f"{path} is a text file, not an ONNX model; give the .onnx "
                                   "file that torch.onnx.export wrote.")
            cut = " (it starts like one but ends early: a truncated download or an " \
                "interrupted export?)" if data[:1] == b"\x08" else \
                ", nor another model format edgelab recognises"
            raise ConvertError(f"{path}: not an ONNX model{cut} ({error or 'no graph'}); "
                               "export it again with torch.onnx.export.")
        raise ConvertError(f"{path} {formats.describe(path, kind)}" + (
            "" if kind.use else "; edgelab convert needs an ONNX model (.onnx)") + ".")
    model = onnx.load_model_from_string(path.read_bytes())
    if not model.graph.input or not model.graph.output:
        raise ConvertError(f"{path}: the ONNX model has no graph inputs or outputs: is the file "
                           "truncated?")
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

    @property
    def batch(self) -> int:
        """Images per ``invoke()``: the file's fixed batch size (1 for what :func:`convert`
        writes from a dynamic batch)."""
        port, detail, layout = self.inputs[0]
        shape = [int(d) for d in detail["shape"]]
        return max(1, shape[0]) if shape and layout != "reshape" else 1

    def run(self, arrays: Mapping[str, np.ndarray] | np.ndarray) -> dict[str, np.ndarray]:
        """Outputs (NCHW, float32) by ONNX name, for a batch given by ONNX input name (or one
        array for a single-input model); the batch goes through :attr:`batch` images at a
        time (one, unless the model's batch is fixed to more)."""
        if not isinstance(arrays, Mapping):
            arrays = {self.inputs[0][0].name: arrays}
        n = len(next(iter(arrays.values())))
        step = self.batch
        if n % step:
            raise ValueError(f"{self.path.name} takes batches of {step}; give a multiple of "
                             f"{step} inputs, not {n}")
        results: dict[str, list[np.ndarray]] = {p.name: [] for p, _, _ in self.outputs}
        for i in range(0, n, step):
            self._set({k: v[i:i + step] for k, v in arrays.items()})
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
    arrays = {k: np.asarray(v, np.float32) for k, v in arrays.items()}
    step = static_batch(sess.get_inputs())
    n = len(next(iter(arrays.values())))
    if step is None or step == n:
        outs = sess.run(None, arrays)
        return {o.name: y for o, y in zip(sess.get_outputs(), outs)}
    if n % step:
        raise ValueError(f"{Path(path).name}: its batch size is fixed to {step}; give a "
                         f"multiple of {step} inputs, not {n}")
    # a fixed batch (torch.onnx.export's default is [1, C, H, W]): a batch at a time
    parts = [sess.run(None, {k: v[i:i + step] for k, v in arrays.items()})
             for i in range(0, n, step)]
    return {o.name: np.concatenate([p[j] for p in parts])
            for j, o in enumerate(sess.get_outputs())}


def static_batch(inputs) -> int | None:
    """The fixed batch size of onnxruntime inputs (``sess.get_inputs()``) or of
    :class:`Port` s, or None when it is dynamic (or the inputs disagree)."""
    sizes = set()
    for value in inputs:
        shape = list(value.shape)
        sizes.add(shape[0] if shape and isinstance(shape[0], int) and shape[0] > 0 else None)
    return sizes.pop() if len(sizes) == 1 else None


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
    mean_abs_diff: dict[str, float] = field(default_factory=dict)
    # per output: the rule applied ("max", "values" or "classes"), its verdict and its line
    rules: dict[str, str] = field(default_factory=dict)
    verdicts: dict[str, bool] = field(default_factory=dict)
    lines: dict[str, str] = field(default_factory=dict)
    top1: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # agree, judged, all
    notes: list[str] = field(default_factory=list)          # what convert changed, and why
    transpose_sites: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        if self.verdicts:
            return all(self.verdicts.values())
        return all(self.max_abs_diff[k] <= self.tolerance[k] for k in self.max_abs_diff)

    def report(self) -> str:
        from edgelab.core.paths import shown
        from edgelab.edge.inspect import transpose_text

        lines = [f"wrote {shown(self.path)} ({self.path.stat().st_size / 1024:,.1f} KB, "
                 f"{'full int8' if self.int8 else 'float32'}): {self.ops} ops, "
                 f"{self.transposes} TRANSPOSE"]
        lines += [f"  ({note})" for note in self.notes]
        lines += [f"  input  {t}" for t in self.layouts.get("inputs", [])]
        lines += [f"  output {t}" for t in self.layouts.get("outputs", [])]
        if self.max_abs_diff:
            lines.append(f"check against onnxruntime on {self.check_inputs}:")
        for name, diff in self.max_abs_diff.items():
            if name in self.lines:
                lines.append(f"  {name}: {self.lines[name]}")
                continue
            verdict = "ok" if diff <= self.tolerance[name] else "TOO LARGE"
            lines.append(f"  {name}: max |tflite - onnxruntime| = {diff:.3g} "
                         f"(tolerance {self.tolerance[name]:.3g}) {verdict}")
        if self.transpose_sites:
            lines += ["  " + line for line in transpose_text(self.transpose_sites).splitlines()]
        return "\n".join(lines)


def _write_static_copy(model, shapes: Mapping[str, tuple[int, ...]], dest: Path) -> None:
    """Save ``model`` with every input's dimensions fixed to ``shapes`` (the batch set to 1
    where it was dynamic), so that the converter writes a .tflite with static shapes."""
    import onnx

    onnx.save(_static(model, shapes), dest)


def _static(model, shapes: Mapping[str, tuple[int, ...]]):
    import onnx

    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    for value in fixed.graph.input:
        if value.name not in shapes:
            continue
        for dim, size in zip(value.type.tensor_type.shape.dim, shapes[value.name]):
            dim.Clear()
            dim.dim_value = int(size)
    return fixed


# onnx2tf makes TensorFlow op names from the ONNX node (and tensor) names; TensorFlow rejects
# characters outside [A-Za-z0-9_./>-] ("Softmax@0"). PyTorch's "/enc1/Conv" is fine: onnx2tf
# strips the leading "/".
_TF_NAME = re.compile(r"[A-Za-z0-9_./-]+")
_BAD_CHARS = re.compile(r"[^A-Za-z0-9_./-]")


@dataclass
class Cleanup:
    """What :func:`clean` changed in the static copy (the user's file is never touched)."""

    folded: dict[str, int] = field(default_factory=dict)     # op type -> nodes folded away
    renamed: dict[str, str] = field(default_factory=dict)    # new node name -> original
    renamed_tensors: int = 0

    def notes(self) -> list[str]:
        out = []
        if self.folded:
            ops = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in sorted(self.folded.items()))
            out.append(f"folded {sum(self.folded.values())} node(s) that compute constants "
                       f"({ops})")
        if self.renamed:
            first = next(iter(self.renamed.items()))
            out.append(f"renamed {len(self.renamed)} node(s) whose names TensorFlow rejects "
                       f"(e.g. {first[1]!r} -> {first[0]!r})"
                       + (f" and {self.renamed_tensors} tensor(s)" if self.renamed_tensors
                          else ""))
        return out

    def original(self, node_name: str) -> str:
        return self.renamed.get(node_name, node_name)


def clean(model, shapes: Mapping[str, tuple[int, ...]] | None = None):
    """The copy that onnx2tf converts: inputs fixed to ``shapes``, shapes re-inferred,
    constant subgraphs folded (onnx-graphsurgeon, with onnxruntime), and node and tensor
    names TensorFlow would reject (``Softmax@0``, as PaddlePaddle exports name them)
    rewritten. Returns ``(model, Cleanup)``; ``model`` itself is not modified.

    Exporters other than PyTorch's leave constant subgraphs (an ``Add`` of two
    ``Constant`` nodes) that onnx2tf cannot convert, and names with ``@``; both stopped
    onnx2tf on PaddlePaddle exports."""
    fixed = _static(model, shapes or {})
    report = Cleanup()
    _constants_as_tensors(fixed)
    before = collections.Counter(n.op_type for n in fixed.graph.node if n.op_type != "Constant")
    try:
        import onnx_graphsurgeon as gs
    except ImportError:   # pragma: no cover - installed with onnx2tf (the torch extra)
        gs = None
    if gs is not None:
        io_names = {v.name for v in list(fixed.graph.input) + list(fixed.graph.output)}
        del fixed.graph.value_info[:]      # stale shapes with the old dynamic dimensions
        fixed = _infer_shapes(fixed)
        try:
            graph = gs.import_onnx(fixed)
            with native_output_silenced():
                graph.fold_constants(size_threshold=FOLD_LIMIT_BYTES).cleanup().toposort()
            folded_model = gs.export_onnx(graph)
        except Exception:  # noqa: BLE001 - folding is an optimisation: convert unfolded
            folded_model = None
        if folded_model is not None and {v.name for v in list(folded_model.graph.input)
                                         + list(folded_model.graph.output)} == io_names:
            folded_model.ir_version = fixed.ir_version
            del folded_model.opset_import[:]
            folded_model.opset_import.extend(fixed.opset_import)
            fixed = _infer_shapes(folded_model)
    after = collections.Counter(n.op_type for n in fixed.graph.node if n.op_type != "Constant")
    report.folded = {op: n - after.get(op, 0) for op, n in before.items() if n > after.get(op, 0)}
    _sanitise_names(fixed, report)
    return fixed, report


def _constants_as_tensors(model) -> None:
    """Rewrite ``Constant`` nodes given by ``value_float(s)`` / ``value_int(s)`` (as
    PaddlePaddle exports them) as the same value in a float32 / int64 ``value`` tensor, in
    place: onnx2tf 1.29 reads them as Python numbers and stops, and onnx-graphsurgeon folds
    a ``value_float`` into a float64 constant that no longer fits its float32 neighbours."""
    from onnx import helper, numpy_helper

    kinds = {"value_float": np.float32, "value_floats": np.float32, "value_int": np.int64,
             "value_ints": np.int64}
    for node in model.graph.node:
        if node.op_type != "Constant" or node.domain not in ("", "ai.onnx"):
            continue
        for attr in list(node.attribute):
            if attr.name in kinds:
                value = np.asarray(helper.get_attribute_value(attr), kinds[attr.name])
                node.attribute.remove(attr)
                node.attribute.append(helper.make_attribute(
                    "value", numpy_helper.from_array(value, node.output[0])))
                break


def _infer_shapes(model):
    import onnx

    try:
        return onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - shapes are a help for onnx2tf, not a requirement
        return model


def _sanitise_names(model, report: Cleanup) -> None:
    """Rewrite node names and internal tensor names that TensorFlow rejects, in place.
    Graph inputs and outputs keep their names (the check pairs them with onnxruntime's)."""
    graph = model.graph
    taken = {n.name for n in graph.node} | {i.name for i in graph.initializer}
    taken |= {t for n in graph.node for t in list(n.input) + list(n.output)}

    def fresh(name: str) -> str:
        base = _BAD_CHARS.sub("_", name) or "node"
        new, k = base, 1
        while new in taken:
            k += 1
            new = f"{base}_{k}"
        taken.add(new)
        return new

    for node in graph.node:
        if node.name and not _TF_NAME.fullmatch(node.name):
            new = fresh(node.name)
            report.renamed[new] = node.name
            node.name = new
    keep = {v.name for v in list(graph.input) + list(graph.output)}
    tensors = {t for n in graph.node for t in list(n.input) + list(n.output) if t}
    tensors |= {i.name for i in graph.initializer}
    mapping = {t: fresh(t) for t in sorted(tensors - keep) if not _TF_NAME.fullmatch(t)}
    if not mapping:
        return
    report.renamed_tensors = len(mapping)
    for node in graph.node:
        node.input[:] = [mapping.get(t, t) for t in node.input]
        node.output[:] = [mapping.get(t, t) for t in node.output]
    for init in graph.initializer:
        init.name = mapping.get(init.name, init.name)
    for value in graph.value_info:
        value.name = mapping.get(value.name, value.name)


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
    """The keyword arguments of ``onnx2tf.convert`` for :func:`convert`'s conversion: the
    float32 conversion, plus full int8 when ``calibration_path`` (an .npy of NHWC float32
    images in [0, 1]) is given for the input ``input_name``. Notebook 08 writes the same
    dict out and compares it with this one. (:func:`convert` itself swaps the quiet
    ``non_verbose=True`` for ``verbosity="debug"``, to keep a log that names a failing node.)"""
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
                 calibration: np.ndarray | None, input_name: str, quiet: bool,
                 log: Path | None = None) -> int:
    """Run onnx2tf on ``onnx_path`` in a child process; its whole log goes to ``log``
    (default ``folder / "onnx2tf.log"``) and, unless ``quiet``, to stdout as it comes.
    Returns the child's exit status.

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
    # The log instead of silence: "debug" logs every node onnx2tf converts (op type, name,
    # shapes), so the last one before an error is the node that failed.
    kwargs.pop("non_verbose", None)
    kwargs["verbosity"] = "debug"
    (folder / "onnx2tf_args.json").write_text(json.dumps(kwargs))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    log = log or folder / "onnx2tf.log"
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    with open(log, "w", encoding="utf-8") as sink, subprocess.Popen(
            [sys.executable, "-m", "edgelab.edge.onnx_convert", "--onnx2tf-worker",
             str(folder / "onnx2tf_args.json")], cwd=folder, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        for line in proc.stdout:
            sink.write(ansi.sub("", line))
            if not quiet:
                print(line, end="", flush=True)
    return proc.returncode


def _onnx2tf_worker(args_file: str) -> int:
    """The child process of :func:`_run_onnx2tf`: one onnx2tf conversion, errors as text."""
    import json
    import traceback

    import onnx2tf

    try:
        onnx2tf.convert(**json.loads(Path(args_file).read_text()))
    except SystemExit as stop:   # onnx2tf reports its errors by printing and calling sys.exit(1)
        return int(stop.code or 0) or 1
    except BaseException as err:  # noqa: BLE001 - any converter failure becomes text
        traceback.print_exc(file=sys.stdout)
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
        print(f"ERROR onnx2tf failed: {type(err).__name__}: {first}")
        return 1
    return 0


def _last_error(text: str) -> str:
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in text.splitlines()]
    errors = [line for line in lines if "ERROR" in line.upper() and len(line) > 8]
    return (errors[-1] if errors else (lines[-1] if lines and lines[-1] else "no message"))[:240]


@dataclass(frozen=True)
class Failure:
    """Where and why onnx2tf stopped, read from its log."""

    node: str = ""        # the ONNX node name (as in the user's file)
    op: str = ""          # its op type
    reason: str = ""      # the exception or onnx2tf's own error line

    def text(self) -> str:
        if self.node.startswith("(unnamed"):
            where = f"at a {self.op} node {self.node}"
        else:
            where = f"at node {self.node!r} ({self.op})" if self.node else "before any node"
        return f"{where}: {self.reason or 'no reason given'}"


_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)): ?(.*)$")


def failure_from_log(text: str, model=None, cleanup: Cleanup | None = None) -> Failure:
    """The node onnx2tf was converting when it stopped (its last "onnx_op_name" line, or
    the one its error report names) and the reason (the last exception line of the
    traceback, else onnx2tf's last ERROR line). Node names are mapped back to the user's
    file through ``cleanup``; the op type is looked up in ``model`` when the log lacks it."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip() for line in text.splitlines()]
    node = op = ""
    for line in lines:
        found = re.search(r"onnx_op_type: (\S+) onnx_op_name: (.+)$", line)
        if found:
            op, node = found.group(1), found.group(2).strip()
        named = re.search(r"ERROR: onnx_op_name: (.+)$", line)
        if named and named.group(1).strip() != node:
            node, op = named.group(1).strip(), ""
    reason = ""
    for line in lines:
        hit = _EXCEPTION_LINE.match(line.strip())
        if hit and "Traceback" not in line:
            reason = f"{hit.group(1).rsplit('.', 1)[-1]}: {hit.group(2).strip()}".rstrip(": ")
    if not reason:
        errors = [ln.strip() for ln in lines if ln.strip().upper().startswith("ERROR")
                  and "onnx_op_name" not in ln and "trace log" not in ln
                  and "Read this and deal" not in ln]
        reason = errors[-1] if errors else (lines[-1].strip() if lines else "")
    reason = re.sub(r"^ERROR:?\s*", "", reason)
    reason = re.sub(r"\s+", " ", reason)[:300].rstrip(". ")
    # The node onnx2tf logs last is the last one it started; a node without a log line of
    # its own (a Constant) shows only as onnx2tf/ops/<Op>.py in the traceback.
    traced = re.findall(r"onnx2tf[/\\]ops[/\\](\w+)\.py", text)
    if traced and traced[-1] != op and model is not None:
        nodes = list(model.graph.node)
        after = next((k for k, n in enumerate(nodes) if n.name == node), -1)
        culprit = next((n for n in nodes[after + 1:] if n.op_type == traced[-1]), None)
        if culprit is not None:
            node = culprit.name or f"(unnamed, writes {culprit.output[0]!r})"
            op = culprit.op_type
    if node and not op and model is not None:
        op = next((n.op_type for n in model.graph.node if n.name == node), "")
    if cleanup is not None:
        node = cleanup.original(node)
    return Failure(node, op, reason)


class ConverterFailed(ConvertError):
    """onnx2tf (or the TFLite converter under it) stopped on a model that is valid ONNX.
    ``failure`` says where and why; ``log`` is the path of onnx2tf's whole log."""

    def __init__(self, message: str, failure: Failure | None = None, log: Path | None = None):
        super().__init__(message)
        self.failure = failure
        self.log = log


def log_path(out_path: str | os.PathLike) -> Path:
    """Where :func:`convert` keeps onnx2tf's log when it fails: ``OUT.onnx2tf.log`` beside
    the .tflite that was asked for."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.stem + ".onnx2tf.log")


def convert(model_path: str | os.PathLike, out_path: str | os.PathLike, *,
            int8: bool = False, calibration: np.ndarray | None = None,
            input_shapes: Mapping[str, Sequence[int]] | None = None, force: bool = False,
            quiet: bool = True, clean_up: bool = True, cancel_transposes: bool = True) -> Result:
    """Convert an NCHW ONNX model to a TFLite file with NHWC inputs (float32, or full int8
    calibrated on ``calibration``, float32 NCHW images as the ONNX model takes them).

    onnx2tf converts a static copy of the model (:func:`clean`: inputs fixed, constants
    folded, names TensorFlow rejects rewritten; ``clean_up=False`` converts the bare static
    copy). Afterwards pairs of TRANSPOSE ops that cancel around layout-free ops are removed
    from the .tflite (:func:`edgelab.edge.transposes.cancel_pairs`;
    ``cancel_transposes=False`` keeps them). ``quiet=False`` shows onnx2tf's log as it runs.

    Raises :class:`ConvertError` for anything the user can fix, and its subclass
    :class:`ConverterFailed` (with the failing node and the path of onnx2tf's log, kept
    beside ``out_path``) when onnx2tf stops. Writes atomically."""
    from edgelab.core.atomic import atomic_path

    model_path, out_path = Path(model_path), Path(out_path)
    if out_path.suffix.lower() != ".tflite":
        raise ConvertError(f"{out_path}: give an output file name ending in .tflite")
    if not out_path.parent.is_dir():
        raise ConvertError(f"{out_path}: the folder {out_path.parent} does not exist; create "
                           "it first or choose another output path.")
    if out_path.is_dir():
        raise ConvertError(f"{out_path} is a folder; give a file name ending in .tflite")
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
        if not np.all(np.isfinite(calibration)):
            raise ConvertError("the calibration data holds NaN or infinite values; give real "
                               "images.")
    with tempfile.TemporaryDirectory(prefix="edgelab-onnx2tf-") as tmp:
        folder = Path(tmp)
        copy = folder / "model.onnx"
        if clean_up:
            cleaned, cleanup = clean(model, shapes)
        else:
            cleaned, cleanup = _static(model, shapes), Cleanup()
        import onnx

        onnx.save(cleaned, copy)
        _sample_file(folder, calibration)
        log = folder / "onnx2tf.log"
        status = _run_onnx2tf(copy, folder, shapes, calibration if int8 else None,
                              next(iter(shapes)), quiet, log)
        name = "model_full_integer_quant.tflite" if int8 else "model_float32.tflite"
        produced = folder / "out" / name
        if status != 0 or not produced.is_file():
            text = log.read_text(encoding="utf-8", errors="replace")
            failure = failure_from_log(text, cleaned, cleanup)
            kept = log_path(out_path)
            shutil.copyfile(log, kept)
            from edgelab.core.paths import shown

            what = failure.text() if status != 0 else f"it finished without writing {name}"
            raise ConverterFailed(
                f"{model_path}: onnx2tf could not convert it {what}. Full log: "
                f"{shown(kept)} (--verbose shows it as it runs).", failure, kept)
        data = produced.read_bytes()
        removed: list = []
        if cancel_transposes:
            from edgelab.edge import transposes

            with native_output_silenced():     # TensorFlow's import logs on stderr
                data, removed = transposes.cancel_pairs(data)
        with atomic_path(out_path) as part:
            Path(part).write_bytes(data)
    result = Result(out_path, int8, shapes)
    result.notes = cleanup.notes()
    if removed:
        result.notes.append(transposes.describe_removed(removed))
    return result


_VALUES_HINTS = ("box", "bbox", "coord", "landmark", "keypoint", "embed", "feature", "feat",
                 "regress", "offset", "anchor", "mask", "depth", "heatmap", "loc")


def output_kind(port: Port) -> str:
    """``"classes"`` for a classifier-like output (``[N, K]`` scores or logits, K >= 2,
    whose name does not say boxes, embeddings, ...), else ``"values"`` (maps, boxes, any
    other tensor). :func:`check` judges int8 files by it; ``output_kinds`` overrides."""
    name = port.name.lower()
    if len(port.shape) == 2 and (port.shape[1] is None or port.shape[1] >= 2) \
            and not any(h in name for h in _VALUES_HINTS):
        return "classes"
    return "values"


def _judge(name: str, got: np.ndarray, ref: np.ndarray, *, int8: bool, kind: str,
           step: float | None, tolerance: float | None, result: Result) -> None:
    """Fill ``result``'s figures, rule, verdict and report line for one output."""
    err = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    biggest, mean = float(err.max(initial=0.0)), float(err.mean()) if err.size else 0.0
    result.max_abs_diff[name], result.mean_abs_diff[name] = biggest, mean
    figures = f"max |tflite - onnxruntime| = {biggest:.3g}, mean {mean:.3g}"
    if tolerance is not None or not int8:
        bound = float(tolerance) if tolerance is not None else \
            FLOAT32_TOLERANCE * max(1.0, float(np.max(np.abs(ref), initial=0.0)))
        ok = biggest <= bound
        result.tolerance[name], result.rules[name], result.verdicts[name] = bound, "max", ok
        result.lines[name] = f"{figures} (tolerance {bound:.3g}) {'ok' if ok else 'TOO LARGE'}"
        return
    estimated = step is None
    if estimated:   # a float output of an int8 model: about one 8-bit step of its range
        step = max(float(np.ptp(ref)) if ref.size else 0.0,
                   float(np.max(np.abs(ref), initial=0.0)), 1e-6) / 255
    step_text = f"{step:.2g}" + (" (estimated)" if estimated else "")
    if kind == "classes" and ref.ndim == 2 and ref.shape[1] >= 2:
        top2 = np.sort(ref, axis=1)[:, -2:]
        clear = (top2[:, 1] - top2[:, 0]) > INT8_MARGIN_STEPS * step
        agree = np.argmax(got, axis=1) == np.argmax(ref, axis=1)
        judged, agreed = int(clear.sum()), int((agree & clear).sum())
        result.top1[name] = (int(agree.sum()), judged, len(ref))
        rule = (f"top-1 agreement >= {INT8_TOP1_AGREEMENT:.0%} on inputs whose top-1 leads "
                f"by > {INT8_MARGIN_STEPS:g} steps of {step_text}")
        if judged:
            ok = agreed >= INT8_TOP1_AGREEMENT * judged
            result.rules[name], result.verdicts[name] = "classes", ok
            result.tolerance[name] = float("inf") if ok else 0.0
            result.lines[name] = (
                f"top-1 agrees on {int(agree.sum())} of {len(ref)} inputs ({agreed} of the "
                f"{judged} with a clear winner); {figures} (rule: {rule}) "
                f"{'ok' if ok else 'TOO MANY CLASS FLIPS'}")
            return
        fallback = (f"top-1 agrees on {int(agree.sum())} of {len(ref)} inputs, none with a "
                    "clear winner, so judged by its values; ")
    else:
        fallback = ""
    steps = mean / step
    ok = steps <= INT8_MEAN_STEPS
    result.rules[name], result.verdicts[name] = "values", ok
    result.tolerance[name] = INT8_MEAN_STEPS * step
    result.lines[name] = (f"{fallback}{figures} = {steps:.2g} steps of {step_text} (rule: mean "
                          f"<= {INT8_MEAN_STEPS:g} steps) {'ok' if ok else 'TOO LARGE'}")


def check(result: Result, model_path: str | os.PathLike,
          inputs: Mapping[str, np.ndarray] | np.ndarray | None = None,
          tolerance: float | None = None, *,
          output_kinds: Mapping[str, str] | None = None) -> Result:
    """Run the .tflite and onnxruntime on ``inputs`` (NCHW; random uniform [0, 1) images
    when None) and fill in layouts, TRANSPOSE count and sites, and per output the max and
    mean absolute difference, the rule applied and its verdict.

    A model whose batch is fixed (``torch.onnx.export``'s default ``[1, C, H, W]``) is run a
    batch at a time on both sides.

    Rules. float32 files: max |difference| <= ``FLOAT32_TOLERANCE`` x max(1, max |reference|).
    int8 files, by what a user of the output cares about, in the output's quantization
    steps (its scale, set by calibration; so a near-constant output, such as a 2-class
    softmax near 0.5 or an empty detection map, is not judged by its own tiny range):

    * ``"classes"`` (:func:`output_kind`: ``[N, K]`` scores): top-1 agreement on at least
      ``INT8_TOP1_AGREEMENT`` of the inputs whose reference top-1 leads the runner-up by more
      than ``INT8_MARGIN_STEPS`` steps (a tie within quantization noise is no flip);
      judged by values when no input has such a winner;
    * ``"values"`` (everything else): mean |difference| <= ``INT8_MEAN_STEPS`` steps.

    ``output_kinds`` (``{"logits": "values"}``) overrides :func:`output_kind`;
    ``tolerance`` replaces every rule by max |difference| <= ``tolerance``."""
    from edgelab.edge import inspect

    model = load(model_path)
    ports = {p.name: p for p in graph_outputs(model)}
    kinds = dict(output_kinds or {})
    unknown = sorted(set(kinds) - set(ports))
    if unknown:
        raise ConvertError(f"--output-kind {unknown[0]}: the model has no output of that name; "
                           f"its outputs are {', '.join(ports)}.")
    bad = sorted(v for v in kinds.values() if v not in ("classes", "values"))
    if bad:
        raise ConvertError(f"--output-kind: {bad[0]!r} is not a kind; write NAME:classes or "
                           "NAME:values.")
    runner = TFLiteModel(result.path, graph_inputs(model), graph_outputs(model))
    fixed = static_batch(graph_inputs(model))
    step = max(runner.batch, fixed or 1)
    if inputs is None:
        count = -(-CHECK_EXAMPLES // step) * step
        rng = np.random.default_rng(0)
        inputs = {k: rng.random((count, *v[1:]), dtype=np.float32)
                  for k, v in result.input_shapes.items()}
        result.check_inputs = f"{count} random inputs (uniform in [0, 1))"
    else:
        if not isinstance(inputs, Mapping):
            inputs = {next(iter(result.input_shapes)): np.asarray(inputs, np.float32)}
        n = len(next(iter(inputs.values())))
        if n < step:
            raise ConvertError(f"the model's batch size is fixed to {step}: give at least "
                               f"{step} check inputs, not {n}.")
        if n % step:
            inputs = {k: v[:n - n % step] for k, v in inputs.items()}
        result.check_inputs = f"{len(next(iter(inputs.values())))} given inputs"
    if fixed is not None:
        result.check_inputs += (f", {fixed} at a time (the model's batch size is fixed to "
                                f"{fixed})" if fixed > 1 else
                                ", one at a time (the model's batch size is fixed to 1)")
    reference = onnx_outputs(model_path, inputs)
    got = runner.run(inputs)
    details = {port.name: detail for port, detail, _ in runner.outputs}
    for name, ref in reference.items():
        detail = details.get(name, {})
        scale = detail.get("quantization", (0.0, 0))[0] \
            if np.dtype(detail.get("dtype", np.float32)).kind in "iu" else 0.0
        kind = kinds.get(name) or output_kind(ports[name])
        _judge(name, got[name], ref, int8=result.int8, kind=kind,
               step=float(scale) if scale else None, tolerance=tolerance, result=result)
    result.layouts = runner.layouts()
    info = inspect.read(result.path)
    result.transposes = info.ops_histogram().get("TRANSPOSE", 0)
    result.ops = len(info.layers)
    result.transpose_sites = info.transpose_sites()
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
                                                         fix a dynamic input size first
  edgelab convert model.onnx model.tflite --verbose      show onnx2tf's log as it runs"""


def _exit_status_text() -> str:
    return "exit status:\n" + "\n".join(f"  {code}  {text}" for code, text in
                                         sorted(EXIT_STATUS.items()))


def register(subparsers) -> None:
    """``edgelab convert MODEL.onnx OUT.tflite [--int8 --calibration FILE.npy] [--force]``."""
    import argparse

    p = subparsers.add_parser(
        "convert", help="convert an NCHW ONNX image model to an NHWC .tflite, and check it",
        description="Convert an ONNX image model with NCHW inputs (as PyTorch exports them) "
                    "into a TFLite file with NHWC inputs with onnx2tf, offline. onnx2tf "
                    "converts a cleaned static copy (batch fixed, constants folded, names "
                    "TensorFlow rejects rewritten; the input file is never changed); TRANSPOSE "
                    "pairs that cancel are then removed. Both models run on the same inputs "
                    "and the report gives the layouts, where each remaining TRANSPOSE sits, and "
                    "per output the max and mean difference against onnxruntime with the rule "
                    f"applied: float32, max <= {FLOAT32_TOLERANCE:g} x max(1, |output|); int8, "
                    f"classifier scores [N, K]: top-1 agreement >= {INT8_TOP1_AGREEMENT:.0%} "
                    "where the reference has a clear winner; other outputs: mean error <= "
                    f"{INT8_MEAN_STEPS:g} quantization steps of the output.",
        epilog=CONVERT_EXAMPLES + "\n\n" + _exit_status_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
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
                   help="judge every output by max abs difference <= T instead of the rules")
    p.add_argument("--output-kind", action="append", metavar="NAME:KIND",
                   help="int8 rule for an output: classes (top-1 agreement) or values (mean "
                        "error), e.g. boxes:values (repeatable; default: by shape and name)")
    p.add_argument("--keep-transposes", action="store_true",
                   help="keep TRANSPOSE pairs that cancel (do not rewrite the .tflite)")
    p.add_argument("--no-clean", action="store_true",
                   help="convert the static copy as it is: no constant folding, no renaming")
    p.add_argument("--verbose", action="store_true", help="show onnx2tf's log as it runs")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.set_defaults(func=_cli)


def _load_npy(path: str, what: str) -> np.ndarray:
    p = Path(path)
    if p.is_dir():
        raise ConvertError(f"{what} {path} is a folder; give a .npy file.")
    if not p.is_file():
        raise ConvertError(f"{what} {path}: no such file.")
    try:
        data = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        first = str(err).strip().splitlines()[0][:120] if str(err).strip() else ""
        raise ConvertError(f"{what} {path}: not a readable .npy array ({first}); save it "
                           "with numpy.save.") from None
    if not isinstance(data, np.ndarray) or data.ndim < 2 or not np.issubdtype(data.dtype,
                                                                               np.number):
        raise ConvertError(f"{what} {path}: want a numeric array [N, C, H, W].")
    data = data.astype(np.float32)
    if not np.all(np.isfinite(data)):
        raise ConvertError(f"{what} {path}: holds NaN or infinite values.")
    return data


def _parse_kinds(specs: Sequence[str] | None) -> dict[str, str]:
    kinds = {}
    for spec in specs or ():
        name, sep, kind = spec.rpartition(":")
        if not sep or not name or kind not in ("classes", "values"):
            raise ConvertError(f"--output-kind {spec!r}: write NAME:classes or NAME:values, "
                               "e.g. logits:classes")
        kinds[name] = kind
    return kinds


def _cli(args) -> int:
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")   # before TensorFlow is imported
    warnings.filterwarnings("ignore")
    try:
        return _convert_and_check(args)
    except ConverterFailed as err:
        print(f"edgelab convert: {err}", file=sys.stderr)
        return EXIT_CONVERTER_FAILED
    except ConvertError as err:
        print(f"edgelab convert: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (KeyboardInterrupt, OSError):
        raise                 # the CLI's own handlers: "interrupted", one line for OSError
    except Exception as err:  # noqa: BLE001 - never a traceback; say what broke and where
        where = ""
        tb = err.__traceback__
        while tb is not None:
            if "edgelab" in tb.tb_frame.f_code.co_filename:
                where = f" (in {tb.tb_frame.f_code.co_name})"
            tb = tb.tb_next
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        print(f"edgelab convert: unexpected {type(err).__name__}{where}: {first}. This is a "
              "bug in edgelab: please report it with the command line.", file=sys.stderr)
        return 1


def _convert_and_check(args) -> int:
    if args.calibration and not args.int8:
        raise ConvertError("--calibration is only used with --int8.")
    kinds = _parse_kinds(args.output_kind)
    if args.tolerance is not None and not np.isfinite(args.tolerance):
        raise ConvertError(f"--tolerance {args.tolerance}: give a finite number, e.g. 0.001")
    calibration = _load_npy(args.calibration, "--calibration") if args.calibration else None
    given = _load_npy(args.inputs, "--inputs") if args.inputs else None
    result = convert(args.model, args.out, int8=args.int8, calibration=calibration,
                     input_shapes=parse_shapes(args.input_shape), force=args.force,
                     quiet=not args.verbose, clean_up=not args.no_clean,
                     cancel_transposes=not args.keep_transposes)
    if given is None and calibration is not None:
        given = calibration[:16]
    if given is not None:
        want = next(iter(result.input_shapes.values()))
        if given.shape[1:] != want[1:]:
            raise ConvertError(f"--inputs {args.inputs}: shape {list(given.shape)} does not "
                               f"fit the input {list(want)}.")
    try:
        with native_output_silenced():
            check(result, args.model, given, args.tolerance, output_kinds=kinds)
    except ConvertError:
        raise
    except (ValueError, RuntimeError) as err:   # the interpreter refuses the file
        raise ConverterFailed(f"{args.out} was written but LiteRT cannot run it: "
                              f"{str(err).strip().splitlines()[-1][:200]}; the file is kept "
                              "for edgelab inspect.") from None
    print(result.report())
    if not result.ok:
        print("edgelab convert: the converted model differs from onnxruntime by more than the "
              "rule's tolerance "
              "(see the lines above); the file is kept for inspection (edgelab inspect).",
              file=sys.stderr)
        return EXIT_MISMATCH
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["--onnx2tf-worker"]:
    sys.exit(_onnx2tf_worker(sys.argv[2]))
