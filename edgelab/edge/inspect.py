"""Read a .tflite file someone else built: layer table, summary, drawing, JSON.

A ``.tflite`` file is a FlatBuffer (schema ``tensorflow/lite/schema/schema.fbs``): a list
of operator codes, one or more subgraphs of tensors and operators, and a list of raw
buffers holding the weights. This module parses it with the ``tflite`` package (the
generated Python bindings of that schema) into plain Python objects, so a learner can
answer the questions the source author answered with ``flatc --json`` and Graphviz:
which ops, what kernel sizes, which tensors are quantized how (scale, zero point,
per-tensor or per-channel), where the bytes go, whether BatchNorm and ReLU6 were fused.

::

    from edgelab.edge import inspect
    info = inspect.read("mobilenet_v2_1.0_224_quant.tflite")
    info.layer_table()           # pandas DataFrame, one row per operator
    info.summary()               # dict: sizes, op histogram, fusions, inputs/outputs
    info.to_dot(); info.draw()   # Graphviz text; a matplotlib drawing (no `dot` needed)
    info.to_json()               # flatc-style JSON (defaults=True: as flatc --defaults-json)

The same is on the command line: ``edgelab inspect MODEL.tflite [--json] [--dot F] [--png F]``.

``read`` shows the main subgraph (0); a model may hold more, run by its WHILE, IF and
CALL_ONCE operators (a loop's condition and body; the ``init`` subgraph that sets a
streaming model's resource variables): ``info.subgraphs`` lists them all,
``info.subgraph(i)`` shows subgraph ``i`` through the same methods, and the summary, the
parameter count and the CLI's tables cover every one. Sparse constants (the converter's
EXPERIMENTAL_SPARSITY) and custom operators' options appear in the tables and in the JSON
as ``flatc`` writes them. ``info.transpose_sites()`` says where each TRANSPOSE sits and
which pairs cancel.

Files that carry TFLite metadata and an appended zip (the Coral models) parse the same;
the zip's member names are reported. A file that is not a TFLite FlatBuffer, or is
truncated, raises :class:`TFLiteFormatError` naming the file, and what the file is when
its content says (an ONNX model, a SavedModel, ...: :mod:`edgelab.edge.formats`).
"""

from __future__ import annotations

import collections
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

FILE_IDENTIFIER = b"TFL3"
ACTIVATION_OPS = ("RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH",
                  "HARD_SWISH", "LEAKY_RELU", "PRELU", "GELU", "ELU")
CONV_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "CONV_3D")
# The inverted-residual block: 1x1 expand, depthwise, 1x1 project, add. The depthwise kernel
# may have any size: MobileNet v2 uses 3x3, the AutoML Vision Edge models of the source
# post (like MobileNet v3 and EfficientNet-Lite) also 5x5.
INVERTED_RESIDUAL = (("CONV_2D", "1x1"), ("DEPTHWISE_CONV_2D", None), ("CONV_2D", "1x1"),
                     ("ADD", None))

# Short box labels and colours for the drawing.
_SHORT = {"CONV_2D": "conv", "DEPTHWISE_CONV_2D": "dw conv", "FULLY_CONNECTED": "fc",
          "AVERAGE_POOL_2D": "avg pool", "MAX_POOL_2D": "max pool", "SOFTMAX": "softmax",
          "RESHAPE": "reshape", "ADD": "add", "QUANTIZE": "quantize", "DEQUANTIZE": "dequantize",
          "MEAN": "mean", "CONCATENATION": "concat", "MUL": "mul", "PAD": "pad"}
_COLOURS = {"CONV_2D": "#9ecae1", "DEPTHWISE_CONV_2D": "#a1d99b", "FULLY_CONNECTED": "#fdae6b",
            "ADD": "#fc9272", "AVERAGE_POOL_2D": "#dadaeb", "MAX_POOL_2D": "#dadaeb",
            "MEAN": "#dadaeb", "SOFTMAX": "#fff7bc", "QUANTIZE": "#e0e0e0",
            "DEQUANTIZE": "#e0e0e0", "RESHAPE": "#f0f0f0"}
_DEFAULT_COLOUR = "#f7f7f7"
_NUMPY_TYPES = {"FLOAT32": np.float32, "FLOAT16": np.float16, "FLOAT64": np.float64,
                "INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16, "UINT16": np.uint16,
                "INT32": np.int32, "UINT32": np.uint32, "INT64": np.int64, "UINT64": np.uint64,
                "BOOL": np.bool_}


