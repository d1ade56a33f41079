"""A replica of Google Colab's Python stack on a CPU-only machine, for CI.

Colab's default runtime is the bottom end of edgelab's supported range: Python 3.13 with
Colab's own TensorFlow, Keras, NumPy, OpenCV, Jupyter kernel and the rest. Colab publishes
its package list (``pip freeze`` of the runtime, ``tools/colab/pip-freeze.gpu.txt``);
this tool turns it into a virtual environment that holds the packages edgelab touches,
at Colab's versions, so that ``tools/install.sh --colab`` and every notebook can be run
against it here (``make test-colab``)::

    python tools/colab_replica.py plan FREEZE --out DIR      # DIR/requirements.txt, constraints.txt
    python tools/colab_replica.py check FREEZE --python PY   # are Colab's versions still there?
    python tools/colab_replica.py versions --python PY       # the headline versions of an env

"The packages edgelab touches" are the packages of the pinned stack (``constraints.txt``:
edgelab, its lab and dev extras and everything they pull in) that Colab also ships, plus
Colab's Jupyter kernel (ipykernel, IPython, ipywidgets, jupyter_client) and its build tools
(pip, setuptools, wheel). JAX is among them (notebook 01's second engine), at Colab's
version, as the CPU build: Colab's ``jax-cuda12-*`` plugins are left out. Everything else
Colab ships (torch, spaCy, ...) is left out: nothing in edgelab imports it. Packages built for
CUDA have CPU equivalents: TensorFlow's wheel is the same for both (the GPU needs the
``nvidia-*`` packages, left out here).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Colab's Jupyter kernel and build tools: not in edgelab's pins under these versions, but
# the notebooks run on them (ipywidgets feeds tqdm's notebook bars; setuptools builds Chainer).
KERNEL_AND_TOOLS = ["pip", "setuptools", "wheel", "ipykernel", "ipython", "ipywidgets",
                    "jupyter-client", "jupyter-core", "traitlets", "tornado", "pyzmq"]

# Left out even where edgelab's closure would ask for them: CUDA builds (several GB, and no
# GPU here), Colab's own packages installed from files or URLs, and PyTorch (edgelab's
# lessons on it install their own CPU build; a torch from PyPI on Python 3.13 is the CUDA one).
SKIP_PREFIXES = ("nvidia-", "jax-cuda", "cuda-", "cupy-", "libtpu", "torch")


def canonical(name: str) -> str:
    """A package name as pip compares it (PEP 503): lower case, runs of -_. as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: str | Path) -> dict[str, tuple[str, str]]:
    """``{canonical name: (name as written, version)}`` of the ``name==version`` lines of a
    pip freeze or constraints file; URL installs (``name @ url``) and comments are ignored."""
    pins = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" not in line or "@" in line:
            continue
        name, version = (part.strip() for part in line.split("==", 1))
        pins[canonical(name)] = (name, version)
    return pins


def skipped(name: str, version: str) -> str | None:
    """Why a package of Colab's list stays out of the replica, or None if it goes in."""
    if "+" in version:
        return f"a local build ({version})"
    if canonical(name).startswith(SKIP_PREFIXES) or canonical(name).endswith("-cu12"):
        return "a CUDA/TPU or PyTorch package"
    return None


def plan(freeze: str | Path, pinned: str | Path = ROOT / "constraints.txt"):
    """What the replica installs: ``(requirements, constraints, left_out)``.

    ``requirements`` are the ``name==version`` lines to install (Colab's versions of what
    edgelab touches); ``constraints`` pin every other package of Colab's list to Colab's
    version, so what pip pulls in as a dependency is Colab's too; ``left_out`` maps the
    packages edgelab touches that the replica cannot hold to the reason.
    """
    colab = read_pins(freeze)
    wanted = set(read_pins(pinned)) | {canonical(n) for n in KERNEL_AND_TOOLS}
    requirements, constraints, left_out = [], [], {}
    for key, (name, version) in sorted(colab.items()):
        why = skipped(name, version)
        if why:
            if key in wanted:
                left_out[name] = why
            continue
        constraints.append(f"{name}=={version}")
        if key in wanted:
            requirements.append(f"{name}=={version}")
    return requirements, constraints, left_out


