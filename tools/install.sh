#!/usr/bin/env bash
# Install edgelab and its pinned, tested stack into one Python environment.
#
#   tools/install.sh [--python PY] [--extras lab,dev] [--colab]
#
# --colab on a TPU runtime (JAX and no TensorFlow) installs edgelab alone, for notebook 01.
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
if [ "$COLAB" = 1 ] && colab_tpu_runtime; then
  colab_tpu_install
  exit 0
fi
# ---- end of the Colab TPU runtime block -------------------------------------------------

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

if [ "$COLAB" = 1 ]; then
  AFTER=$("$PY" -c 'import numpy; print(numpy.__version__)')
  if [ "$BEFORE" != "none" ] && [ "$BEFORE" != "$AFTER" ]; then
    echo "NumPy changed from $BEFORE to $AFTER: use Runtime > Restart session, then run the notebook from the top."
  fi
fi
echo "edgelab install: done ($("$PY" -c 'import edgelab; print("edgelab", edgelab.__version__)'))"
