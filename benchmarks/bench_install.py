"""What the install weighs: the disk the stack and the torch extra take once installed.

A workshop teacher needs it before the day (thirty laptops downloading PyTorch over the
venue's network is a failure learners hit); the teacher's notes (``edgelab teach``) quote
these figures. Sizes are the installed files each distribution lists in its RECORD, read
with ``importlib.metadata`` in the environment this runs in (``make setup``'s venv):

* ``install.torch_extra_mb``: torch, onnx2tf, litert-torch and the packages only they need;
* ``install.tensorflow_mb``: TensorFlow with tf-keras and TensorFlow Hub;
* ``install.environment_mb``: every distribution installed in the environment.
"""

from __future__ import annotations

from importlib import metadata

from benchmarks.common import report

# the torch extra as tools/install.sh installs it (--no-deps), plus the runtime
# dependencies pyproject's `torch` extra lists
TORCH_EXTRA = ("torch", "onnx2tf", "onnx-graphsurgeon", "sng4onnx", "sne4onnx", "litert-torch",
               "litert-converter", "ai-edge-quantizer", "torchao", "sympy", "mpmath", "networkx",
               "immutabledict")
TENSORFLOW = ("tensorflow", "tf-keras", "tensorflow-hub", "tensorboard")


def installed_mb(name: str) -> float:
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return 0.0
    total = 0
    for f in dist.files or ():
        try:
            total += f.locate().stat().st_size
        except OSError:
            continue
    return total / 1e6


def main() -> None:
    present = [n for n in TORCH_EXTRA if installed_mb(n)]
    if "torch" in present:
        report("install.torch_extra_mb", round(sum(map(installed_mb, present)), 1), "MB",
               note=f"torch {metadata.version('torch')} and {len(present) - 1} more, installed",
               source="bench_install")
    else:
        print("  the torch extra is not installed here: install.torch_extra_mb not recorded")
    report("install.tensorflow_mb", round(sum(map(installed_mb, TENSORFLOW)), 1), "MB",
           note=f"tensorflow {metadata.version('tensorflow')}, tf-keras, tensorflow-hub, "
                "tensorboard", source="bench_install")
    names = {d.metadata["Name"] for d in metadata.distributions()}
    report("install.environment_mb", round(sum(map(installed_mb, names)), 1), "MB",
           note=f"{len(names)} distributions", source="bench_install")


if __name__ == "__main__":
    main()