def installed_versions(python: str) -> dict[str, str]:
    """``{canonical name: version}`` of every distribution in ``python``'s environment."""
    import json
    import subprocess

    code = ("import json, importlib.metadata as m; print(json.dumps("
            "{d.metadata['Name']: d.version for d in m.distributions() if d.metadata['Name']}))")
    out = subprocess.run([python, "-I", "-c", code], check=True, capture_output=True, text=True)
    return {canonical(k): v for k, v in json.loads(out.stdout).items()}


# The packages whose replacement makes Colab need a restart or lose its GPU: after
# `tools/install.sh --colab` these must still be Colab's own.
MUST_KEEP = ["tensorflow", "keras", "tf-keras", "numpy", "tensorboard", "protobuf", "ml-dtypes",
             "h5py", "scipy", "pandas", "opencv-python-headless", "matplotlib", "setuptools",
             "ipykernel", "ipython", "ipywidgets", "jupyter-client", "tornado"]


def check(freeze: str | Path, python: str) -> list[str]:
    """Problems: packages of Colab's list whose version in ``python``'s environment differs
    (every one of them is checked; :data:`MUST_KEEP` must also be present)."""
    colab = read_pins(freeze)
    have = installed_versions(python)
    problems = []
    for key in MUST_KEEP:
        if key in colab and key not in have:
            problems.append(f"{colab[key][0]}: Colab has {colab[key][1]}, the replica has none")
    for key, version in sorted(have.items()):
        if key in colab and colab[key][1] != version:
            problems.append(f"{colab[key][0]}: Colab has {colab[key][1]}, the replica has {version}")
    return problems


# The versions `make test` prints for each end of the supported range.
HEADLINE = ["tensorflow", "keras", "tf-keras", "numpy", "opencv-python-headless", "matplotlib",
            "pandas", "ipykernel", "ipywidgets", "setuptools", "chainer", "dm-sonnet", "onnx"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="colab_replica.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plan", help="write requirements.txt and constraints.txt for the replica")
    p.add_argument("freeze")
    p.add_argument("--out", required=True)
    c = sub.add_parser("check", help="fail if a package no longer has Colab's version")
    c.add_argument("freeze")
    c.add_argument("--python", required=True)
    v = sub.add_parser("versions", help="print Python's and the headline packages' versions")
    v.add_argument("--python", required=True)
    args = parser.parse_args(argv)
    if args.command == "versions":
        import subprocess

        have = installed_versions(args.python)
        py = subprocess.run([args.python, "-c", "import platform; print(platform.python_version())"],
                            check=True, capture_output=True, text=True).stdout.strip()
        print(f"Python {py}: " + ", ".join(f"{k} {have.get(k, '(none)')}" for k in HEADLINE))
        return 0
    if not Path(args.freeze).is_file():
        print(f"colab_replica: no Colab package list at {args.freeze} (the repository "
              "keeps it in tools/colab/; set COLAB_FREEZE to its path)", file=sys.stderr)
        return 2
    if args.command == "plan":
        requirements, constraints, left_out = plan(args.freeze)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
        (out / "constraints.txt").write_text("\n".join(constraints) + "\n", encoding="utf-8")
        print(f"colab replica: {len(requirements)} packages at Colab's versions "
              f"(of {len(read_pins(args.freeze))} in Colab's list)")
        for name, why in sorted(left_out.items()):
            print(f"colab replica: left out {name}: {why}")
        return 0
    colab = read_pins(args.freeze)
    have = installed_versions(args.python)
    problems = check(args.freeze, args.python)
    for key in ("tensorflow", "keras", "tf-keras", "numpy", "opencv-python-headless"):
        print(f"colab replica: {colab[key][0]} {have.get(key, 'missing')} "
              f"(Colab: {colab[key][1]})")
    added = sorted(k for k in have if k not in colab)
    print(f"colab replica: {len(added)} packages that Colab lacks: {' '.join(added)}")
    for problem in problems:
        print(f"colab replica: NOT COLAB'S: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
