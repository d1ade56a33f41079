"""What machine a figure was measured on, in one line stored next to every result.

A figure without its machine is not worth much: 170 images/s means one thing on two CPU
cores and another on a GPU. This module reads the CPU model, the core count and the
accelerator (``nvidia-smi`` when present, a TPU device file) without importing TensorFlow.
"""

from __future__ import annotations

import functools
import glob
import os
import platform
import subprocess
from typing import Any


TPU_VARS = ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_ADDRESS", "TPU_ACCELERATOR_TYPE")


@functools.lru_cache(maxsize=1)
def _probe_accelerator() -> tuple[str, str]:
    gpus = os.environ.get("EDGELAB_GPU_NAME", "").strip()  # set by whoever knows better
    if gpus:
        return gpus, "EDGELAB_GPU_NAME"
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=5)
        gpus = ", ".join(x.strip() for x in out.stdout.splitlines() if x.strip())
    except (OSError, subprocess.SubprocessError):
        gpus = ""
    if gpus:
        return gpus, "nvidia-smi"
    named = [v for v in TPU_VARS if os.environ.get(v)]
    if named:
        return "TPU", named[0]
    if glob.glob("/dev/accel*"):
        return "TPU", "/dev/accel*"
    return "none", "no nvidia-smi GPU, no TPU device or TPU variable"


def accelerator() -> tuple[str, str]:
    """``(name, how it was found)``: e.g. ``("NVIDIA H200", "nvidia-smi")``, ``("TPU",
    "TPU_NAME")``, or ``("none", ...)``. Probed once per process, without TensorFlow."""
    return _probe_accelerator()


def hardware() -> dict[str, Any]:
    """A short description of this machine, stored next to every recorded figure."""
    info: dict[str, Any] = {"cpu_count": os.cpu_count(), "machine": platform.machine()}
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        info["cpu"] = platform.processor() or "unknown"
    info["accelerator"] = accelerator()[0]
    return info


def hardware_line() -> str:
    """``hardware()`` as one readable line."""
    h = hardware()
    return f"{h.get('cpu', 'CPU')} x{h['cpu_count']}, accelerator: {h['accelerator']}"
