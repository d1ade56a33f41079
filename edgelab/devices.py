"""Choose the engine (Keras' backend) and the devices a lesson trains on; fail loudly.

Lesson 01 is one backend-neutral Keras 3 script with two engines under it:

* a **TPU** (Colab's TPU runtime, a Cloud or Kaggle TPU VM) -> the **JAX** backend, with
  ``keras.distribution.DataParallel`` sharding each batch over ``jax.devices()``. Colab's
  TPU runtimes ship JAX, libtpu and Keras but no TensorFlow, and TensorFlow's
  ``TPUStrategy`` is reported failing on TPU VMs; JAX is the engine that runs there.
* one or more **GPUs** -> **TensorFlow** with ``tf.distribute.MirroredStrategy``;
* only a **CPU** -> TensorFlow's default strategy (one replica), or JAX when TensorFlow is
  not installed.

``KERAS_BACKEND``, when the user sets it (``jax`` or ``tensorflow``), wins over that rule.
Keras reads its backend once, when it is first imported, so the choice is made in two steps::

    engine = devices.choose_engine()   # before `import keras`: sets KERAS_BACKEND, XLA_FLAGS
    ...                                 # import keras, build nothing yet
    placement = engine.distribute()    # the strategy (TF) or distribution (JAX), replicas

Notebook 01 writes the second step out in the frameworks' own calls, as a learner would in
a script, and checks that it equals what :meth:`Engine.distribute` makes::

    strategy = tf.distribute.MirroredStrategy()                    # TensorFlow: GPUs or the CPU
    distribution = keras.distribution.DataParallel(devices=jax.devices())   # JAX
    keras.distribution.set_distribution(distribution)
    Placement.of(engine, strategy).same_as(engine.distribute(activate=False))   # True

**No silent CPU fallback.** When an accelerator is visible but the chosen engine cannot
use it (JAX without libtpu on a TPU, a CPU-only TensorFlow on a GPU machine, TensorFlow
asked to drive a TPU), :class:`DeviceError` stops the lesson with one message that names
the fix. ``EDGELAB_ALLOW_CPU=1`` trains on the CPU anyway, on purpose.

**Many devices on one CPU.** ``EDGELAB_SIMULATE_DEVICES=N`` makes the CPU appear as N
devices (TensorFlow logical devices; for JAX, XLA's host platform device count, which must
be set before JAX is imported), so data parallelism can be shown on a laptop and tested in
CI. Accelerators are ignored while simulating.

The hardware is seen without importing any framework: a TPU is a PCI device of Google's
vendor id (0x1ae0) with a known TPU device id, as JAX itself checks; a GPU is an NVIDIA
device node (``/dev/nvidia0``, ``/dev/nvidiactl``; ``/dev/dxg`` under WSL2).
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from edgelab.core.quiet import native_silenced

SIMULATE_VAR = "EDGELAB_SIMULATE_DEVICES"
ALLOW_CPU_VAR = "EDGELAB_ALLOW_CPU"
BACKEND_VAR = "KERAS_BACKEND"
ENGINES = ("jax", "tensorflow")
MAX_SIMULATED = 64

# Google's PCI vendor id and the device ids of TPU generations v3 to 7x (TPU v2 is retired).
_GOOGLE_VENDOR = "0x1ae0"
_TPU_DEVICE_IDS = {"0x0027": "v3", "0x005e": "v4", "0x0062": "v5p", "0x0063": "v5e",
                   "0x006f": "v6e", "0x0076": "7x"}
_NVIDIA_NODES = ("dev/nvidia0", "dev/nvidiactl", "dev/dxg")


class DeviceError(RuntimeError):
    """An accelerator is visible but cannot be used as asked; the message names the fix."""


@dataclass(frozen=True)
class Hardware:
    """What the machine has, seen from the file system (no framework imported)."""

    kind: str = "CPU"          # "TPU", "GPU" or "CPU"
    chips: int = 0             # TPU chips found on the PCI bus (0 for GPU/CPU)
    generation: str = ""       # TPU generation, e.g. "v5e"

    def __str__(self) -> str:
        if self.kind == "TPU":
            return f"TPU {self.generation} x{self.chips}" if self.chips else "TPU"
        return self.kind


def visible_hardware(root: str | os.PathLike = "/") -> Hardware:
    """The accelerator this machine shows (TPU before GPU), or the CPU.

    ``root`` is where ``sys`` and ``dev`` are looked for; tests point it at a fake tree.
    """
    root = Path(root)
    chips, generation = 0, ""
    for vendor in glob.glob(str(root / "sys/bus/pci/devices/*/vendor")):
        try:
            if Path(vendor).read_text().strip() != _GOOGLE_VENDOR:
                continue
            device = (Path(vendor).parent / "device").read_text().strip()
        except OSError:
            continue
        if device in _TPU_DEVICE_IDS:
            chips += 1
            generation = _TPU_DEVICE_IDS[device]
    if chips:
        return Hardware("TPU", chips, generation)
    if any((root / node).exists() for node in _NVIDIA_NODES):
        return Hardware("GPU")
    return Hardware("CPU")


def simulated_devices() -> int:
    """``$EDGELAB_SIMULATE_DEVICES`` as a number of CPU devices (0: not simulating)."""
    value = os.environ.get(SIMULATE_VAR, "").strip()
    if not value:
        return 0
    try:
        n = int(value)
    except ValueError:
        n = -1
    if not 1 <= n <= MAX_SIMULATED:
        raise DeviceError(f"{SIMULATE_VAR}={value!r} is not a device count; set it to a whole "
                          f"number from 1 to {MAX_SIMULATED} (or unset it to use the real devices).")
    return n


def _installed(module: str) -> bool:
    if module in sys.modules:
        return True
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@dataclass
class Engine:
    """The engine ``choose_engine`` picked; ``distribute()`` then places the model."""

    name: str                       # "jax" or "tensorflow" (Keras' backend)
    reason: str                     # why this engine, in words
    hardware: Hardware              # what the machine shows
    simulated: int = 0              # N simulated CPU devices (0: real devices)
    tensorflow: bool = False        # TensorFlow importable (tf.data, TensorBoard)
    allow_cpu: bool = False         # EDGELAB_ALLOW_CPU=1: the CPU on purpose
    _placement: "Placement | None" = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return {"jax": "JAX", "tensorflow": "TensorFlow"}[self.name]

    def distribute(self, *, activate: bool = True) -> "Placement":
        """The strategy (TensorFlow) or distribution (JAX) over every device, once.

        ``activate=False`` builds a fresh one without making it the process's distribution
        (JAX's ``set_distribution``) and without keeping it: for comparing with one built
        by hand (notebook 01).
        """
        if not activate:
            return (_distribute_jax(self, activate=False) if self.name == "jax"
                    else _distribute_tensorflow(self))
        if self._placement is None:
            self._placement = (_distribute_jax(self) if self.name == "jax"
                               else _distribute_tensorflow(self))
        return self._placement


@dataclass
class Placement:
    """Where the model lives: the devices, the replica count, and the scope to build in."""

    engine: Engine
    kind: str                        # device kind the replicas run on: "TPU", "GPU", "CPU"
    devices: list[str]
    strategy: object = None          # tf.distribute.Strategy (TensorFlow engine)
    distribution: object = None      # keras.distribution.DataParallel (JAX engine)

    @classmethod
    def of(cls, engine: Engine, placed) -> "Placement":
        """The placement of a ``tf.distribute`` strategy or a ``keras.distribution``
        distribution made by hand (notebook 01 writes its own), to print or compare."""
        if hasattr(placed, "num_replicas_in_sync"):      # a tf.distribute.Strategy
            found = [str(d) for d in placed.extended.worker_devices]
            kind = _device_kind(found[0]) if found else "CPU"
            return cls(engine, kind, found, strategy=placed)
        found = list(placed.device_mesh.devices.flat)    # keras.distribution (JAX)
        return cls(engine, found[0].platform.upper(), [str(d) for d in found],
                   distribution=placed)

    @property
    def replicas(self) -> int:
        if self.strategy is not None:
            return int(self.strategy.num_replicas_in_sync)
        return len(self.devices)

    @property
    def how(self) -> str:
        """``MirroredStrategy``, ``default strategy`` or ``keras.distribution.DataParallel``."""
        if self.strategy is not None:
            name = type(self.strategy).__name__.lstrip("_")
            return "default strategy" if name == "DefaultDistributionStrategy" else name
        return f"keras.distribution.{type(self.distribution).__name__}"

    def same_as(self, other: "Placement") -> bool:
        """Same kind of strategy or distribution, over the same devices, same replicas."""
        return (self.how, self.kind, self.devices, self.replicas) == \
            (other.how, other.kind, other.devices, other.replicas)

    def scope(self):
        """Build and compile the model inside this: the strategy's scope (TensorFlow), the
        distribution's (JAX; it is also set for the whole process)."""
        if self.strategy is not None:
            return self.strategy.scope()
        if self.distribution is not None:
            return self.distribution.scope()
        return contextlib.nullcontext()

    def copies(self, variable) -> int:
        """On how many devices ``variable`` (a Keras variable) has a full copy."""
        return copies(variable)

    def describe(self) -> str:
        """Three lines: engine, devices, ``replicas: N`` (what the notebook prints)."""
        import keras

        e = self.engine
        how = self.how
        kind = f"{self.kind} (simulated: {SIMULATE_VAR}={e.simulated})" if e.simulated else self.kind
        return (f"engine: {e.label} ({how}; Keras {keras.__version__}, backend "
                f"{keras.backend.backend()}): {e.reason}\n"
                f"device kind: {kind}, {len(self.devices)} device{'s' * (len(self.devices) != 1)}\n"
                f"replicas: {self.replicas}")


def copies(variable) -> int:
    """On how many devices ``variable`` (a Keras variable) has a full copy: one per replica
    for a ``MirroredVariable`` (TensorFlow), the devices of a fully replicated JAX array."""
    value = variable.value
    if hasattr(value, "sharding"):                      # a JAX array
        sharding = value.sharding
        return len(sharding.device_set) if sharding.is_fully_replicated else 0
    return len(getattr(value, "values", (value,)))      # MirroredVariable: one per replica


def _device_kind(name: str) -> str:
    """``GPU`` for ``/job:localhost/replica:0/task:0/device:GPU:0``, and so on."""
    return name.rsplit("device:", 1)[-1].split(":")[0].upper() or "CPU"


_chosen: Engine | None = None


def choose_engine(root: str | os.PathLike = "/") -> Engine:
    """Pick the engine and prepare it; call before Keras is imported. Idempotent.

    Sets ``KERAS_BACKEND`` (unless the user set it), and for a simulation the XLA flag or
    TensorFlow logical devices; imports the engine's framework and checks that it sees
    the accelerator the machine shows. Raises :class:`DeviceError` with the fix otherwise.
    """
    global _chosen
    if _chosen is not None:
        _check_keras_backend(_chosen.name)
        return _chosen
    hardware = visible_hardware(root)
    simulated = simulated_devices()
    allow_cpu = os.environ.get(ALLOW_CPU_VAR, "") == "1"
    has_tf, has_jax = _installed("tensorflow"), _installed("jax")
    wanted = os.environ.get(BACKEND_VAR, "").strip().lower()
    if wanted:
        if wanted not in ENGINES:
            raise DeviceError(f"{BACKEND_VAR}={wanted!r}: lesson 01 runs on jax or tensorflow; "
                              f"set {BACKEND_VAR}=jax or {BACKEND_VAR}=tensorflow, or unset it.")
        name, reason = wanted, f"{BACKEND_VAR}={wanted} was set"
    elif hardware.kind == "TPU" and not simulated:
        name, reason = "jax", "a TPU is attached, and JAX is the engine that drives TPUs"
    elif has_tf:
        name = "tensorflow"
        reason = ("the CPU stands in for several devices" if simulated
                  else "GPUs are attached" if hardware.kind == "GPU"
                  else "no TPU or GPU is attached")
    elif has_jax:
        name, reason = "jax", "TensorFlow is not installed"
    else:
        raise DeviceError("neither TensorFlow nor JAX is installed: run tools/install.sh "
                          "(or pip install jax) first.")
    for module, needed in (("tensorflow", name == "tensorflow"), ("jax", name == "jax")):
        if needed and not _installed(module):
            raise DeviceError(f"{BACKEND_VAR}={name} but {module} is not installed: "
                              f"pip install {module}, or unset {BACKEND_VAR}.")
    _check_keras_backend(name)
    engine = Engine(name, reason, hardware, simulated, has_tf, allow_cpu)
    # Set before any framework is imported: TensorFlow 2.20 (Colab's) imports Keras as
    # part of `import tensorflow`, and Keras fixes its backend at that moment.
    before = os.environ.get(BACKEND_VAR)
    os.environ[BACKEND_VAR] = name
    try:
        if name == "jax":
            _prepare_jax(engine)
        else:
            _prepare_tensorflow(engine)
        _check_keras_backend(name)
    except BaseException:
        # A failure leaves the environment as it found it, so a retry starts clean.
        if before is None:
            os.environ.pop(BACKEND_VAR, None)
        else:
            os.environ[BACKEND_VAR] = before
        raise
    _chosen = engine
    return engine


def _check_keras_backend(name: str) -> None:
    keras = sys.modules.get("keras")
    if keras is None or not hasattr(keras, "backend"):
        return
    current = keras.backend.backend()
    if current != name:
        raise DeviceError(f"Keras was already imported with the {current} backend, but this "
                          f"run needs {name}: restart the kernel (Runtime > Restart session on "
                          f"Colab) and run the notebook from the top.")


def _cpu_anyway(engine: Engine, what: str, fix: str) -> None:
    """Raise the loud failure, unless the user asked for the CPU on purpose."""
    if engine.allow_cpu:
        return
    raise DeviceError(f"{what}. {fix} (or set {ALLOW_CPU_VAR}=1 to train on the CPU on purpose).")


# --------------------------------------------------------------------------- JAX

def _prepare_jax(engine: Engine) -> None:
    n = engine.simulated
    if n:
        if "jax" in sys.modules:
            import jax

            if len(jax.devices("cpu")) != n:
                raise DeviceError(f"{SIMULATE_VAR}={n} must be set before JAX is imported, and JAX "
                                  f"already runs with {len(jax.devices('cpu'))} CPU device(s): "
                                  "restart the kernel and run the notebook from the top.")
        ours = {"--xla_force_host_platform_device_count": n}
        if _jaxlib_at_least(0, 10):
            # The simulated devices meet in an all-reduce every step. On a loaded machine
            # one device's thread can be starved for longer than XLA's default 40 s, and
            # XLA then ends the process; give it ten minutes. (XLA still warns on stderr
            # after 20 s.) Older jaxlibs (0.7.2 on Colab) abort on this unknown flag.
            ours["--xla_cpu_collective_call_terminate_timeout_seconds"] = 600
        flags = [f for f in os.environ.get("XLA_FLAGS", "").split()
                 if f.split("=")[0] not in ours]
        os.environ["XLA_FLAGS"] = " ".join(flags + [f"{k}={v}" for k, v in ours.items()])
        os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import jax  # not silenced: a bad XLA flag or a broken libtpu must be seen

    found = jax.devices()
    with native_silenced(fds=(2,)):
        if engine.tensorflow:
            # Keras imports TensorFlow when it is installed (for tf.data), whatever the
            # backend: let it print its start-up lines here, where they are silenced.
            import tensorflow as tf

            tf.config.list_physical_devices()
    platform = found[0].platform  # "tpu", "gpu" or "cpu"
    hw = engine.hardware.kind
    if not n and hw == "TPU" and platform != "tpu":
        _cpu_anyway(engine, f"this machine has a {engine.hardware}, but JAX {jax.__version__} "
                    f"sees only {platform.upper()} devices (libtpu is missing)",
                    'Install JAX\'s TPU build: pip install -U "jax[tpu]"; on Colab use the TPU '
                    "runtime's own JAX and restart the session")
    if not n and hw == "GPU" and platform == "cpu":
        _cpu_anyway(engine, "this machine has an NVIDIA GPU, but JAX sees only the CPU "
                    "(a CPU-only jaxlib is installed)",
                    'Install JAX\'s CUDA build: pip install -U "jax[cuda12]", or unset '
                    f"{BACKEND_VAR} to train with TensorFlow")


def _jaxlib_at_least(major: int, minor: int) -> bool:
    from importlib import metadata

    try:
        parts = metadata.version("jaxlib").split(".")[:2]
        return (int(parts[0]), int(parts[1])) >= (major, minor)
    except (metadata.PackageNotFoundError, ValueError, IndexError):
        return False


def _distribute_jax(engine: Engine, activate: bool = True) -> Placement:
    import jax
    import keras

    dist = keras.distribution.DataParallel(devices=jax.devices())
    if activate:
        keras.distribution.set_distribution(dist)
    return Placement.of(engine, dist)


# --------------------------------------------------------------------------- TensorFlow

def _prepare_tensorflow(engine: Engine) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is first imported
    with native_silenced(fds=(2,)):
        import tensorflow as tf

        n = engine.simulated
        if n:
            cpu = tf.config.list_physical_devices("CPU")[0]
            try:
                tf.config.set_visible_devices([], "GPU")
                tf.config.set_logical_device_configuration(
                    cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
            except RuntimeError:  # the runtime is already initialised (a cell run twice)
                pass
            have = len(tf.config.list_logical_devices("CPU"))
            if have != n:
                raise DeviceError(f"{SIMULATE_VAR}={n} must be set before TensorFlow starts, and it "
                                  f"already runs with {have} CPU device(s): restart the kernel and "
                                  "run the notebook from the top.")
            return
        gpus = tf.config.list_physical_devices("GPU")
    hw = engine.hardware.kind
    if hw == "TPU":
        _cpu_anyway(engine, f"this machine has a {engine.hardware}, but {BACKEND_VAR}=tensorflow: "
                    "edgelab drives TPUs with JAX (Colab's TPU runtime has no TensorFlow, and "
                    "TPUStrategy is reported failing on TPU VMs)",
                    f"Unset {BACKEND_VAR} or set {BACKEND_VAR}=jax")
    if hw == "GPU" and not gpus:
        _cpu_anyway(engine, f"this machine has an NVIDIA GPU, but TensorFlow {tf.__version__} "
                    "sees none (a CPU-only build, or CUDA libraries it cannot load)",
                    'Install the CUDA build: pip install "tensorflow[and-cuda]"; on Colab keep '
                    "Colab's own TensorFlow (tools/install.sh --colab does)")


def _distribute_tensorflow(engine: Engine) -> Placement:
    """``MirroredStrategy()``: every GPU, or without one every CPU device (one, or the N a
    simulation made)."""
    import tensorflow as tf

    with native_silenced(fds=(2,)):   # its C++ start-up line names the devices on stderr
        strategy = tf.distribute.MirroredStrategy()
    return Placement.of(engine, strategy)