# Ops that compute each element from the same element of their inputs: they give the same
# values in any layout, so a TRANSPOSE pair around a chain of them can go (see
# TFLiteFile.transpose_pairs; binary ones only with a single-value constant operand).
LAYOUT_FREE_OPS = frozenset({
    "ABS", "CAST", "CEIL", "COS", "DEQUANTIZE", "ELU", "EXP", "FLOOR", "GELU", "HARD_SWISH",
    "LEAKY_RELU", "LOG", "LOGISTIC", "NEG", "QUANTIZE", "RELU", "RELU6", "RELU_0_TO_1",
    "RELU_N1_TO_1", "ROUND", "RSQRT", "SIGN", "SIN", "SQRT", "SQUARE", "TANH",
    "ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "POW", "SQUARED_DIFFERENCE"})


def transpose_text(sites: list[dict], indent: str = "  ") -> str:
    """:meth:`TFLiteFile.transpose_sites` as lines a person reads: where each TRANSPOSE
    sits, and which pairs cancel around layout-free ops."""
    lines = [f"TRANSPOSE ops: {len(sites)}"]
    for site in sites:
        perm = ",".join(map(str, site["perm"])) if site["perm"] else "?"
        after = ", ".join(site["after"]) or "nothing"
        line = f"{indent}#{site['index']} perm [{perm}]: {site['before']} -> TRANSPOSE -> {after}"
        if site["pair"] == "opens":
            partners = ", ".join(f"#{p}" for p in site["partners"])
            between = ", ".join(site["between"]) or "no op"
            line += f"; cancels with {partners} around {between}"
        elif site["pair"] == "closes":
            line += f"; closes the pair opened by #{site['partners'][0]}"
        lines.append(line)
    return "\n".join(lines)


class TFLiteFormatError(ValueError):
    """The file is not a TFLite FlatBuffer, or it is truncated or corrupt."""


# --------------------------------------------------------------------------- data classes

@dataclass(frozen=True)
class Quantization:
    """A tensor's quantization: real = scale * (q - zero_point), per tensor or per channel."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    min: tuple[float, ...] = ()
    max: tuple[float, ...] = ()
    quantized_dimension: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1

    @property
    def granularity(self) -> str:
        return f"per-channel ({len(self.scale)}, axis {self.quantized_dimension})" \
            if self.per_channel else "per-tensor"

    def describe(self, digits: int = 6) -> str:
        """``"per-tensor s=0.0078125 zp=128"``; per channel: the count and the scale range."""
        if not self.scale:
            if self.min:
                return f"min={self.min[0]:.{digits}g} max={self.max[0]:.{digits}g}"
            return ""
        if self.per_channel:
            zps = sorted(set(self.zero_point))
            zp = str(zps[0]) if len(zps) == 1 else f"{zps[0]}..{zps[-1]}"
            return (f"per-channel x{len(self.scale)} s={min(self.scale):.{digits}g}.."
                    f"{max(self.scale):.{digits}g} zp={zp}")
        return f"per-tensor s={self.scale[0]:.{digits}g} zp={self.zero_point[0]}"


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    shape_signature: tuple[int, ...]
    dtype: str                      # the schema's TensorType name: FLOAT32, INT8, UINT8, ...
    buffer: int
    data_bytes: int                 # bytes of constant data (0 for activations)
    quantization: Quantization | None
    # Sparse constant (the converter's EXPERIMENTAL_SPARSITY): the schema's
    # SparsityParameters as flatc writes them; the buffer holds only the stored values.
    sparsity: dict | None = field(default=None, hash=False, compare=False)
    is_variable: bool = False

    @property
    def is_constant(self) -> bool:
        return self.data_bytes > 0

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def shape_text(self) -> str:
        dims = self.shape_signature if self.shape_signature else self.shape
        return "x".join("?" if d < 0 else str(d) for d in dims) or "scalar"

    @property
    def is_sparse(self) -> bool:
        return self.sparsity is not None

    def sparsity_text(self) -> str:
        """``"sparse (CSR on dim 1): 179 of 2,048 values stored (91% zeros)"``, or ""."""
        if self.sparsity is None:
            return ""
        dims = self.sparsity.get("dim_metadata", [])
        order = self.sparsity.get("traversal_order", [])
        csr = [order[i] if i < len(order) else i for i, d in enumerate(dims)
               if d.get("format") == "SPARSE_CSR"]
        block = self.sparsity.get("block_map") or []
        text = "sparse (" + ("CSR on dim " + ",".join(map(str, csr)) if csr else "dense") \
            + (f", {len(block)}-D blocks" if block else "") + ")"
        size = np.dtype(_NUMPY_TYPES[self.dtype]).itemsize if self.dtype in _NUMPY_TYPES else 0
        stored = self.data_bytes // size if size else 0    # the buffer holds the stored values
        if stored:
            text += (f": {stored:,} of {self.elements:,} values stored "
                     f"({1 - stored / max(1, self.elements):.0%} zeros)")
        return text


@dataclass(frozen=True)
class Layer:
    """One operator of the main subgraph, with what a reader wants to know about it."""

    index: int
    op: str
    inputs: tuple[int, ...]          # tensor indices (-1 = optional input left out)
    outputs: tuple[int, ...]
    options_type: str
    options: dict = field(default_factory=dict, hash=False, compare=False)
    kernel: str = ""                 # "3x3" (conv, depthwise, pool), "1024->10" (fully connected)
    stride: str = ""
    padding: str = ""
    activation: str = ""             # fused activation ("" when NONE)
    params: int = 0                  # elements of the constant inputs (weights, bias)
    param_bytes: int = 0
    subgraph: int = 0                # which subgraph the operator belongs to
    custom_options: bytes = field(default=b"", repr=False, hash=False, compare=False)
    calls: tuple[tuple[str, int], ...] = ()   # (role, subgraph index): WHILE, IF, CALL_ONCE...

    def custom_options_text(self, limit: int = 48) -> str:
        """A custom op's options: their size and, when they are a FlexBuffer (the schema's
        only format), the decoded value, shortened to ``limit`` characters."""
        if not self.custom_options:
            return ""
        text = f"custom options: {len(self.custom_options)} bytes"
        value = _flexbuffer(self.custom_options)
        if value is not None:
            shown = repr(value)
            text += " " + (shown if len(shown) <= limit else shown[:limit - 3] + "...")
        return text


@dataclass
class Subgraph:
    """One subgraph of the model: its tensors, operators (:class:`Layer`), inputs, outputs.
    The first is the model's main graph; WHILE, IF and CALL_ONCE operators run the others
    (a loop's condition and body, an ``init`` subgraph that sets resource variables)."""

    index: int
    name: str
    tensors: list[Tensor]
    layers: list[Layer]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    dequantized_from: dict[int, int] = field(default_factory=dict)
    called_as: tuple[str, ...] = ()    # "while body of op #3 in subgraph 0", ...

    @property
    def label(self) -> str:
        return f"subgraph {self.index}" + (f" {self.name!r}" if self.name else "")


def _flexbuffer(data: bytes):
    """The decoded FlexBuffer, or None when ``data`` is not one."""
    try:
        from flatbuffers import flexbuffers

        value = flexbuffers.Loads(bytearray(data))
    except Exception:  # noqa: BLE001 - arbitrary bytes: not a FlexBuffer
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return value


# --------------------------------------------------------------------------- parsing helpers

def _enum_names(cls) -> dict[int, str]:
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


def _camel_to_snake(name: str) -> str:
    """The schema's field name from its generated accessor: ``StrideH`` -> ``stride_h``,
    ``DilationHFactor`` -> ``dilation_h_factor`` (as ``flatc --json`` writes them)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])|(?<=[A-Z])([A-Z])(?=[a-z])", r"_\1\2", name).lower()


_SKIP_SUFFIXES = ("IsNone", "Length", "AsNumpy", "BufferHasIdentifier")


def _table_fields(obj, enums: dict[str, dict[int, str]]) -> dict[str, Any]:
    """Every scalar/vector field of a generated FlatBuffers table object, snake_case keys."""
    out = {}
    cls = type(obj)
    for name in sorted(dir(cls)):
        if name.startswith(("_", "GetRootAs")) or name == "Init" or name.endswith(_SKIP_SUFFIXES):
            continue
        attr = getattr(cls, name)
        if not callable(attr):
            continue
        key = _camel_to_snake(name)
        if hasattr(cls, name + "AsNumpy"):
            value = getattr(obj, name + "AsNumpy")()
            out[key] = [] if isinstance(value, int) else value.tolist()
            continue
        try:
            value = getattr(obj, name)()
        except TypeError:            # a sub-table or a union accessor needing arguments
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif not isinstance(value, (int, float, bool, str)):
            continue
        if key in enums and isinstance(value, int):
            value = enums[key].get(value, value)
        out[key] = value
    return out


class _Schema:
    """The ``tflite`` package, imported on first use, with its enum name tables."""

    def __init__(self):
        import tflite

        self.tflite = tflite
        self.tensor_types = _enum_names(tflite.TensorType)
        self.options_names = _enum_names(tflite.BuiltinOptions)
        self.options2_names = _enum_names(tflite.BuiltinOptions2)
        self.enums = {
            "padding": _enum_names(tflite.Padding),
            "fused_activation_function": _enum_names(tflite.ActivationFunctionType),
            "weights_format": _enum_names(tflite.FullyConnectedOptionsWeightsFormat),
            "quantized_bias_type": self.tensor_types,
            "out_data_type": self.tensor_types,
            "out_type": self.tensor_types,
            "in_data_type": self.tensor_types,
            "output_type": self.tensor_types,
            "idx_out_type": self.tensor_types,
            "kernel_type": _enum_names(tflite.LSTMKernelType),
            "mode": _enum_names(tflite.MirrorPadMode),
            "type": _enum_names(tflite.LSHProjectionType),
        }
        self._defaults: dict[type, dict] = {}

    def op_name(self, code: int) -> str:
        from tflite.utils import BUILTIN_OPCODE2NAME

        return BUILTIN_OPCODE2NAME.get(code, f"BUILTIN_{code}")

    def defaults(self, cls) -> dict:
        """Every field's default: the accessors' answers on an empty table."""
        if cls not in self._defaults:
            import flatbuffers

            builder = flatbuffers.Builder(16)
            builder.StartObject(0)
            builder.Finish(builder.EndObject())
            buf = builder.Output()
            empty = cls()
            empty.Init(buf, struct.unpack_from("<I", buf, 0)[0])   # the root table
            self._defaults[cls] = _table_fields(empty, self.enums)
        return self._defaults[cls]

    def options(self, op, second: bool = False, omit_defaults: bool = False) -> tuple[str, dict]:
        """``(options type name, fields)`` of an operator; ``omit_defaults`` leaves out the
        fields at their default value, as ``flatc --json`` does."""
        kind = op.BuiltinOptions2Type() if second else op.BuiltinOptionsType()
        names = self.options2_names if second else self.options_names
        name = names.get(kind, f"Options{kind}")
        if kind == 0:
            return "NONE", {}
        table = op.BuiltinOptions2() if second else op.BuiltinOptions()
        cls = getattr(self.tflite, name, None)
        if table is None or cls is None:
            return name, {}
        obj = cls()
        obj.Init(table.Bytes, table.Pos)
        fields = _table_fields(obj, self.enums)
        if omit_defaults:
            default = self.defaults(cls)
            fields = {k: v for k, v in fields.items() if default.get(k, object()) != v}
        return name, fields


_SCHEMA: _Schema | None = None


def _schema() -> _Schema:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = _Schema()
    return _SCHEMA


def _np_list(getter, is_none) -> list:
    return [] if is_none() else getter().tolist()


def _quantization(q) -> Quantization | None:
    if q is None:
        return None
    scale = _np_list(q.ScaleAsNumpy, q.ScaleIsNone)
    zp = _np_list(q.ZeroPointAsNumpy, q.ZeroPointIsNone)
    mn = _np_list(q.MinAsNumpy, q.MinIsNone)
    mx = _np_list(q.MaxAsNumpy, q.MaxIsNone)
    if not (scale or mn or mx):
        return None
    return Quantization(tuple(float(s) for s in scale), tuple(int(z) for z in zp),
                        tuple(float(v) for v in mn), tuple(float(v) for v in mx),
                        int(q.QuantizedDimension()))


# Operator options that name another subgraph, with the role shown for it.
_CALL_FIELDS = (("cond_subgraph_index", "cond"), ("body_subgraph_index", "body"),
                ("then_subgraph_index", "then"), ("else_subgraph_index", "else"),
                ("init_subgraph_index", "init"), ("subgraph", "call"),
                ("decomposition_subgraph_index", "decomposition"),
                ("comparator_subgraph_index", "comparator"),
                ("update_computation_subgraph_index", "update"))


def _index_vector(kind: int, table) -> dict | None:
    """A SparseIndexVector union member as flatc writes it: ``{"values": [...]}``."""
    if table is None or not kind:
        return None
    import tflite

    name = {v: k for k, v in vars(tflite.SparseIndexVector).items()
            if not k.startswith("_")}.get(kind)
    cls = getattr(tflite, name, None) if name else None
    if cls is None:
        return None
    vec = cls()
    vec.Init(table.Bytes, table.Pos)
    return {"values": _np_list(vec.ValuesAsNumpy, vec.ValuesIsNone)}


def _sparsity(sp, defaults: bool = False) -> dict | None:
    """A tensor's SparsityParameters in flatc's JSON layout (fields at their default left
    out, as ``flatc --json`` does; all of them with ``defaults``), or None for a dense
    tensor."""
    if sp is None:
        return None
    import tflite

    kinds = {v: k for k, v in vars(tflite.SparseIndexVector).items() if not k.startswith("_")}
    formats = {v: k for k, v in vars(tflite.DimensionType).items() if not k.startswith("_")}
    dims = []
    for i in range(sp.DimMetadataLength()):
        d = sp.DimMetadata(i)
        entry: dict[str, Any] = {}
        if defaults or d.Format():
            entry["format"] = formats.get(d.Format(), d.Format())
        if defaults or d.DenseSize():
            entry["dense_size"] = int(d.DenseSize())
        for field_name, kind, getter in (("array_segments", d.ArraySegmentsType(),
                                          d.ArraySegments),
                                         ("array_indices", d.ArrayIndicesType(),
                                          d.ArrayIndices)):
            if defaults or kind:
                entry[f"{field_name}_type"] = kinds.get(kind, kind)
            if kind:
                entry[field_name] = _index_vector(kind, getter())
        dims.append(entry)
    out: dict[str, Any] = {}
    if not sp.TraversalOrderIsNone():
        out["traversal_order"] = sp.TraversalOrderAsNumpy().tolist()
    if not sp.BlockMapIsNone():
        out["block_map"] = sp.BlockMapAsNumpy().tolist()
    if not sp.DimMetadataIsNone():
        out["dim_metadata"] = dims
    return out


def _buffer_size(buf, data: bytes) -> int:
    """Bytes of constant data of one Buffer table, checked to lie inside the file."""
    if not buf.DataIsNone():
        n = buf.DataLength()
        if n:
            buf.DataAsNumpy()  # np.frombuffer raises if the vector runs past the end of the file
        return n
    size = buf.Size() if hasattr(buf, "Size") else 0
    if size:  # data stored outside the FlatBuffer (models over 2 GB): offset from file start
        if buf.Offset() + size > len(data):
            raise TFLiteFormatError(f"buffer data at {buf.Offset()}+{size} lies past the end")
        return size
    return 0


# --------------------------------------------------------------------------- the model

class TFLiteFile:
    """A parsed .tflite file (main subgraph). Build it with :func:`read`."""

    def __init__(self, data: bytes, source: str = "<bytes>"):
        self.source = source
        self.name = Path(source).name if source != "<bytes>" else source
        self.file_bytes = len(data)
        self._data = data
        _check_identifier(data, source)
        try:
            self._parse(data)
        except TFLiteFormatError as err:
            raise TFLiteFormatError(
                f"{source}: truncated or corrupt TFLite file ({err}).") from None
        except (struct.error, IndexError, ValueError, TypeError, UnicodeDecodeError,
                RecursionError, AttributeError) as err:
            raise TFLiteFormatError(
                f"{source}: truncated or corrupt TFLite file ({err}). "
                "Re-download or re-export the model.") from None

    # -- parsing ------------------------------------------------------------------------
    def _parse(self, data: bytes) -> None:
        schema = _schema()
        tfl = schema.tflite
        model = tfl.Model.GetRootAs(data, 0)
        self._model = model
        self.version = int(model.Version())
        self.description = (model.Description() or b"").decode("utf-8", "replace")
        self.subgraph_count = model.SubgraphsLength()
        if self.subgraph_count < 1:
            raise TFLiteFormatError("the model has no subgraph")
        self.buffer_bytes = [_buffer_size(model.Buffers(i), data)
                             for i in range(model.BuffersLength())]
        self.operator_codes = []
        for i in range(model.OperatorCodesLength()):
            oc = model.OperatorCodes(i)
            code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
            name = schema.op_name(code)
            if name == "CUSTOM":
                name = f"CUSTOM:{(oc.CustomCode() or b'?').decode('utf-8', 'replace')}"
            self.operator_codes.append((name, int(oc.Version())))
        self.metadata = {}
        for i in range(model.MetadataLength()):
            md = model.Metadata(i)
            key = (md.Name() or b"").decode("utf-8", "replace")
            b = md.Buffer()
            raw = model.Buffers(b).DataAsNumpy() if b < model.BuffersLength() \
                and not model.Buffers(b).DataIsNone() else np.zeros(0, np.uint8)
            raw = bytes(raw) if not isinstance(raw, int) else b""
            text = raw.rstrip(b"\0")
            self.metadata[key] = text.decode() if key == "min_runtime_version" and text.isascii() \
                else f"{len(raw)} bytes"
        self.signatures = []
        for i in range(model.SignatureDefsLength()):
            sd = model.SignatureDefs(i)
            self.signatures.append({
                "key": (sd.SignatureKey() or b"").decode(),
                "inputs": {sd.Inputs(j).Name().decode(): int(sd.Inputs(j).TensorIndex())
                           for j in range(sd.InputsLength())},
                "outputs": {sd.Outputs(j).Name().decode(): int(sd.Outputs(j).TensorIndex())
                            for j in range(sd.OutputsLength())},
                "subgraph_index": int(sd.SubgraphIndex()),
            })
        self.subgraphs = [self._parse_subgraph(model, g) for g in range(self.subgraph_count)]
        for sg in self.subgraphs:
            for layer in sg.layers:
                for role, target in layer.calls:
                    if not 0 <= target < self.subgraph_count:
                        raise TFLiteFormatError(f"operator {layer.index} of subgraph {sg.index} "
                                                f"calls missing subgraph {target}")
                    self.subgraphs[target].called_as += (
                        f"{role} of {layer.op} #{layer.index}"
                        + (f" in subgraph {sg.index}" if sg.index else ""),)
        self._use(self.subgraphs[0])
        self.associated_files = _appended_zip_names(data, self._buffers_end(model))

    @staticmethod
    def _buffers_end(model) -> int:
        """File offset just past the last byte of buffer data inside the FlatBuffer."""
        end = 0
        for i in range(model.BuffersLength()):
            tab = model.Buffers(i)._tab       # generated FlatBuffers accessor, public in practice
            o = tab.Offset(4)                 # field 0 of Buffer: data
            if o:
                end = max(end, tab.Vector(o) + tab.VectorLen(o))
        return end

    def _parse_subgraph(self, model, g: int) -> Subgraph:
        graph = model.Subgraphs(g)
        self.tensors = [self._tensor(graph.Tensors(i), i) for i in range(graph.TensorsLength())]
        # float16 models store weights as FLOAT16 constants feeding DEQUANTIZE ops; the
        # layers that use them see a float32 activation. Remember where each came from.
        self.dequantized_from = {}
        self.layers = []
        for i in range(graph.OperatorsLength()):
            layer = self._layer(graph.Operators(i), i, g)
            self.layers.append(layer)
            if (layer.op == "DEQUANTIZE" and layer.inputs
                    and self.tensors[layer.inputs[0]].is_constant):
                self.dequantized_from[layer.outputs[0]] = layer.inputs[0]
        inputs = tuple(int(i) for i in _np_list(graph.InputsAsNumpy, graph.InputsIsNone))
        outputs = tuple(int(i) for i in _np_list(graph.OutputsAsNumpy, graph.OutputsIsNone))
        for t in inputs + outputs:
            if not 0 <= t < len(self.tensors):
                raise TFLiteFormatError(f"graph input/output {t} of subgraph {g} is not a tensor")
        return Subgraph(g, (graph.Name() or b"").decode("utf-8", "replace"), self.tensors,
                        self.layers, inputs, outputs, self.dequantized_from)

    def _use(self, sg: Subgraph) -> None:
        """Point the graph attributes (tensors, layers, inputs, outputs) at ``sg``."""
        self.subgraph_index = sg.index
        self.subgraph_name = sg.name
        self.tensors, self.layers = sg.tensors, sg.layers
        self.inputs, self.outputs = sg.inputs, sg.outputs
        self.dequantized_from = sg.dequantized_from

    def subgraph(self, index: int) -> "TFLiteFile":
        """This file seen through subgraph ``index``: the same object's methods
        (``layer_table()``, ``ops_histogram()``, ``to_dot()``, ``draw()``...) answer for that
        subgraph. ``read(path)`` itself shows subgraph 0, the main graph."""
        import copy

        if not 0 <= index < self.subgraph_count:
            raise IndexError(f"{self.name} has {self.subgraph_count} subgraph(s); no {index}")
        view = copy.copy(self)
        view._use(self.subgraphs[index])
        return view

    def _tensor(self, t, index: int) -> Tensor:
        buffer = int(t.Buffer())
        if not 0 <= buffer < max(1, len(self.buffer_bytes)):
            raise TFLiteFormatError(f"tensor {index} points at missing buffer {buffer}")
        return Tensor(
            index=index, name=(t.Name() or b"").decode("utf-8", "replace"),
            shape=tuple(int(d) for d in _np_list(t.ShapeAsNumpy, t.ShapeIsNone)),
            shape_signature=tuple(int(d) for d in _np_list(t.ShapeSignatureAsNumpy,
                                                           t.ShapeSignatureIsNone)),
            dtype=_schema().tensor_types.get(int(t.Type()), f"TYPE_{t.Type()}"),
            buffer=buffer, data_bytes=self.buffer_bytes[buffer] if self.buffer_bytes else 0,
            quantization=_quantization(t.Quantization()),
            sparsity=_sparsity(t.Sparsity()), is_variable=bool(t.IsVariable()))

    def _layer(self, op, index: int, subgraph: int = 0) -> Layer:
        schema = _schema()
        code = int(op.OpcodeIndex())
        if not 0 <= code < len(self.operator_codes):
            raise TFLiteFormatError(f"operator {index} uses missing operator code {code}")
        name = self.operator_codes[code][0]
        inputs = tuple(int(i) for i in _np_list(op.InputsAsNumpy, op.InputsIsNone))
        outputs = tuple(int(i) for i in _np_list(op.OutputsAsNumpy, op.OutputsIsNone))
        for t in inputs + outputs:
            if not -1 <= t < len(self.tensors):
                raise TFLiteFormatError(f"operator {index} refers to missing tensor {t}")
        opt_type, opts = schema.options(op)
        if opt_type == "NONE" and hasattr(op, "BuiltinOptions2Type"):
            opt2_type, opts2 = schema.options(op, second=True)
            if opt2_type != "NONE":
                opt_type, opts = opt2_type, opts2
        consts = [self.tensors[i] for i in inputs if i >= 0 and self.tensors[i].is_constant]
        kernel = ""
        weights = self._weights([i for i in inputs if i >= 0])
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV") and weights is not None \
                and len(weights.shape) == 4:
            kernel = f"{weights.shape[1]}x{weights.shape[2]}"
        elif "filter_height" in opts:
            kernel = f"{opts['filter_height']}x{opts['filter_width']}"
        elif name == "FULLY_CONNECTED" and weights is not None:
            kernel = f"{weights.shape[-1]}->{weights.shape[0]}"
        stride = f"{opts['stride_h']}x{opts['stride_w']}" if "stride_h" in opts else ""
        act = str(opts.get("fused_activation_function", ""))   # a number if not in the enum
        custom = b""
        if not op.CustomOptionsIsNone():
            custom = op.CustomOptionsAsNumpy().tobytes()
        elif hasattr(op, "LargeCustomOptionsSize") and op.LargeCustomOptionsSize():
            start, size = int(op.LargeCustomOptionsOffset()), int(op.LargeCustomOptionsSize())
            if start + size > len(self._data):
                raise TFLiteFormatError(f"operator {index}'s custom options lie past the end")
            custom = bytes(self._data[start:start + size])
        calls = tuple((role, int(opts[key])) for key, role in _CALL_FIELDS
                      if isinstance(opts.get(key), int) and not isinstance(opts.get(key), bool)
                      and (key != "subgraph" or name == "CALL"))
        return Layer(index=index, op=name, inputs=inputs, outputs=outputs, options_type=opt_type,
                     options=opts, kernel=kernel, stride=stride, padding=opts.get("padding", ""),
                     activation="" if act in ("", "NONE") else act,
                     params=sum(t.elements for t in consts),
                     param_bytes=sum(t.data_bytes for t in consts), subgraph=subgraph,
                     custom_options=custom, calls=calls)

    # -- graph helpers ------------------------------------------------------------------
    def activation_inputs(self, layer: Layer) -> list[int]:
        """The non-constant input tensors of a layer (what flows in from other layers)."""
        return [i for i in layer.inputs if i >= 0 and not self.tensors[i].is_constant]

    def producers(self) -> dict[int, int]:
        """tensor index -> index of the layer that writes it."""
        return {t: layer.index for layer in self.layers for t in layer.outputs}

    def consumers(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = collections.defaultdict(list)
        for layer in self.layers:
            for t in self.activation_inputs(layer):
                out[t].append(layer.index)
        return out

    def depths(self) -> list[int]:
        """Longest path (in layers) from a graph input to each layer; operators are stored
        in execution order, so one forward pass suffices."""
        producer = self.producers()
        depth = [0] * len(self.layers)
        for layer in self.layers:
            prev = [depth[producer[t]] + 1 for t in self.activation_inputs(layer) if t in producer]
            depth[layer.index] = max(prev, default=0)
        return depth

    # -- tables -------------------------------------------------------------------------
    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def tensor_data(self, index: int) -> np.ndarray:
        """The constant data of a tensor as a NumPy array of its dtype and shape (the stored
        integers for a quantized tensor: multiply by ``scale`` after subtracting
        ``zero_point`` to get real values)."""
        t = self.tensors[index]
        if not t.is_constant:
            raise ValueError(f"tensor {index} ({t.name!r}) is an activation; it has no stored data")
        if t.dtype not in _NUMPY_TYPES:
            raise ValueError(f"tensor {index} has type {t.dtype}, which has no NumPy "
                             "equivalent here")
        raw = self._model.Buffers(t.buffer).DataAsNumpy()
        return np.frombuffer(raw.tobytes(), dtype=_NUMPY_TYPES[t.dtype]).reshape(t.shape)

    def dequantized(self, index: int) -> np.ndarray:
        """Real values of a constant tensor: ``scale * (q - zero_point)`` along the
        quantized dimension when quantized, the data itself otherwise."""
        data = self.tensor_data(index)
        q = self.tensors[index].quantization
        if q is None or not q.scale:
            return data.astype(np.float32)
        shape = [1] * data.ndim
        if q.per_channel:
            shape[q.quantized_dimension] = len(q.scale)
        scale = np.asarray(q.scale, np.float32).reshape(shape if q.per_channel else [])
        zero = np.asarray(q.zero_point or [0], np.float32).reshape(
            shape if q.per_channel and len(q.zero_point) > 1 else [])
        return (data.astype(np.float32) - zero) * scale

    def _weights(self, inputs: Sequence[int]) -> Tensor | None:
        consts = [self.tensors[self.dequantized_from.get(i, i)] for i in inputs]
        consts = [t for t in consts if t.is_constant and len(t.shape) >= 2]
        return max(consts, key=lambda t: (len(t.shape), t.elements), default=None)

    def weights_of(self, layer: Layer | int) -> Tensor | None:
        """The main constant input (the kernel, at least 2-D) of a layer, if any; for a
        float16 model, the FLOAT16 constant behind the DEQUANTIZE that feeds the layer."""
        layer = self.layers[layer] if isinstance(layer, int) else layer
        return self._weights([i for i in layer.inputs if i >= 0])

    def layer_rows(self) -> list[dict]:
        """One dict per layer (the rows of :meth:`layer_table`)."""
        rows = []
        for layer in self.layers:
            acts = self.activation_inputs(layer)
            src = self.tensors[acts[0]] if acts else None
            out = self.tensors[layer.outputs[0]] if layer.outputs else None
            w = self.weights_of(layer)
            rows.append({
                "index": layer.index, "op": layer.op, "kernel": layer.kernel,
                "stride": layer.stride, "activation": layer.activation,
                "input": src.shape_text if src else "", "output": out.shape_text if out else "",
                "dtype": out.dtype if out else "", "weights dtype": w.dtype if w else "",
                "params": layer.params,
                "weight quantization": w.quantization.describe(4) if w and w.quantization else "",
                "output quantization": out.quantization.describe(4)
                if out and out.quantization else "",
            })
            if self._has_notes():
                rows[-1]["notes"] = self.layer_notes(layer)
        return rows

    def _has_notes(self) -> bool:
        """Whether any operator of the file has something for the "notes" column (sparse
        constants, custom options, calls to other subgraphs): the column is left out of
        the tables of files that have none."""
        if not hasattr(self, "_notes_cache"):
            self._notes_cache = any(self._notes_of(sg, layer) for sg in self.subgraphs
                                    for layer in sg.layers)
        return self._notes_cache

    def _notes_of(self, sg: "Subgraph", layer: Layer) -> str:
        notes = []
        for i in layer.inputs:
            if i >= 0 and sg.tensors[i].is_sparse:
                notes.append(f"input #{i} {sg.tensors[i].sparsity_text()}")
        if layer.custom_options:
            notes.append(layer.custom_options_text())
        if layer.calls:
            notes.append("runs " + ", ".join(f"subgraph {target} ({role})"
                                             for role, target in layer.calls))
        return "; ".join(notes)

    def layer_notes(self, layer: Layer | int) -> str:
        """What the layer table's "notes" column says about a layer: sparse constant inputs,
        a custom op's options, the subgraphs a WHILE, IF or CALL_ONCE runs."""
        layer = self.layers[layer] if isinstance(layer, int) else layer
        return self._notes_of(self.subgraphs[layer.subgraph], layer)

    def layer_table(self, subgraph: int | None = None):
        """A pandas DataFrame with one row per operator (index, op, kernel, shapes, dtype,
        parameters, quantization of weights and output; a "notes" column when the file has
        sparse tensors, custom ops or control flow). ``subgraph``: which subgraph (default:
        the one this object shows, the main graph for :func:`read`)."""
        import pandas as pd

        source = self if subgraph is None else self.subgraph(subgraph)
        columns = ["index", "op", "kernel", "stride", "activation", "input", "output", "dtype",
                   "weights dtype", "params", "weight quantization", "output quantization"]
        if source._has_notes():
            columns.append("notes")
        return pd.DataFrame(source.layer_rows(), columns=columns).set_index("index")

    def ops_histogram(self) -> dict[str, int]:
        """Operator name -> count, most frequent first (ties by name)."""
        counts = collections.Counter(layer.op for layer in self.layers)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def io_details(self) -> dict[str, list[dict]]:
        """Shape, dtype and quantization of the graph inputs and outputs."""
        def one(i):
            t = self.tensors[i]
            q = t.quantization
            return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype,
                    "scale": q.scale[0] if q and q.scale else None,
                    "zero_point": q.zero_point[0] if q and q.zero_point else None}
        return {"inputs": [one(i) for i in self.inputs], "outputs": [one(i) for i in self.outputs]}

    # -- TRANSPOSE ops ------------------------------------------------------------------
    def _perm(self, layer: Layer) -> tuple[int, ...] | None:
        if layer.op != "TRANSPOSE" or len(layer.inputs) < 2 or layer.inputs[1] < 0 \
                or not self.tensors[layer.inputs[1]].is_constant:
            return None
        try:
            return tuple(int(v) for v in self.tensor_data(layer.inputs[1]).ravel())
        except ValueError:
            return None

    def transpose_pairs(self) -> list[tuple[int, tuple[int, ...], tuple[int, ...]]]:
        """TRANSPOSE ops that cancel: ``(opening, closing TRANSPOSEs, ops between)``.

        The ops between are layout-free (elementwise: activations, and ADD/MUL/SUB/DIV...
        whose other input is one of them or a single-value constant) and everything they
        produce ends in a TRANSPOSE with the inverse permutation, so the opening TRANSPOSE,
        the closing ones and the detour in between can go: the ops compute the same
        values in the original layout."""
        consumers = self.consumers()
        pairs = []
        for layer in self.layers:
            perm = self._perm(layer)
            if perm is None or not layer.outputs:
                continue
            found = self._cancelling_region(layer, perm, consumers)
            if found is not None:
                pairs.append((layer.index, *found))
        return pairs

    def _cancelling_region(self, opening: Layer, perm, consumers):
        start = opening.outputs[0]
        region_ops: list[int] = []
        region_tensors = {start}
        closers: list[int] = []
        frontier = [start]
        while frontier:
            t = frontier.pop()
            if t in self.outputs or not consumers.get(t):
                return None            # a graph output (or a dead end) needs this layout
            for c in consumers[t]:
                if c in region_ops or c in closers:
                    continue
                layer = self.layers[c]
                back = self._perm(layer)
                if back is not None and layer.inputs[0] == t and len(back) == len(perm) \
                        and all(perm[back[i]] == i for i in range(len(perm))):
                    closers.append(c)
                    continue
                if layer.op not in LAYOUT_FREE_OPS:
                    return None
                region_ops.append(c)
                for o in layer.outputs:
                    region_tensors.add(o)
                    frontier.append(o)
        if not closers:
            return None
        for c in region_ops:
            for i in self.layers[c].inputs:
                if i < 0 or i in region_tensors:
                    continue
                t = self.tensors[i]
                if not (t.is_constant and t.elements <= 1):
                    return None
        return tuple(sorted(closers)), tuple(sorted(region_ops))

    def transpose_sites(self) -> list[dict]:
        """Where each TRANSPOSE sits: its permutation, the op before it and those after it,
        and, for the ones that cancel (:meth:`transpose_pairs`), their partner and the
        layout-free ops between. One dict per TRANSPOSE, in execution order."""
        producer, consumers = self.producers(), self.consumers()
        paired: dict[int, tuple[str, tuple[int, ...], tuple[int, ...]]] = {}
        for opening, closers, between in self.transpose_pairs():
            paired[opening] = ("opens", closers, between)
            for c in closers:
                paired.setdefault(c, ("closes", (opening,), between))

        def name(i: int) -> str:
            return f"{self.layers[i].op} #{i}"

        sites = []
        for layer in self.layers:
            if layer.op != "TRANSPOSE":
                continue
            src = layer.inputs[0] if layer.inputs else -1
            before = name(producer[src]) if src in producer else (
                f"input {self.tensors[src].name!r}" if src in self.inputs else "a constant")
            after = [name(c) for t in layer.outputs for c in consumers.get(t, [])]
            after += [f"output {self.tensors[t].name!r}" for t in layer.outputs
                      if t in self.outputs]
            role, partners, between = paired.get(layer.index, ("", (), ()))
            sites.append({"index": layer.index, "perm": list(self._perm(layer) or ()),
                          "before": before, "after": after, "pair": role,
                          "partners": list(partners), "between": [name(i) for i in between]})
        return sites

    # -- fusion checks ------------------------------------------------------------------
    def fused_activations(self) -> dict[str, int]:
        """Activation name -> number of layers that carry it fused (no separate op)."""
        counts = collections.Counter(layer.activation for layer in self.layers if layer.activation)
        return dict(sorted(counts.items()))

    def standalone_activations(self) -> dict[str, int]:
        counts = collections.Counter(layer.op for layer in self.layers
                                     if layer.op in ACTIVATION_OPS)
        return dict(sorted(counts.items()))

    def batchnorm_like_ops(self) -> list[int]:
        """Layers that look like an unfolded BatchNorm: a MUL/ADD/SUB of a convolution's
        output with a constant per-channel vector. Empty when BatchNorm was folded into the
        convolution weights and bias (what the TFLite converter does)."""
        producer = self.producers()
        found = []
        for layer in self.layers:
            if layer.op not in ("MUL", "ADD", "SUB"):
                continue
            acts = self.activation_inputs(layer)
            consts = [self.tensors[i] for i in layer.inputs
                      if i >= 0 and self.tensors[i].is_constant]
            if len(acts) != 1 or len(consts) != 1 or acts[0] not in producer:
                continue
            src = self.layers[producer[acts[0]]]
            channels = self.tensors[acts[0]].shape[-1:] or (0,)
            if src.op in CONV_OPS and consts[0].elements == channels[0]:
                found.append(layer.index)
        return found

    def batchnorm_folded(self) -> bool:
        return not self.batchnorm_like_ops()

    def find_chains(self, pattern: Sequence[tuple[str, Any]]) -> list[tuple[int, ...]]:
        """Runs of layers matching ``pattern``, each layer consuming the previous one's
        output. ``pattern`` is a sequence of ``(op, kernel)`` pairs, where ``kernel`` is a
        kernel size (``"3x3"``), a collection of them (``("3x3", "5x5")``) or ``None`` for
        any. Returns tuples of layer indices."""
        consumers = self.consumers()
        matches = []

        def ok(layer: Layer, want) -> bool:
            op, kernel = want
            if layer.op != op:
                return False
            if kernel is None:
                return True
            return layer.kernel == kernel if isinstance(kernel, str) else layer.kernel in kernel

        def extend(chain: list[int], k: int):
            if k == len(pattern):
                matches.append(tuple(chain))
                return
            last = self.layers[chain[-1]]
            for t in last.outputs:
                for nxt in consumers.get(t, []):
                    if ok(self.layers[nxt], pattern[k]):
                        extend(chain + [nxt], k + 1)

        for layer in self.layers:
            if ok(layer, pattern[0]):
                extend([layer.index], 1)
        return matches

    def inverted_residuals(self, depthwise_kernels: Iterable[str] | None = None
                           ) -> list[tuple[int, ...]]:
        """Inverted-residual blocks with a skip connection: (expand 1x1, depthwise, project
        1x1, add), where the add also takes the block's input. ``depthwise_kernels``: the
        kernel sizes to accept (default: any, so 3x3 and 5x5 blocks are both found)."""
        pattern = INVERTED_RESIDUAL
        if depthwise_kernels is not None:
            kernels = (depthwise_kernels,) if isinstance(depthwise_kernels, str) \
                else tuple(depthwise_kernels)
            pattern = (pattern[0], ("DEPTHWISE_CONV_2D", kernels), *pattern[2:])
        blocks = []
        for chain in self.find_chains(pattern):
            expand, add = self.layers[chain[0]], self.layers[chain[-1]]
            if self.activation_inputs(expand)[0] in self.activation_inputs(add):
                blocks.append(chain)
        return blocks

    # -- summary ------------------------------------------------------------------------
    def parameter_count(self) -> int:
        """Elements of all constant tensors of every subgraph (each tensor counted once; a
        buffer that tensors of several subgraphs share, once). A sparse tensor counts with
        its dense size."""
        total, seen = 0, set()
        for sg in self.subgraphs:
            for t in sg.tensors:
                if t.is_constant and (sg.index == 0 or t.buffer not in seen):
                    total += t.elements
            seen |= {t.buffer for t in sg.tensors if t.is_constant}
        return total

    def parameter_bytes(self) -> int:
        """Bytes of constant data referenced by the tensors of every subgraph (weights,
        biases, shapes), each buffer once."""
        seen = {t.buffer for sg in self.subgraphs for t in sg.tensors if t.is_constant}
        return sum(self.buffer_bytes[b] for b in seen)

    def dtypes(self) -> dict[str, int]:
        """Tensor dtype -> number of tensors of that type."""
        counts = collections.Counter(t.dtype for t in self.tensors)
        return dict(sorted(counts.items()))

    def sparse_tensors(self) -> list[Tensor]:
        """The sparse constant tensors of every subgraph."""
        return [t for sg in self.subgraphs for t in sg.tensors if t.is_sparse]

    def custom_ops(self) -> dict[str, int]:
        """Custom op name -> number of operators using it, over every subgraph."""
        counts = collections.Counter(layer.op for sg in self.subgraphs for layer in sg.layers
                                     if layer.op.startswith("CUSTOM"))
        return dict(sorted(counts.items()))

    def subgraph_rows(self) -> list[dict]:
        """One dict per subgraph: index, name, what runs it, layers, tensors, ops."""
        rows = []
        for sg in self.subgraphs:
            counts = collections.Counter(layer.op for layer in sg.layers)
            rows.append({"index": sg.index, "name": sg.name, "called_as": list(sg.called_as),
                         "layers": len(sg.layers), "tensors": len(sg.tensors),
                         "inputs": len(sg.inputs), "outputs": len(sg.outputs),
                         "ops": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))})
        return rows

    def summary(self) -> dict[str, Any]:
        """What a reader checks first: sizes, op histogram, dtypes, fusions, inputs/outputs.
        ``layers``, ``tensors``, ``ops`` and the inputs and outputs are the main subgraph's;
        ``subgraph_list`` describes every subgraph, ``parameters`` counts them all."""
        pbytes = self.parameter_bytes()
        return {
            "file": self.name, "file_bytes": self.file_bytes, "schema_version": self.version,
            "description": self.description, "subgraphs": self.subgraph_count,
            "layers": len(self.layers), "tensors": len(self.tensors),
            "parameters": self.parameter_count(), "parameter_bytes": pbytes,
            "other_bytes": self.file_bytes - pbytes,
            "ops": self.ops_histogram(), "tensor_dtypes": self.dtypes(),
            "fused_activations": self.fused_activations(),
            "standalone_activations": self.standalone_activations(),
            "batchnorm_folded": self.batchnorm_folded(),
            **self.io_details(),
            "metadata": dict(self.metadata), "associated_files": list(self.associated_files),
            "subgraph_list": self.subgraph_rows(),
            "sparse_tensors": [{"subgraph": sg.index, "tensor": t.index, "name": t.name,
                                "shape": list(t.shape), "sparsity": t.sparsity_text()}
                               for sg in self.subgraphs for t in sg.tensors if t.is_sparse],
            "custom_ops": self.custom_ops(),
        }

    def summary_text(self) -> str:
        """The summary as a few readable lines (what the CLI prints)."""
        s = self.summary()
        io_line = lambda d: f"{d['name']} {d['shape']} {d['dtype']}" + (
            f" (scale {d['scale']:.6g}, zero point {d['zero_point']})" if d["scale"] else "")
        ops_text = lambda ops: ", ".join(f"{k} x{v}" for k, v in ops.items()) or "none"
        if s["subgraphs"] == 1:
            lines = [
                f"{s['file']}: {s['file_bytes']:,} bytes, TFLite schema v{s['schema_version']}, "
                f"{s['subgraphs']} subgraph(s), {s['layers']} layers, {s['tensors']} tensors"]
        else:
            rows = s["subgraph_list"]
            lines = [
                f"{s['file']}: {s['file_bytes']:,} bytes, TFLite schema v{s['schema_version']}, "
                f"{s['subgraphs']} subgraphs, {sum(r['layers'] for r in rows)} layers and "
                f"{sum(r['tensors'] for r in rows)} tensors in all"]
            for r in rows:
                name = f" {r['name']!r}" if r["name"] else ""
                role = f" ({'; '.join(r['called_as'])})" if r["called_as"] else \
                    ("" if r["index"] == 0 else " (not called by any op)")
                lines.append(f"subgraph {r['index']}{name}{role}: {r['layers']} layers, "
                             f"{r['tensors']} tensors; ops: {ops_text(r['ops'])}")
        lines += [
            f"parameters: {s['parameters']:,} in {s['parameter_bytes']:,} bytes of constant data "
            f"({s['parameter_bytes'] / max(1, s['file_bytes']):.1%} of the file)",
            ("ops: " if s["subgraphs"] == 1 else "ops (subgraph 0): ") + ops_text(s["ops"]),
            "tensor dtypes: " + ", ".join(f"{k} x{v}" for k, v in s["tensor_dtypes"].items()),
            "fused activations: "
            + (", ".join(f"{k} x{v}" for k, v in s["fused_activations"].items()) or "none")
            + "; standalone activation ops: " + (", ".join(
                f"{k} x{v}" for k, v in s["standalone_activations"].items()) or "none"),
            f"BatchNorm folded into convolutions: {'yes' if s['batchnorm_folded'] else 'no'}",
        ]
        for t in s["sparse_tensors"]:
            where = f"subgraph {t['subgraph']} " if s["subgraphs"] > 1 else ""
            lines.append(f"sparse tensor: {where}#{t['tensor']} {t['name']!r} "
                         f"{'x'.join(map(str, t['shape']))}, {t['sparsity']}")
        if s["custom_ops"]:
            lines.append("custom ops: " + ops_text(s["custom_ops"]))
        lines += [f"input:  {io_line(d)}" for d in s["inputs"]]
        lines += [f"output: {io_line(d)}" for d in s["outputs"]]
        if s["metadata"]:
            lines.append("metadata: " + ", ".join(f"{k} ({v})" for k, v in s["metadata"].items()))
        if s["associated_files"]:
            lines.append("appended zip: " + ", ".join(s["associated_files"]))
        return "\n".join(lines)

    # -- JSON ---------------------------------------------------------------------------
    def to_dict(self, include_data: bool = False, defaults: bool = False) -> dict[str, Any]:
        """The whole model in the layout of ``flatc --json``: see :meth:`_to_dict`.
        A field that cannot be read (a corrupt file) raises :class:`TFLiteFormatError`."""
        try:
            return self._to_dict(include_data, defaults)
        except (struct.error, IndexError, ValueError, TypeError, UnicodeDecodeError,
                AttributeError, RecursionError) as err:
            if isinstance(err, TFLiteFormatError):
                raise
            raise TFLiteFormatError(f"{self.source}: truncated or corrupt TFLite file ({err}). "
                                    "Re-download or re-export the model.") from None

    def _to_dict(self, include_data: bool = False, defaults: bool = False) -> dict[str, Any]:
        """The whole model in the layout of ``flatc --json`` (same field names, enums by name).

        ``defaults``: plain ``flatc --json`` leaves out every field that holds its default
        value (``padding: SAME``, ``fused_activation_function: NONE``, a
        ``quantized_dimension`` of 0, ...), and so does this by default; ``flatc --json
        --defaults-json`` (what the source author ran) writes them all, and so does
        ``defaults=True``, for operator options and quantization. Buffers give ``data``
        only with ``include_data=True``; otherwise their size as ``data_bytes`` (flatc's
        byte lists make a 3 MB model a 15 MB JSON file)."""
        schema = _schema()
        model = self._model
        codes = []
        for i in range(model.OperatorCodesLength()):
            oc = model.OperatorCodes(i)
            entry = {"deprecated_builtin_code": int(oc.DeprecatedBuiltinCode()),
                     "version": int(oc.Version()),
                     "builtin_code": schema.op_name(int(oc.BuiltinCode()))}
            if oc.CustomCode():
                entry["custom_code"] = oc.CustomCode().decode("utf-8", "replace")
            codes.append(entry)
        subgraphs = []
        for g in range(model.SubgraphsLength()):
            graph = model.Subgraphs(g)
            tensors = []
            for i in range(graph.TensorsLength()):
                t = graph.Tensors(i)
                entry = {"shape": _np_list(t.ShapeAsNumpy, t.ShapeIsNone),
                         "type": schema.tensor_types.get(int(t.Type()), int(t.Type())),
                         "buffer": int(t.Buffer()),
                         "name": (t.Name() or b"").decode("utf-8", "replace")}
                q = _quantization(t.Quantization())
                if q is not None:
                    entry["quantization"] = {k: v for k, v in (
                        ("min", list(q.min)), ("max", list(q.max)), ("scale", list(q.scale)),
                        ("zero_point", list(q.zero_point))) if v}
                    if defaults or q.quantized_dimension:
                        entry["quantization"]["quantized_dimension"] = q.quantized_dimension
                if defaults or t.IsVariable():
                    entry["is_variable"] = bool(t.IsVariable())
                sparsity = _sparsity(t.Sparsity(), defaults=defaults)
                if sparsity is not None:
                    entry["sparsity"] = sparsity
                if not t.ShapeSignatureIsNone():
                    entry["shape_signature"] = t.ShapeSignatureAsNumpy().tolist()
                if defaults or t.HasRank():
                    entry["has_rank"] = bool(t.HasRank())
                tensors.append(entry)
            operators = []
            for i in range(graph.OperatorsLength()):
                op = graph.Operators(i)
                entry = {"opcode_index": int(op.OpcodeIndex()),
                         "inputs": _np_list(op.InputsAsNumpy, op.InputsIsNone),
                         "outputs": _np_list(op.OutputsAsNumpy, op.OutputsIsNone)}
                kind, opts = schema.options(op, omit_defaults=not defaults)
                if kind != "NONE":
                    entry["builtin_options_type"] = kind
                    entry["builtin_options"] = opts
                if not op.CustomOptionsIsNone():
                    entry["custom_options"] = op.CustomOptionsAsNumpy().tolist()
                if defaults or op.CustomOptionsFormat():
                    entry["custom_options_format"] = "FLEXBUFFERS" \
                        if op.CustomOptionsFormat() == 0 else int(op.CustomOptionsFormat())
                if hasattr(op, "LargeCustomOptionsSize") and (
                        defaults or op.LargeCustomOptionsSize()):
                    entry["large_custom_options_offset"] = int(op.LargeCustomOptionsOffset())
                    entry["large_custom_options_size"] = int(op.LargeCustomOptionsSize())
                for name, getter, is_none in (
                        ("mutating_variable_inputs", op.MutatingVariableInputsAsNumpy,
                         op.MutatingVariableInputsIsNone),
                        ("intermediates", op.IntermediatesAsNumpy, op.IntermediatesIsNone)):
                    if not is_none():
                        values = getter().tolist()
                        entry[name] = [bool(v) for v in values] \
                            if name.startswith("mutating") else values
                if hasattr(op, "BuiltinOptions2Type") and op.BuiltinOptions2Type():
                    kind2, opts2 = schema.options(op, second=True, omit_defaults=not defaults)
                    entry["builtin_options_2_type"] = kind2
                    entry["builtin_options_2"] = opts2
                operators.append(entry)
            subgraphs.append({
                "tensors": tensors,
                "inputs": _np_list(graph.InputsAsNumpy, graph.InputsIsNone),
                "outputs": _np_list(graph.OutputsAsNumpy, graph.OutputsIsNone),
                "operators": operators,
                "name": (graph.Name() or b"").decode("utf-8", "replace")})
        buffers = []
        for i in range(model.BuffersLength()):
            b = model.Buffers(i)
            if include_data and not b.DataIsNone():
                buffers.append({"data": b.DataAsNumpy().tolist()})
            else:
                buffers.append({"data_bytes": self.buffer_bytes[i]} if self.buffer_bytes[i] else {})
        out = {"version": self.version, "operator_codes": codes, "subgraphs": subgraphs,
               "description": self.description, "buffers": buffers}
        if model.MetadataLength():
            out["metadata"] = [{"name": model.Metadata(i).Name().decode("utf-8", "replace"),
                                "buffer": int(model.Metadata(i).Buffer())}
                               for i in range(model.MetadataLength())]
        if self.signatures:
            out["signature_defs"] = [
                {"inputs": [{"name": k, "tensor_index": v} for k, v in s["inputs"].items()],
                 "outputs": [{"name": k, "tensor_index": v} for k, v in s["outputs"].items()],
                 "signature_key": s["key"],
                 **({"subgraph_index": s["subgraph_index"]}
                    if defaults or s["subgraph_index"] else {})} for s in self.signatures]
        return out

    def to_json(self, include_data: bool = False, indent: int | None = 2,
                defaults: bool = False) -> str:
        """:meth:`to_dict` as JSON text (``defaults=True``: as ``flatc --defaults-json``)."""
        return json.dumps(self.to_dict(include_data, defaults), indent=indent)

    # -- drawing ------------------------------------------------------------------------
    def _label(self, layer: Layer) -> str:
        parts = [f"#{layer.index} {layer.op}"]
        detail = " ".join(p for p in (layer.kernel, f"/{layer.stride.split('x')[0]}"
                                      if layer.stride and layer.stride != "1x1" else "",
                                      layer.activation) if p)
        if detail:
            parts.append(detail)
        return "\\n".join(parts)

    def to_dot(self, layers: Iterable[int] | None = None, title: str | None = None) -> str:
        """Graphviz DOT text of the op graph (all layers, or the given layer indices):
        one box per operator, edges labelled with the tensor shape that flows."""
        chosen = sorted(set(layers)) if layers is not None else list(range(len(self.layers)))
        keep = set(chosen)
        producer = self.producers()
        name = _dot_escape(title or self.name)
        lines = [f'digraph "{name}" {{', "  rankdir=TB;",
                 '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
                 '  edge [fontname="Helvetica", fontsize=8, color="#555555"];',
                 f'  labelloc="t"; label="{name}";']
        sources: set[str] = set()
        for i in chosen:
            layer = self.layers[i]
            colour = _COLOURS.get(layer.op, _DEFAULT_COLOUR)
            lines.append(f'  op{i} [label="{self._label(layer)}", fillcolor="{colour}"];')
        for i in chosen:
            layer = self.layers[i]
            for t in self.activation_inputs(layer):
                shape = f"{self.tensors[t].shape_text} {self.tensors[t].dtype}"
                if t in producer and producer[t] in keep:
                    lines.append(f'  op{producer[t]} -> op{i} [label="{shape}"];')
                else:
                    node = f"t{t}"
                    if node not in sources:
                        sources.add(node)
                        label = "input" if t in self.inputs else f"tensor {t}"
                        lines.append(f'  {node} [label="{label}\\n{shape}", shape=ellipse, '
                                     'fillcolor="#ffffff"];')
                    lines.append(f"  {node} -> op{i};")
        for i in chosen:
            for t in self.layers[i].outputs:
                if t in self.outputs:
                    lines.append(f'  out{t} [label="output\\n{self.tensors[t].shape_text} '
                                 f'{self.tensors[t].dtype}", shape=ellipse, fillcolor="#ffffff"];')
                    lines.append(f"  op{i} -> out{t};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def draw_layout(self, layers: Iterable[int] | None = None, *, rows: int = 24,
                    max_width: int = 12) -> dict:
        """Where :meth:`draw` puts each layer: ``{"rows": [[layer, ...], ...], "pos": {layer:
        (column, row, slot)}, "columns": n, "width": slots per row}``.

        Layers go top to bottom by depth (longest path from an input); layers at the same
        depth share a row, ordered by where their producers sit so that parallel branches
        stay in lanes, and a depth with more than ``max_width`` layers wraps onto further
        rows. Boxes keep one size whatever the width of the graph, so labels stay
        readable; the rows are cut into columns of ``rows``."""
        chosen = sorted(set(layers)) if layers is not None else list(range(len(self.layers)))
        if not chosen:
            raise ValueError("draw: no layers to draw")
        all_depth = self.depths()
        by_depth: dict[int, list[int]] = collections.defaultdict(list)
        for i in chosen:
            by_depth[all_depth[i]].append(i)
        producer = self.producers()
        width = max(1, min(max_width, max(len(v) for v in by_depth.values())))
        slot: dict[int, int] = {}
        visual_rows: list[list[int]] = []

        def wanted(i: int) -> float | None:
            srcs = [slot[producer[t]] for t in self.activation_inputs(self.layers[i])
                    if t in producer and producer[t] in slot]
            return sum(srcs) / len(srcs) if srcs else None

        for d in sorted(by_depth):
            members = sorted(by_depth[d], key=lambda i: (wanted(i) is None, wanted(i) or 0, i))
            for start in range(0, len(members), width):
                chunk = members[start:start + width]
                free = list(range(width))
                for i in chunk:     # each layer in its producers' lane, else the nearest free
                    want = wanted(i)
                    pick = free[0] if want is None else min(free, key=lambda k: (abs(k - want),
                                                                                 k))
                    free.remove(pick)
                    slot[i] = pick
                visual_rows.append(sorted(chunk, key=slot.get))
        rows = max(1, min(rows, len(visual_rows)))
        pos = {}
        for r, chunk in enumerate(visual_rows):
            col, row = divmod(r, rows)
            for i in chunk:
                pos[i] = (col, row, slot[i])
        return {"rows": visual_rows, "pos": pos, "columns": -(-len(visual_rows) // rows),
                "width": width, "per_column": rows}

    # The largest drawing :meth:`draw` makes (pixels at its dpi), well under matplotlib's
    # limit of 2**16; beyond it, draw part of the graph or use Graphviz.
    MAX_DRAWING_PIXELS = 30_000

    def draw(self, layers: Iterable[int] | None = None, *, rows: int = 24,
             title: str | None = None, max_width: int = 12, dpi: int = 100):
        """Draw the op graph with matplotlib (works without Graphviz): see
        :meth:`draw_layout`. Edges to the next row are grey arrows; longer ones (skip
        connections, branches joining) red; an edge into another column is a labelled
        stub at each end. Graph outputs are marked. Returns the figure.

        A graph too big to draw readably (over ``MAX_DRAWING_PIXELS``) raises ValueError
        saying how to draw part of it."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

        layout = self.draw_layout(layers, rows=rows, max_width=max_width)
        pos_of = layout["pos"]
        chosen = sorted(pos_of)
        keep = set(chosen)
        box_w, box_h, gap, row_h = 2.3, 0.62, 0.45, 1.0
        cell_w = box_w + gap
        col_w = layout["width"] * cell_w + 0.9
        pos = {i: (c * col_w + (s - (layout["width"] - 1) / 2) * cell_w, -r * row_h)
               for i, (c, r, s) in pos_of.items()}
        fig_w = max(4.0, layout["columns"] * col_w * 0.75 + 0.5)
        fig_h = max(2.5, layout["per_column"] * row_h * 0.6 + 1.0)
        if max(fig_w, fig_h) * dpi > self.MAX_DRAWING_PIXELS:
            raise ValueError(
                f"{self.name}: {len(chosen)} layers make a drawing of "
                f"{fig_w * dpi:,.0f} x {fig_h * dpi:,.0f} pixels, too big to read; draw part of "
                f"it (layers=range(0, 150); edgelab inspect --layers 0-149) or use Graphviz "
                f"(to_dot(), or --dot FILE and `dot -Tsvg`).")
        fig, ax = plt.subplots(figsize=(fig_w, fig_h))
        producer = self.producers()
        outputs = set(self.outputs)
        stubs: collections.Counter = collections.Counter()
        for i in chosen:
            layer = self.layers[i]
            x, y = pos[i]
            is_output = any(t in outputs for t in layer.outputs)
            ax.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                        boxstyle="round,pad=0.02,rounding_size=0.12",
                                        fc=_COLOURS.get(layer.op, _DEFAULT_COLOUR),
                                        ec="#000000" if is_output else "#444444",
                                        lw=1.8 if is_output else 0.8, zorder=2))
            short = _SHORT.get(layer.op, layer.op.lower())
            detail = " ".join(p for p in (layer.kernel if layer.op != "FULLY_CONNECTED" else "",
                                          "/2" if layer.stride == "2x2" else "",
                                          layer.activation.lower()) if p)
            out = self.tensors[layer.outputs[0]].shape_text if layer.outputs else ""
            label = f"{i}: {short} {detail}".strip()
            ax.text(x, y + 0.1, label if len(label) <= 30 else label[:29] + "…", ha="center",
                    va="center", fontsize=7.5, zorder=3)
            ax.text(x, y - 0.16, out + ("  → output" if is_output else ""), ha="center",
                    va="center", fontsize=6.5, color="#333333", zorder=3,
                    fontweight="bold" if is_output else "normal")
        for i in chosen:
            for t in self.activation_inputs(self.layers[i]):
                p = producer.get(t)
                if p is None or p not in keep:
                    continue
                (x0, y0), (x1, y1) = pos[p], pos[i]
                same_col = pos_of[p][0] == pos_of[i][0]
                gap_rows = pos_of[i][1] - pos_of[p][1]
                if same_col and gap_rows >= 1:
                    if gap_rows > 1 and abs(x0 - x1) < 0.1:   # a skip in one lane: arc right
                        start, end = (x0 + box_w / 2, y0), (x1 + box_w / 2, y1)
                        style = "arc3,rad=-0.35"
                    else:
                        start, end, style = (x0, y0 - box_h / 2), (x1, y1 + box_h / 2), \
                            "arc3,rad=0"
                    colour = "#444444" if gap_rows == 1 else "#d62728"
                    ax.add_patch(FancyArrowPatch(start, end, connectionstyle=style,
                                                 arrowstyle="-|>", mutation_scale=8, lw=0.7,
                                                 color=colour, zorder=1,
                                                 alpha=0.8 if gap_rows == 1 else 0.7))
                    continue
                colour = "#777777"   # continues in another column: a stub at each end
                for key, (xa, ya), (xb, yb), text in (
                        ((p, "out"), (x0, y0 - box_h / 2), (x0, y0 - box_h / 2 - 0.3),
                         f"to {i}"),
                        ((i, "in"), (x1, y1 + box_h / 2 + 0.3), (x1, y1 + box_h / 2),
                         f"from {p}")):
                    shift = 0.45 * stubs[key]      # several stubs at one box side by side
                    stubs[key] += 1
                    ax.add_patch(FancyArrowPatch((xa + shift, ya), (xb + shift, yb),
                                                 arrowstyle="-|>", mutation_scale=8, lw=0.8,
                                                 color=colour, zorder=1))
                    ax.text(xa + shift + 0.06, (ya + yb) / 2, text, fontsize=6, color=colour,
                            ha="left", va="center")
        xs = [q[0] for q in pos.values()]
        ys = [q[1] for q in pos.values()]
        ax.set_xlim(min(xs) - cell_w / 2 - 0.2, max(xs) + cell_w / 2 + 0.7)  # room for skip arcs
        ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
        ax.set_axis_off()
        ax.set_title(title or f"{self.name}: {len(chosen)} of {len(self.layers)} layers",
                     fontsize=10)
        fig.tight_layout()
        return fig

    def render(self, path: str | os.PathLike, layers: Iterable[int] | None = None) -> str:
        """Write a PNG or SVG drawing to ``path``: with Graphviz's ``dot`` when it is
        installed, otherwise with :meth:`draw`. Returns which renderer was used."""
        from edgelab.core.atomic import atomic_path

        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("png", "svg", "pdf"):
            raise ValueError(f"{path}: give a .png, .svg or .pdf file name for the drawing")
        layers = list(layers) if layers is not None else None
        dot = shutil.which("dot")
        used = ""
        with atomic_path(path) as tmp:
            if dot:
                try:
                    subprocess.run([dot, f"-T{fmt}", "-o", str(tmp)],
                                   input=self.to_dot(layers).encode(), check=True,
                                   capture_output=True)
                    used = "graphviz dot"
                except (subprocess.CalledProcessError, OSError) as err:
                    detail = getattr(err, "stderr", b"") or b""
                    first = detail.decode("utf-8", "replace").strip().splitlines()[:1]
                    used = ("matplotlib (Graphviz `dot` failed"
                            + (f": {first[0][:80]}" if first else "") + ")")
            if not used.startswith("graphviz"):
                import matplotlib.pyplot as plt

                fig = self.draw(layers)
                fig.savefig(tmp, format=fmt, dpi=100)
                plt.close(fig)
                used = used or "matplotlib (Graphviz `dot` not installed)"
        return used

    def __repr__(self) -> str:
        return (f"TFLiteFile({self.name!r}, {self.file_bytes:,} bytes, {len(self.layers)} layers, "
                f"{len(self.tensors)} tensors)")


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _check_identifier(data: bytes, source: str) -> None:
    if len(data) < 8:
        raise TFLiteFormatError(f"{source}: {len(data)} bytes is too short for a TFLite file "
                                "(truncated download?).")
    if data[4:8] != FILE_IDENTIFIER:
        hint = ""
        if data[:2] == b"PK":
            hint = " It is a zip archive; extract the .tflite from it."
        elif data[:4] == b"\x89HDF":
            hint = " It is an HDF5 file (Keras .h5); convert it with edgelab.edge.convert."
        elif data[:1] == b"\x08" or b"saved_model" in data[:64]:
            hint = " It may be a SavedModel protobuf; convert it with edgelab.edge.convert."
        raise TFLiteFormatError(
            f"{source}: not a TFLite FlatBuffer (bytes 4-8 are {data[4:8]!r}, expected "
            f"{FILE_IDENTIFIER!r}).{hint}")
    root = struct.unpack_from("<I", data, 0)[0]
    if root + 4 > len(data):
        raise TFLiteFormatError(f"{source}: truncated or corrupt TFLite file (root table at "
                                f"{root}, file has {len(data)} bytes).")


def _appended_zip_names(data: bytes, after: int) -> list[str]:
    """Names in a zip appended after the FlatBuffer's last buffer (TFLite metadata's
    associated files, e.g. a label list). A zip that starts but is cut off is an error."""
    start = data.find(b"PK\x03\x04", after)
    if start < 0:
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.namelist()
    except zipfile.BadZipFile:
        raise TFLiteFormatError(f"the zip of associated files appended at byte {start} is "
                                "truncated or corrupt") from None


def read(source: str | os.PathLike | bytes) -> TFLiteFile:
    """Parse a .tflite file (a path, or the bytes of one)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return TFLiteFile(bytes(source))
    from edgelab.edge import formats

    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file; give the path of a .tflite model.")
    kind = formats.identify(path)
    if kind is formats.FOLDER:
        raise TFLiteFormatError(f"{path} is a folder; give a .tflite file.")
    if kind is not formats.TFLITE and kind not in (formats.UNKNOWN, formats.TEXT,
                                                   formats.EMPTY):
        # recognised as something else by its content: say what, and what to do with it
        raise TFLiteFormatError(f"{path} {formats.describe(path, kind)}"
                                + ("" if kind.use else "; edgelab inspect reads .tflite files")
                                + ".")
    return TFLiteFile(path.read_bytes(), str(path))


