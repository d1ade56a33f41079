#!/usr/bin/env bash
# Install edgelab and its pinned, tested stack into one Python environment.
#
#   tools/install.sh [--python PY] [--extras lab,dev] [--colab]
#
# Every install path uses this script and constraints.txt: `make setup` (a .venv),
# CI (through `make test`), and the Colab setup cell (--colab). Three steps, because
# chainer 7.8.1 ships only an sdist whose build imports pkg_resources, which
# setuptools >= 70 no longer has: we pin setuptools below 70 first, then build chainer
# against it without build isolation, then install edgelab and the rest.
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
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

CONSTRAINTS="$ROOT/constraints.txt"
QUIET=()
if [ "$COLAB" = 1 ]; then
  QUIET=(-q)
  # Colab's own Jupyter front end runs on its ipykernel/tornado/jupyter packages: keep the
  # pins of the ML stack, leave the notebook machinery Colab ships with alone.
  CONSTRAINTS=$(mktemp)
  grep -viE '^(ipykernel|ipython|ipython-pygments-lexers|jupyter[-_a-z]*|notebook[-_a-z]*|nbclient|nbconvert|nbformat|tornado|traitlets|pyzmq|comm|debugpy|matplotlib-inline|prompt[-_]toolkit|jedi|parso)==' \
    "$ROOT/constraints.txt" > "$CONSTRAINTS"
fi
PIP=("$PY" -m pip install --disable-pip-version-check --progress-bar off -c "$CONSTRAINTS")

if [ "$COLAB" = 1 ]; then
  BEFORE=$("$PY" -c 'import numpy; print(numpy.__version__)' 2>/dev/null || echo none)
fi

echo "edgelab install: 1/3 build tools (setuptools<70, wheel)"
"${PIP[@]}" "${QUIET[@]}" "setuptools>=65,<70" wheel
echo "edgelab install: 2/3 chainer 7.8.1 (sdist, built without build isolation)"
"${PIP[@]}" "${QUIET[@]}" --no-build-isolation "chainer==7.8.1"
echo "edgelab install: 3/3 edgelab${EXTRAS} and the pinned stack"
"${PIP[@]}" "${QUIET[@]}" -e "$ROOT$EXTRAS"

# ---- torch extra (issue 19: notebook 08, `edgelab convert`) ---------------------------------
# torch, onnx2tf and litert-torch go in with --no-deps: their declared pins would replace
# setuptools<70 (chainer), TensorFlow, NumPy, protobuf and onnx. The sets below were tested
# beside the pinned stack; onnx2tf 2.x needs Python >= 3.12, 1.29.24 is the last for 3.11.
# torch: an installed one is kept (Colab ships its own); on Python 3.11 torch 2.13.0 (a CPU
# build where a local wheel exists); elsewhere the CPU-only build from EDGELAB_TORCH_INDEX.
# On Colab (--colab) the converters are always added, beside Colab's torch and jax.
if [[ "$EXTRAS" == *torch* ]] || [ "$COLAB" = 1 ]; then
  echo "edgelab install: torch extra (PyTorch, onnx2tf, litert-torch; --no-deps)"
  if "$PY" -c "import torch" 2>/dev/null; then
    echo "  keeping the installed torch $("$PY" -c 'import torch; print(torch.__version__)')"
  elif "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    "${PIP[@]}" "${QUIET[@]}" --no-deps "torch==2.13.0"
  else
    "${PIP[@]}" "${QUIET[@]}" --no-deps "torch>=2.4,<2.15" \
      --index-url "${EDGELAB_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"
  fi
  JAX=(jax==0.10.2 jaxlib==0.10.2)
  if "$PY" -c "import jax" 2>/dev/null; then JAX=(); fi
  "${PIP[@]}" "${QUIET[@]}" --no-deps \
    "onnx2tf==1.29.24; python_version < '3.12'" "onnx2tf==2.6.9; python_version >= '3.12'" \
    onnx-graphsurgeon==0.6.1 sng4onnx==2.0.1 sne4onnx==2.0.1 \
    litert-torch==0.10.0 litert-converter==0.5.0 ai-edge-quantizer==0.10.0 torchao==0.18.0 \
    immutabledict==4.3.1 "${JAX[@]}"
fi
# ---- end of the torch extra ----------------------------------------------------------------

if [ "$COLAB" = 1 ]; then
  AFTER=$("$PY" -c 'import numpy; print(numpy.__version__)')
  if [ "$BEFORE" != "none" ] && [ "$BEFORE" != "$AFTER" ]; then
    echo "NumPy changed from $BEFORE to $AFTER: use Runtime > Restart session, then run the notebook from the top."
  fi
fi
echo "edgelab install: done ($("$PY" -c 'import edgelab; print("edgelab", edgelab.__version__)'))"
