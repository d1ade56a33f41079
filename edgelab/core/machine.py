"""What machine a figure was measured on, in one line stored next to every result.

A figure without its machine is not worth much: 170 images/s means one thing on two CPU
cores and another on a GPU. This module reads the CPU model, the core count and the
accelerator (``nvidia-smi`` when present, a TPU device file) without importing TensorFlow.
"""

from __future__ import annotations

import glob
import os
import platform
from typing import Any


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
    gpus = os.environ.get("EDGELAB_GPU_NAME")  # set by the runner when it knows better
    if not gpus:
        try:
            import subprocess

            out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=5)
            gpus = ", ".join(x.strip() for x in out.stdout.splitlines() if x.strip())
        except (OSError, subprocess.SubprocessError):
            gpus = ""
    info["accelerator"] = gpus or ("TPU" if glob.glob("/dev/accel*") else "none")
    return info


def hardware_line() -> str:
    """``hardware()`` as one readable line."""
    h = hardware()
    return f"{h.get('cpu', 'CPU')} x{h['cpu_count']}, accelerator: {h['accelerator']}"
