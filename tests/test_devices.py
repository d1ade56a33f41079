"""Engine choice, simulated devices and the loud failure of ``edgelab.devices``.

The engine is a process-wide decision (Keras reads ``KERAS_BACKEND`` once, XLA its flags
once), so every case that imports a framework runs in a fresh Python process. A TPU or a
GPU is faked with a file tree (``root=``) laid out like ``/sys`` and ``/dev``; the real
JAX and TensorFlow here are CPU builds, so they really cannot use it, and the loud
failure is the real code path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edgelab import devices

ROOT = Path(__file__).resolve().parent.parent


def fake_tpu(root: Path, device_id: str = "0x0063", chips: int = 1) -> Path:
    for i in range(chips):
        d = root / f"sys/bus/pci/devices/0000:00:0{i + 4}.0"
        d.mkdir(parents=True)
        (d / "vendor").write_text("0x1ae0\n")
        (d / "device").write_text(device_id + "\n")
    return root


def fake_gpu(root: Path) -> Path:
    (root / "dev").mkdir(parents=True)
    (root / "dev/nvidia0").write_text("")
    return root


# Makes TensorFlow (and TensorBoard) unimportable, as on Colab's TPU runtime.
NO_TENSORFLOW = """
import importlib.abc, sys
class _NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tensorboard", "tf_keras"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _NoTensorFlow())
"""


def run_engine(tmp_path, root: Path | None = None, *, train: bool = False,
               no_tensorflow: bool = False, **env) -> dict:
    """Choose an engine in a fresh process; return what it chose (or the error it raised)."""
    code = (NO_TENSORFLOW if no_tensorflow else "") + textwrap.dedent(f"""
        import json, sys
        from edgelab import devices
        try:
            engine = devices.choose_engine({str(root or '/')!r})
        except devices.DeviceError as err:
            print(json.dumps({{"error": str(err)}})); sys.exit(0)
        import keras
        placement = engine.distribute()
        out = {{"engine": engine.name, "backend": keras.backend.backend(),
                "replicas": placement.replicas, "kind": placement.kind,
                "describe": placement.describe(),
                "fresh_same": engine.distribute(activate=False).same_as(placement)}}
        if {train!r}:
            import numpy as np
            from edgelab.mnist import cnn, inputs
            with placement.scope():
                model = cnn.compile_model(cnn.build_model(), 1e-3)
            x = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
            y = np.arange(64) % 10
            batches = inputs.pipeline(x, y, 16 * placement.replicas, drop_remainder=True)
            history = model.fit(batches, epochs=1, verbose=0)
            out["loss"] = history.history["loss"][0]
            out["pipeline"] = inputs.describe(batches)
            out["tensorflow_imported"] = "tensorflow" in sys.modules
            out["copies"] = placement.copies(model.weights[0])
        print(json.dumps(out))
    """)
    clean = {k: v for k, v in os.environ.items()
             if k not in ("KERAS_BACKEND", devices.SIMULATE_VAR, devices.ALLOW_CPU_VAR,
                          "XLA_FLAGS", "JAX_PLATFORMS")}
    clean.update({k: str(v) for k, v in env.items()})
    clean["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=clean, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- hardware

def test_hardware_is_read_from_the_pci_bus_and_device_nodes(tmp_path):
    assert devices.visible_hardware(tmp_path / "empty") == devices.Hardware("CPU")
    tpu = devices.visible_hardware(fake_tpu(tmp_path / "tpu"))
    assert (tpu.kind, tpu.chips, tpu.generation, str(tpu)) == ("TPU", 1, "v5e", "TPU v5e x1")
    eight = devices.visible_hardware(fake_tpu(tmp_path / "tpu8", "0x006f", chips=8))
    assert (eight.chips, eight.generation) == (8, "v6e")
    assert devices.visible_hardware(fake_gpu(tmp_path / "gpu")).kind == "GPU"
    # A Google PCI device that is not a TPU (e.g. a virtual NIC) is no TPU.
    assert devices.visible_hardware(fake_tpu(tmp_path / "nic", "0x0001")).kind == "CPU"


def test_simulated_device_count_is_validated(monkeypatch):
    monkeypatch.delenv(devices.SIMULATE_VAR, raising=False)
    assert devices.simulated_devices() == 0
    monkeypatch.setenv(devices.SIMULATE_VAR, "2")
    assert devices.simulated_devices() == 2
    for bad in ("two", "0", "-1", "65", "1.5"):
        monkeypatch.setenv(devices.SIMULATE_VAR, bad)
        with pytest.raises(devices.DeviceError, match=devices.SIMULATE_VAR):
            devices.simulated_devices()


# --------------------------------------------------------------------------- engine choice

def test_a_cpu_machine_trains_on_tensorflow_with_one_replica(tmp_path):
    got = run_engine(tmp_path)
    assert (got["engine"], got["backend"], got["replicas"], got["kind"]) == \
        ("tensorflow", "tensorflow", 1, "CPU")
    assert got["describe"].splitlines()[-1] == "replicas: 1"
    # MirroredStrategy() with no GPU mirrors onto the CPU: what notebook 01 writes itself
    assert "(MirroredStrategy;" in got["describe"]


def test_keras_backend_set_by_the_user_wins(tmp_path):
    got = run_engine(tmp_path, KERAS_BACKEND="jax")
    assert (got["engine"], got["backend"], got["replicas"]) == ("jax", "jax", 1)
    assert "KERAS_BACKEND=jax was set" in got["describe"]
    assert "DataParallel" in got["describe"]
    bad = run_engine(tmp_path, KERAS_BACKEND="torch")
    assert "KERAS_BACKEND='torch'" in bad["error"] and "KERAS_BACKEND=jax" in bad["error"]


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_two_simulated_devices_train_two_replicas(tmp_path, backend):
    got = run_engine(tmp_path, train=True, KERAS_BACKEND=backend, EDGELAB_SIMULATE_DEVICES=2)
    assert (got["engine"], got["replicas"], got["kind"]) == (backend, 2, "CPU")
    assert got["describe"].splitlines()[-1] == "replicas: 2"
    assert "simulated: EDGELAB_SIMULATE_DEVICES=2" in got["describe"]
    assert got["copies"] == 2            # the first kernel has a full copy on both devices
    assert got["fresh_same"]             # a second, inactive placement equals the first
    assert 0 < got["loss"] < 10


def test_without_tensorflow_the_jax_engine_trains_from_numpy_batches(tmp_path):
    """Colab's TPU runtime in miniature: no TensorFlow, two simulated devices, no KERAS_BACKEND."""
    got = run_engine(tmp_path, train=True, no_tensorflow=True, EDGELAB_SIMULATE_DEVICES=2)
    assert (got["engine"], got["backend"], got["replicas"], got["copies"]) == ("jax", "jax", 2, 2)
    assert "TensorFlow is not installed" in got["describe"]
    assert got["pipeline"].startswith("NumPy batches") and not got["tensorflow_imported"]
    assert 0 < got["loss"] < 10


