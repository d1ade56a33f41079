"""Pick a ``tf.distribute`` strategy for whatever accelerator this machine has.

The order is the one a Colab user expects:

1. a TPU (Colab's TPU runtime, a Cloud TPU VM, or ``TPU_NAME``) -> ``TPUStrategy``;
2. one or more GPUs -> ``MirroredStrategy`` (data-parallel over all visible GPUs);
3. otherwise the default strategy (one replica on the CPU).

On a CPU-only machine this returns in well under a second and prints nothing: a TPU is
only looked for when the environment names one (``TPU_NAME``, ``COLAB_TPU_ADDR``) or a
TPU device file exists, and every failure to reach it (``ValueError``, ``NotFoundError``,
an unreachable metadata server) counts as "no TPU".
"""

from __future__ import annotations

import glob
import os



def _tpu_resolver():
    """A TPUClusterResolver if a TPU looks present, else None."""
    import tensorflow as tf

    named = any(os.environ.get(v) for v in ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_ADDRESS"))
    local = bool(glob.glob("/dev/accel*") or os.environ.get("TPU_ACCELERATOR_TYPE"))
    if not (named or local):
        return None
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
            tpu=None if named else "local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return resolver
    except Exception:  # noqa: BLE001 - ValueError, NotFoundError, URLError (metadata server)...
        return None  # any failure to reach a TPU means: no TPU, use what else there is


def pick_strategy():
    """The best ``tf.distribute.Strategy`` for this machine (TPU, then GPUs, then CPU)."""
    import tensorflow as tf

    resolver = _tpu_resolver()
    if resolver is not None:
        return tf.distribute.TPUStrategy(resolver)
    if tf.config.list_physical_devices("GPU"):
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def describe(strategy) -> str:
    """One line such as ``MirroredStrategy: 2 replicas (GPU)``."""
    import tensorflow as tf

    kind = "CPU"
    if isinstance(strategy, tf.distribute.TPUStrategy):
        kind = "TPU"
    elif tf.config.list_physical_devices("GPU"):
        kind = "GPU"
    n = strategy.num_replicas_in_sync
    name = type(strategy).__name__.lstrip("_")
    if name == "DefaultDistributionStrategy":
        name = "default strategy"
    return f"{name}: {n} replica{'s' if n != 1 else ''} ({kind})"
