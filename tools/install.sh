#!/usr/bin/env bash
# Install edgelab into one Python environment.
#
#   tools/install.sh [--python PY] [--extras lab,dev]   the pinned, tested stack
#   tools/install.sh --colab [--python PY] [--extras dev]
#                                                        Colab: keep Colab's stack, add the rest
#
# --colab on a TPU runtime (JAX and no TensorFlow) installs edgelab alone, for notebook 01.
#
# Every install path uses this script: `make setup` (a .venv), CI (through `make test`, for
# the pinned stack and for the Colab replica), conda, and the notebooks' Colab setup cell.
#
# Pinned (the default): exactly constraints.txt. Chainer 7.8.1 ships only an sdist whose
# build imports pkg_resources (gone from setuptools >= 82), so setuptools < 70 goes in
# first and Chainer is built against it without build isolation, then edgelab and the rest.
#
# --colab: Colab's TensorFlow, Keras, NumPy, OpenCV and Jupyter packages are matched to its
# GPU and front end; replacing them needs a runtime restart and can lose the GPU. So every
# package already installed keeps its version (a constraint), and only what is missing
# comes in, at the version in constraints.txt. Chainer is built in an isolated environment
# with setuptools < 70 and edgelab.chainer.compat supplies what it lacks at run time, so
# Colab's own setuptools stays. Needs no restart; about a minute; seconds when re-run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=python3
EXTRAS=""
COLAB=0
while [ $# -gt 0 ]; do
  case "$1" in
    --python) PY="$2"; shift 2 ;;
    --extras) EXTRAS="[$2]"; shift 2 ;;
    --colab) COLAB=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

pip_install() { "$PY" -m pip install --disable-pip-version-check --progress-bar off "$@"; }
edgelab_version() { "$PY" -c 'import edgelab; print("edgelab", edgelab.__version__)'; }
versions() {  # name==version of the packages named, as installed ("none" if absent)
  "$PY" - "$@" <<'EOF'
import importlib.metadata as m, sys
for name in sys.argv[1:]:
    try:
        print(f"{name}=={m.version(name)}")
    except m.PackageNotFoundError:
        print(f"{name}==none")
EOF
}

# ---- torch extra (notebook 08, `edgelab convert`) ---------------------------------------
# torch, onnx2tf and litert-torch go in with --no-deps: their declared pins would replace
# setuptools<70 (chainer), TensorFlow, NumPy, protobuf and onnx (torch 2.13 declares
# setuptools>=77). The set below was tested beside the pinned stack; onnx2tf 2.x needs
# Python >= 3.12, 1.29.24 is the last for 3.11. onnxscript and onnx-ir are what the dynamo
# exporter of torch.onnx.export needs (notebook 08 shows it beside the deprecated TorchScript
# one). An installed torch is kept (Colab ships its own); on Python 3.11 torch 2.13.0 (its
# CPU build); elsewhere the CPU-only build from $EDGELAB_TORCH_INDEX (default PyTorch's CPU
# wheel index; untested here, no such index is reachable from this project's machines). On Colab, only beside Colab's own torch.
install_torch_extra() {
  local colab=${1:-0}
  if "$PY" -c "import torch" 2>/dev/null; then
    echo "edgelab install: torch extra beside the installed torch $("$PY" -c 'import torch; print(torch.__version__)')"
  elif [ "$colab" = 1 ]; then
    echo "edgelab install: no torch here, so no torch extra: notebook 08 needs a runtime with PyTorch"
    return
  elif "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "edgelab install: torch extra (torch 2.13.0 CPU, onnx2tf, litert-torch; --no-deps)"
    pip_install -q --no-deps "torch==2.13.0"
  else
    echo "edgelab install: torch extra (CPU torch from ${EDGELAB_TORCH_INDEX:-https://download.pytorch.org/whl/cpu})"
    pip_install -q --no-deps "torch>=2.4,<2.15" \
      --index-url "${EDGELAB_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"
  fi
  pip_install -q --no-deps \
    "onnx2tf==1.29.24; python_version < '3.12'" "onnx2tf==2.6.9; python_version >= '3.12'" \
    onnx-graphsurgeon==0.6.1 sng4onnx==2.0.1 sne4onnx==2.0.1 \
    litert-torch==0.10.0 litert-converter==0.5.0 ai-edge-quantizer==0.10.0 torchao==0.18.0 \
    immutabledict==4.3.1 onnxscript==0.7.2 onnx-ir==1.1.0
  if [ "$colab" = 1 ]; then   # the extra's own runtime dependencies, Colab's packages kept
    pip_install -q -c "$tmp/keep.txt" --no-build-isolation -e "$ROOT[torch]"
  fi
}
# ---- end of the torch extra ----------------------------------------------------------------

# ---- the pinned stack: make setup, CI's pinned stage, conda ----------------------------
install_pinned() {
  local pins=(-c "$ROOT/constraints.txt")
  echo "edgelab install: 1/3 build tools (setuptools<70, wheel)"
  pip_install "${pins[@]}" "setuptools>=65,<70" wheel
  echo "edgelab install: 2/3 chainer 7.8.1 (sdist, built without build isolation)"
  pip_install "${pins[@]}" --no-build-isolation "chainer==7.8.1"
  echo "edgelab install: 3/3 edgelab${EXTRAS} and the pinned stack"
  pip_install "${pins[@]}" -e "$ROOT$EXTRAS"
  if [[ "$EXTRAS" == *torch* ]]; then install_torch_extra; fi
  echo "edgelab install: done ($(edgelab_version))"
}