def test_a_simulation_ignores_a_tpu_and_uses_the_cpu(tmp_path):
    got = run_engine(tmp_path, fake_tpu(tmp_path / "tpu"), EDGELAB_SIMULATE_DEVICES=2)
    assert (got["engine"], got["replicas"], got["kind"]) == ("tensorflow", 2, "CPU")


# --------------------------------------------------------------------------- loud failure

def test_a_tpu_that_jax_cannot_use_stops_with_the_fix(tmp_path):
    got = run_engine(tmp_path, fake_tpu(tmp_path / "tpu"))
    assert "TPU v5e x1" in got["error"] and "libtpu" in got["error"]
    assert 'pip install -U "jax[tpu]"' in got["error"]
    assert devices.ALLOW_CPU_VAR in got["error"]


def test_tensorflow_asked_to_drive_a_tpu_stops_with_the_fix(tmp_path):
    got = run_engine(tmp_path, fake_tpu(tmp_path / "tpu"), KERAS_BACKEND="tensorflow")
    assert "set KERAS_BACKEND=jax" in got["error"]


def test_a_gpu_that_tensorflow_cannot_see_stops_with_the_fix(tmp_path):
    got = run_engine(tmp_path, fake_gpu(tmp_path / "gpu"))
    assert "NVIDIA GPU" in got["error"] and 'tensorflow[and-cuda]' in got["error"]
    jax = run_engine(tmp_path, fake_gpu(tmp_path / "gpu2"), KERAS_BACKEND="jax")
    assert 'jax[cuda12]' in jax["error"]


def test_the_cpu_on_purpose_is_allowed(tmp_path):
    got = run_engine(tmp_path, fake_tpu(tmp_path / "tpu"), EDGELAB_ALLOW_CPU=1)
    assert (got["engine"], got["replicas"], got["kind"]) == ("jax", 1, "CPU")
    assert "a TPU is attached" in got["describe"]


def test_keras_imported_with_another_backend_asks_for_a_restart(tmp_path):
    code = textwrap.dedent("""
        import os
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import keras
        os.environ["KERAS_BACKEND"] = "jax"
        from edgelab import devices
        try:
            devices.choose_engine()
        except devices.DeviceError as err:
            print(err)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop(devices.SIMULATE_VAR, None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert "already imported with the tensorflow backend" in proc.stdout
    assert "restart the kernel" in proc.stdout