# --------------------------------------------------------------------------- CLI

INSPECT_EXAMPLES = """examples:
  edgelab inspect model.tflite                       summary and layer table (every subgraph)
  edgelab inspect model.tflite --json                flatc-style JSON on stdout
  edgelab inspect model.tflite --json model.json     JSON into a file (and the table)
  edgelab inspect model.tflite --png graph.png       the op graph as a picture (.png, .svg)
  edgelab inspect model.tflite --svg part.svg --layers 0-99
                                                     a part of a big graph"""


def register(subparsers) -> None:
    """``edgelab inspect MODEL.tflite [--json [FILE]] [--dot FILE] [--png FILE] [--svg FILE]``."""
    import argparse

    p = subparsers.add_parser(
        "inspect", help="show the layers, quantization and op graph of a .tflite model",
        description="Parse a .tflite FlatBuffer: summary and layer table (default), flatc-style "
                    "JSON, Graphviz DOT, or a drawing (Graphviz if installed, else matplotlib).",
        epilog=INSPECT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", metavar="MODEL", help="the .tflite file")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="write flatc-style JSON to FILE (or to stdout, instead of the table, "
                        "with no FILE)")
    p.add_argument("--with-data", action="store_true",
                   help="with --json: include the raw buffer bytes (large)")
    p.add_argument("--dot", metavar="FILE", help="write the op graph as Graphviz DOT text")
    p.add_argument("--png", metavar="FILE", help="draw the op graph into a PNG file")
    p.add_argument("--svg", metavar="FILE", help="draw the op graph into an SVG file")
    p.add_argument("--subgraph", type=int, default=0, metavar="N",
                   help="with --dot/--png/--svg: draw subgraph N (default 0, the main graph)")
    p.add_argument("--layers", metavar="A-B",
                   help="with --dot/--png/--svg: draw only layers A to B, e.g. 0-99")
    p.set_defaults(func=_cli)


def _output_problem(option: str, value: str, suffixes: tuple[str, ...]) -> str | None:
    """Why ``value`` cannot be the output file of ``option`` (None: it can). ``suffixes``:
    the file name endings allowed, the first one in the example of the fix."""
    path = Path(value)
    example = f"{path.stem or 'model'}{suffixes[0]}"
    if value.endswith(("/", os.sep)) or path.is_dir():
        return (f"{option} {value}: is a folder; give a file name, e.g. "
                f"{option} {path / ('model' + suffixes[0])}")
    if path.suffix.lower() not in suffixes:
        return (f"{option} {value}: the file name must end in {' or '.join(suffixes)}, "
                f"e.g. {option} {path.with_name(example)}")
    if not path.parent.exists() and str(path.parent) not in ("", "."):
        return f"{option} {value}: the folder {path.parent} does not exist; create it first"
    return None


def _cli(args) -> int:
    from edgelab.core.paths import shown

    def fail(message: str) -> int:
        print(f"edgelab inspect: {message}", file=sys.stderr)
        return 2

    def as_given(name) -> str:
        return shown(name) if Path(name).is_absolute() else str(name)

    # "--json MODEL.tflite" (no FILE) takes the model for the JSON file: give it back.
    if args.model is None and args.json and args.json.lower().endswith(".tflite"):
        args.model, args.json = args.json, "-"
    if args.model is None:
        return fail("no model given; pass the .tflite file first, e.g. edgelab inspect "
                    "model.tflite --json")
    checks = [("--json", args.json, (".json",)), ("--dot", args.dot, (".dot", ".gv", ".txt")),
              ("--png", args.png, (".png",)), ("--svg", args.svg, (".svg",))]
    for option, value, suffixes in checks:
        if value and value != "-":
            problem = _output_problem(option, value, suffixes)
            if problem:
                return fail(problem)
    if args.with_data and not args.json:
        return fail("--with-data only applies to --json; add --json (or drop --with-data)")
    drawing = args.dot or args.png or args.svg
    if (args.layers or args.subgraph) and not drawing:
        return fail("--layers and --subgraph choose what --dot, --png or --svg draw; add one "
                    "of those, e.g. --png graph.png")
    chosen = None
    if args.layers:
        found = re.fullmatch(r"(\d+)(?:-(\d+))?", args.layers.strip())
        if not found or (found.group(2) and int(found.group(2)) < int(found.group(1))):
            return fail(f"--layers {args.layers}: write FIRST-LAST with FIRST <= LAST, e.g. "
                        "--layers 0-99")
        first = int(found.group(1))
        chosen = range(first, int(found.group(2) or first) + 1)
    try:
        info = read(args.model)
    except IsADirectoryError:
        return fail(f"{args.model} is a folder; give the .tflite file inside it")
    except (FileNotFoundError, TFLiteFormatError) as err:
        print(f"edgelab inspect: {err}", file=sys.stderr)
        return 2
    try:
        return _cli_output(args, info, chosen, drawing, fail, as_given)
    except TFLiteFormatError as err:       # a field read late (JSON, tables) is corrupt
        return fail(str(err))


def _cli_output(args, info: TFLiteFile, chosen, drawing, fail, as_given) -> int:
    from edgelab.core.atomic import atomic_write

    view = info
    if drawing:
        if not 0 <= args.subgraph < info.subgraph_count:
            return fail(f"--subgraph {args.subgraph}: {info.name} has {info.subgraph_count} "
                        f"subgraph(s), numbered 0 to {info.subgraph_count - 1}")
        view = info.subgraph(args.subgraph)
        if chosen is not None and (chosen.start >= len(view.layers)):
            return fail(f"--layers {args.layers}: subgraph {args.subgraph} has "
                        f"{len(view.layers)} layers, numbered 0 to {len(view.layers) - 1}")
        if chosen is not None:
            chosen = range(chosen.start, min(chosen.stop, len(view.layers)))
        if not view.layers:
            return fail(f"subgraph {args.subgraph} has no operators to draw")
    if args.json == "-":
        print(info.to_json(include_data=args.with_data))
    else:
        if args.json:
            with atomic_write(args.json, encoding="utf-8") as handle:
                handle.write(info.to_json(include_data=args.with_data))
        import pandas as pd

        print(info.summary_text())
        with pd.option_context("display.max_rows", None, "display.max_columns", None,
                               "display.width", 250, "display.max_colwidth", 80):
            for sg in info.subgraphs:
                print()
                if info.subgraph_count > 1:
                    role = f" ({'; '.join(sg.called_as)})" if sg.called_as else ""
                    print(f"{sg.label}{role}: {len(sg.layers)} layers")
                if sg.layers:
                    print(info.layer_table(sg.index).to_string())
        sites = info.transpose_sites()
        if sites:
            print()
            print(transpose_text(sites))
    notes = []
    if args.json and args.json != "-":
        notes.append(f"JSON written to {as_given(args.json)}")
    if args.dot:
        with atomic_write(args.dot, encoding="utf-8") as handle:
            handle.write(view.to_dot(chosen))
        notes.append(f"DOT written to {as_given(args.dot)}")
    for target in (args.png, args.svg):
        if target:
            try:
                used = view.render(target, chosen)
            except ValueError as err:        # too big to draw readably: says what to do
                return fail(str(err))
            if used.startswith("matplotlib") and len(chosen or view.layers) > 150:
                used += "; for a graph this size Graphviz lays out better: install it " \
                        "(apt install graphviz, brew install graphviz) or use --dot"
            notes.append(f"drawing written to {as_given(target)} ({used})")
    for note in notes:
        print(note, file=sys.stderr if args.json == "-" else sys.stdout)
    return 0
