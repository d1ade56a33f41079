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
  grep -viE '^(ipykernel|ipython|ipython-pygments-lexers|ipywidgets|widgetsnbextension|jupyter[-_a-z]*|notebook[-_a-z]*|nbclient|nbconvert|nbformat|tornado|traitlets|pyzmq|comm|debugpy|matplotlib-inline|prompt[-_]toolkit|jedi|parso)==' \
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
