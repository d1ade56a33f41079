"""Which ops can the accelerator compile? Ask XLA, the compiler behind TPUs and ``jit_compile``.

TPUs run nothing but XLA programs, so every op in a TPU training step must have an XLA
lowering. Three checks, from the oldest to the one that matters:

* TensorBoard's graph dashboard still has the view the source author used: Graphs tab,
  *Color* -> *TPU Compatibility*. It colours each op of an op-level graph green or red by
  looking its type up in a fixed list of about 500 op names built into TensorBoard's web
  page; :func:`tensorboard_tpu_ops` reads that list from the installed TensorBoard and
  :func:`tensorboard_incompatible` applies it as the view does. It compiles nothing and
  ignores dtypes.
* :func:`rejected_ops` compiles a TensorFlow function with ``jit_compile=True`` on any
  machine (the CPU will do) and returns the op types XLA rejects. XLA reports the first
  unsupported op it meets in a graph, so fix that one and check again until it is empty.
* Passing XLA on the CPU is necessary, not sufficient, for a TPU: the CPU's XLA compiles
  float64 and complex128, which TPU hardware does not have (emulated at best; some ops
  are refused). :func:`wide_float_types` lists such types in the compiled program.

On the JAX engine a Keras model is compiled by XLA whenever it runs (``jax.jit``), so
:func:`model_rejected_ops` simply lowers it; TensorFlow ops are checked with TensorFlow.
"""

from __future__ import annotations

import functools
import re
import zipfile
from pathlib import Path

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


def model_rejected_ops(model, images) -> list[str]:
    """Op types XLA refuses in ``model(images)`` on Keras' current backend; ``[]`` if it compiles.

    TensorFlow backend: :func:`rejected_ops` on the forward pass. JAX backend: JAX has only
    XLA-lowerable primitives, so the forward pass is lowered and compiled with ``jax.jit``
    (an error would be raised, not listed).
    """
    import keras

    if keras.backend.backend() == "jax":
        import jax

        jax.jit(lambda x: model(x, training=False)).lower(images).compile()
        return []
    return rejected_ops(lambda x: model(x, training=False), images)


def _hlo(fn, *args) -> str:
    import tensorflow as tf

    compiled = tf.function(getattr(fn, "python_function", fn), jit_compile=True, autograph=False)
    return compiled.experimental_get_compiler_ir(*args)(stage="hlo")


_WIDE = re.compile(r"\b(f64|c128)\[")


def wide_float_types(fn, *args) -> list[str]:
    """64-bit floating types (``f64``, ``c128``) in the XLA program of ``fn(*args)``.

    The CPU's XLA compiles them; TPUs have no float64 hardware, so on a TPU they are
    emulated slowly at best, and some (complex128) are refused.
    """
    return sorted(set(_WIDE.findall(_hlo(fn, *args))))


@functools.lru_cache(maxsize=1)
def tensorboard_tpu_ops() -> frozenset[str]:
    """The op types TensorBoard's *TPU Compatibility* colouring counts as valid.

    Read from the installed TensorBoard's web page (``tensorboard/webfiles.zip``), where
    the list is built in. Raises ``RuntimeError`` if TensorBoard is not installed or the
    list cannot be found in it.
    """
    try:
        import tensorboard
    except ImportError:
        raise RuntimeError("TensorBoard is not installed: pip install tensorboard") from None
    webfiles = Path(tensorboard.__file__).parent / "webfiles.zip"
    with zipfile.ZipFile(webfiles) as archive:
        script = archive.read("index.js").decode("utf-8", "replace")
    match = re.search(r"\.WHITELIST=\[([^\]]*)\]", script)
    if not match:
        raise RuntimeError(f"no TPU op list found in {webfiles.name} of TensorBoard "
                           f"{tensorboard.__version__}: its graph view may have changed")
    return frozenset(re.findall(r'"(\w+)"', match.group(1)))


def tensorboard_incompatible(fn, *args) -> list[str]:
    """Op types in the graph of ``fn(*args)`` that TensorBoard's view colours red (invalid)."""
    allowed = tensorboard_tpu_ops()
    return [op for op in op_types(fn, *args) if op not in allowed]


def write_graph(fn, *args, log_dir) -> Path:
    """Write the op-level graph of ``fn(*args)`` for TensorBoard's Graphs tab; return the folder."""
    import tensorflow as tf

    concrete = tf.function(getattr(fn, "python_function", fn), autograph=False).get_concrete_function(*args)
    log_dir = Path(log_dir)
    with tf.summary.create_file_writer(str(log_dir)).as_default():
        tf.summary.graph(concrete.graph)
    return log_dir
