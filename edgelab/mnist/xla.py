"""Which ops can the accelerator compile? Ask XLA, the compiler behind TPUs and ``jit_compile``.

TPUs run nothing but XLA programs, so every op in a TPU training step must have an XLA
lowering. The old TensorBoard "TPU compatibility" view is gone; the modern check is to
compile the step with ``tf.function(jit_compile=True)`` on any machine (the CPU will do)
and read what XLA rejects. XLA reports the first unsupported op it meets in a graph, so
fix that one and check again until the list is empty.
"""

from __future__ import annotations

import re

_REJECTED = re.compile(r"(\w+) \(No registered '\w+' OpKernel for XLA_\w+")


def rejected_ops(fn, *args) -> list[str]:
    """Op types XLA refuses in ``fn(*args)``; ``[]`` if it compiles.

    ``fn`` may be a plain Python function or a ``tf.function``; it is traced with
    ``jit_compile=True`` and lowered to HLO without being run.
    """
    import tensorflow as tf

    compiled = tf.function(getattr(fn, "python_function", fn), jit_compile=True, autograph=False)
    try:
        compiled.experimental_get_compiler_ir(*args)(stage="hlo")
    except (ValueError, tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as err:
        found = list(dict.fromkeys(_REJECTED.findall(str(err))))
        if not found:
            raise
        return found
    return []


def op_types(fn, *args) -> list[str]:
    """Sorted op types in the traced graph of ``fn(*args)`` (what XLA has to compile)."""
    import tensorflow as tf

    concrete = tf.function(getattr(fn, "python_function", fn), autograph=False).get_concrete_function(*args)
    return sorted({op.type for op in concrete.graph.get_operations()})