# ---- Colab: keep what the runtime ships, add what it lacks ------------------------------
# The packages that must come out of a Colab install as they went in (checked, not hoped).
COLAB_KEEP=(tensorflow keras tf-keras numpy)

install_colab_keeping_its_stack() {
  local start=$SECONDS stamp key before after
  stamp="$ROOT/build/colab-install.stamp"
  key="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" "$ROOT/tools/colab-constraints.txt" "${BASH_SOURCE[0]}" | cksum) $EXTRAS $("$PY" -c 'import sys; print(sys.prefix, sys.version.split()[0])')"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && ! versions edgelab chainer | grep -q '==none$'; then
    echo "edgelab install: already done ($(edgelab_version)); nothing to do"
    return
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  before=$(versions "${COLAB_KEEP[@]}")

  # Constraints: every installed package at its installed version; each missing one at the
  # version in tools/colab-constraints.txt (where constraints.txt's pin cannot go with
  # Colab's stack), else in constraints.txt. edgelab itself is free (a re-run reinstalls it).
  "$PY" - "$ROOT/tools/colab-constraints.txt" "$ROOT/constraints.txt" > "$tmp/keep.txt" <<'EOF'
import importlib.metadata as m, re, sys
canon = lambda name: re.sub(r"[-_.]+", "-", name).lower()
pins = {}
for dist in m.distributions():
    name = dist.metadata["Name"]
    if name and canon(name) != "edgelab":
        pins[canon(name)] = f"{name}=={dist.version}"
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            pins.setdefault(canon(line.split("==", 1)[0]), line)
print("\n".join(sorted(pins.values())))
EOF
  # Chainer's sdist build needs pkg_resources: setuptools < 70 in its isolated build
  # environment only (pip < 25.3 reads PIP_CONSTRAINT there, newer pip PIP_BUILD_CONSTRAINT).
  printf 'setuptools>=65,<70\nwheel<0.46\n' > "$tmp/build.txt"

  echo "edgelab install (Colab): 1/2 chainer 7.8.1 (sdist, built with setuptools<70 in isolation)"
  PIP_CONSTRAINT="$tmp/build.txt" PIP_BUILD_CONSTRAINT="$tmp/build.txt" \
    pip_install -q --no-deps "chainer==7.8.1"
  echo "edgelab install (Colab): 2/2 edgelab${EXTRAS} and what Colab lacks (Colab's own packages stay)"
  pip_install -q -c "$tmp/keep.txt" --no-build-isolation -e "$ROOT$EXTRAS"

  install_torch_extra 1
  after=$(versions "${COLAB_KEEP[@]}")
  if [ "$before" != "$after" ]; then
    echo "edgelab install: FAILED to keep Colab's stack: $(echo $before) became $(echo $after)." >&2
    echo "Use Runtime > Disconnect and delete runtime, then run the setup cell again." >&2
    exit 1
  fi
  mkdir -p "$ROOT/build" && echo "$key" > "$stamp"
  echo "edgelab install: done in $((SECONDS - start)) s ($(edgelab_version); kept Colab's $(echo $after))"
}

# ---- Colab TPU runtime (issue 17) ------------------------------------------------------
# Colab's TPU runtimes ship JAX, libtpu, Keras, NumPy, matplotlib, tqdm, pooch and the
# notebook machinery, but no TensorFlow. The pinned stack would pull TensorFlow (and its
# NumPy) over them; notebook 01 does not need it there: it trains on the JAX engine from
# NumPy batches. So on such a runtime install edgelab alone (--no-deps), plus any of the
# few packages notebook 01 imports that the runtime lacks, and keep everything else.
colab_tpu_runtime() {
  "$PY" -c 'import importlib.util as u, sys; sys.exit(0 if u.find_spec("tensorflow") is None and u.find_spec("jax") is not None else 1)'
}
colab_tpu_install() {
  local needed=(numpy keras matplotlib tqdm pooch psutil nbformat nbclient) missing=() m
  for m in "${needed[@]}"; do
    KERAS_BACKEND=jax "$PY" -c "import $m" 2>/dev/null || missing+=("$m")  # Keras without TF: jax
  done
  echo "edgelab install: Colab TPU runtime (JAX, no TensorFlow): installing edgelab without its TensorFlow stack"
  if [ ${#missing[@]} -gt 0 ]; then
    echo "edgelab install: adding what this runtime lacks: ${missing[*]}"
    "$PY" -m pip install -q --disable-pip-version-check --progress-bar off "${missing[@]}"
  fi
  "$PY" -m pip install -q --disable-pip-version-check --progress-bar off --no-deps -e "$ROOT"
  echo "edgelab install: kept this runtime's $(KERAS_BACKEND=jax "$PY" -c 'import jax, keras, numpy; print(f"jax {jax.__version__}, keras {keras.__version__}, numpy {numpy.__version__}")')"
  echo "edgelab install: notebook 01 runs here on the JAX engine; the lessons that need TensorFlow (02-07) need a GPU or CPU runtime"
  echo "edgelab install: done ($("$PY" -c 'import edgelab; print("edgelab", edgelab.__version__)'))"
}

install_colab() {
  # Colab runtimes differ in what they ship. GPU and CPU runtimes ship TensorFlow, Keras 3,
  # tf_keras, NumPy and OpenCV: install_colab_keeping_its_stack keeps them all.
  # TPU runtimes ship no TensorFlow (JAX + Keras only): colab_tpu_install, for notebook 01.
  if colab_tpu_runtime; then
    colab_tpu_install
  else
    install_colab_keeping_its_stack
  fi
}

if [ "$COLAB" = 1 ]; then
  install_colab
else
  install_pinned
fi
