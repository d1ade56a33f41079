"""Remove TRANSPOSE pairs that cancel around layout-free ops from a .tflite file.

onnx2tf rewrites an NCHW graph in NHWC, but not always everywhere: after an ``Add`` of
two feature maps whose shape repeats a size (``[1, 8, 16, 16]``: height equals width), its
accuracy check can pick the NCHW order for the sum, and the TFLite converter then leaves
``TRANSPOSE -> HARD_SWISH -> MUL -> ADD -> TRANSPOSE`` around each activation block it
cannot push a transpose through (HardSwish uses its input twice). PaddlePaddle's OCR
models are full of such blocks (HardSwish, then a learnable scale and bias of shape
``[1]``). The ops between are elementwise, so they compute the same values in either
layout: dropping both TRANSPOSE ops and giving the tensors between their original shape
gives the same outputs with less work.

:func:`cancel_pairs` does that rewrite on the file's main subgraph (the pairs are found by
:meth:`edgelab.edge.inspect.TFLiteFile.transpose_pairs`), then runs the original and the
rewritten model on the same random inputs and keeps the rewrite only if every output is
the same. The FlatBuffer is edited with TensorFlow's generated object API for the schema.
"""

from __future__ import annotations

import numpy as np

from edgelab.edge import inspect


def cancel_pairs(data: bytes, *, check: bool = True) -> tuple[bytes, list[tuple]]:
    """``(new file bytes, removed pairs)``; each removed pair is ``(opening, closing
    TRANSPOSEs, ops between, their op names)`` with indices of the *original* file.
    Returns ``data`` unchanged (and no pairs) when there is nothing to remove, when a pair
    cannot be removed safely, or when ``check`` finds the outputs changed."""
    info = inspect.read(data)
    pairs = [p for p in info.transpose_pairs() if _removable(info, p)]
    if not pairs:
        return data, []
    try:    # TensorFlow's generated object API for the schema (any TF 2.x has it)
        from tensorflow.lite.python import schema_py_generated as schema
        from tensorflow.lite.tools import flatbuffer_utils
    except ImportError:     # pragma: no cover - without it, keep the file as it is
        return data, []

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    graph = model.subgraphs[0]
    drop: set[int] = set()
    for opening, closers, between in pairs:
        first = graph.operators[opening]
        source = int(first.inputs[0])                   # the tensor before the detour
        detour = int(first.outputs[0])
        perm = info._perm(info.layers[opening])
        inverse = [perm.index(i) for i in range(len(perm))]
        for c in between:                                # read the original-layout tensor
            op = graph.operators[c]
            op.inputs = [source if int(t) == detour else int(t) for t in op.inputs]
            for t in op.outputs:                         # and write in the original layout
                tensor = graph.tensors[int(t)]
                tensor.shape = _permuted(tensor.shape, inverse)
                if tensor.shapeSignature is not None and len(tensor.shapeSignature):
                    tensor.shapeSignature = _permuted(tensor.shapeSignature, inverse)
        for c in closers:                                # consumers of the closing output
            closing = graph.operators[c]
            inner, outer = int(closing.inputs[0]), int(closing.outputs[0])
            inner = source if inner == detour else inner
            for k, op in enumerate(graph.operators):
                if k in drop or k == c:
                    continue
                op.inputs = [inner if int(t) == outer else int(t) for t in op.inputs]
        drop.add(opening)
        drop.update(closers)
    graph.operators = [op for k, op in enumerate(graph.operators) if k not in drop]
    new = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
    if check and not _same_outputs(data, new):
        return data, []
    names = [(o, c, b, tuple(info.layers[i].op for i in b)) for o, c, b in pairs]
    return new, names


def _removable(info, pair) -> bool:
    """Only pairs whose closing outputs are not graph outputs and whose detour tensor has
    no other reader; the rewrite keeps every graph input and output as it was."""
    opening, closers, between = pair
    outputs = set(info.outputs)
    for c in closers:
        if any(t in outputs for t in info.layers[c].outputs):
            return False
    return not any(t in outputs for i in between for t in info.layers[i].outputs)


def _permuted(shape, order):
    values = [int(d) for d in shape]
    return np.asarray([values[i] for i in order], dtype=np.int32)


def _same_outputs(before: bytes, after: bytes, runs: int = 2) -> bool:
    """Both files give the same outputs (float: to 1e-5 relative; integers: within one
    step) on the same random inputs."""
    from edgelab.edge.convert import native_output_silenced
    from edgelab.edge.evaluate import load_interpreter

    try:
        a, b = load_interpreter(before, 1), load_interpreter(after, 1)
        with native_output_silenced():
            a.allocate_tensors()
            b.allocate_tensors()
        rng = np.random.default_rng(0)
        for _ in range(runs):
            for da, db in zip(a.get_input_details(), b.get_input_details()):
                dtype = np.dtype(da["dtype"])
                if dtype.kind == "f":
                    x = rng.random(da["shape"]).astype(dtype)
                else:
                    info = np.iinfo(dtype)
                    x = rng.integers(max(info.min, -128), min(info.max, 127) + 1,
                                     da["shape"]).astype(dtype)
                a.set_tensor(da["index"], x)
                b.set_tensor(db["index"], x)
            a.invoke()
            b.invoke()
            for oa, ob in zip(a.get_output_details(), b.get_output_details()):
                ya, yb = a.get_tensor(oa["index"]), b.get_tensor(ob["index"])
                if ya.shape != yb.shape:
                    return False
                if ya.dtype.kind == "f":
                    if not np.allclose(ya, yb, rtol=1e-5, atol=1e-6 * max(1.0, float(
                            np.max(np.abs(ya))) if ya.size else 1.0)):
                        return False
                elif np.max(np.abs(ya.astype(np.int64) - yb.astype(np.int64)), initial=0) > 1:
                    return False
    except (RuntimeError, ValueError):
        return False
    return True


def describe_removed(removed: list[tuple]) -> str:
    """``"removed 6 TRANSPOSE ops: 3 pairs that cancelled around HARD_SWISH -> MUL -> ADD"``."""
    count = sum(1 + len(c) for _, c, _, _ in removed)
    chains = sorted({" -> ".join(ops) or "nothing" for _, _, _, ops in removed})
    return (f"removed {count} TRANSPOSE ops: {len(removed)} pair(s) that cancelled around "
            + "; ".join(chains))
