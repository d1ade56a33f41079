#!/usr/bin/env bash
# Build a replica of Google Colab's Python stack, then install edgelab into it the way
# Colab's setup cell does (`tools/install.sh --colab`), and check that Colab's own packages
# came out unchanged. Used by `make colab-setup` (and so `make test-colab`, `make test`).
#
#   tools/colab_replica.sh VENV FREEZE
#
# FREEZE is Colab's published package list (tools/colab/pip-freeze.gpu.txt, see tools/colab/README.md); the replica
# holds the packages edgelab touches at Colab's versions (tools/colab_replica.py says which
# and why). Python 3.13 (Colab's) is found as: $COLAB_PYTHON if set, else the newest
# $(pyenv root)/versions/3.13.*, else python3.13 on PATH. Without one this fails: the bottom
# end of the supported range is then untested, which must not pass unnoticed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${1:?usage: tools/colab_replica.sh VENV FREEZE}
FREEZE=${2:?usage: tools/colab_replica.sh VENV FREEZE}
WANT=3.13

say() { echo "colab replica: $*"; }
fail() { echo "colab replica: FAILED: $*" >&2; exit 1; }

is_python() { [ -n "$1" ] && "$1" -c "import sys; sys.exit(sys.version_info[:2] != ($WANT_TUPLE))" 2>/dev/null; }
WANT_TUPLE="${WANT%%.*}, ${WANT#*.}"

find_python() {
  local root candidate
  if [ -n "${COLAB_PYTHON:-}" ]; then
    is_python "$COLAB_PYTHON" || fail "COLAB_PYTHON=$COLAB_PYTHON is not a Python $WANT"
    echo "$COLAB_PYTHON"; return
  fi
  if root=$(pyenv root 2>/dev/null); then
    for candidate in $(ls -d "$root"/versions/$WANT.* 2>/dev/null | sort -V -r); do
      if is_python "$candidate/bin/python$WANT"; then echo "$candidate/bin/python$WANT"; return; fi
    done
  fi
  if candidate=$(command -v "python$WANT") && is_python "$candidate"; then
    echo "$candidate"; return
  fi
  fail "no Python $WANT found (looked at \$COLAB_PYTHON, \$(pyenv root)/versions/$WANT.*, python$WANT on PATH).
Colab runs Python $WANT, the bottom end of edgelab's supported range, and this stage tests it.
Install one (for example: pyenv install $WANT) or set COLAB_PYTHON=/path/to/python$WANT."
}

[ -f "$FREEZE" ] || fail "no Colab package list at $FREEZE (the repository keeps it in tools/colab/; set COLAB_FREEZE)"
PY313=$(find_python)
say "Python $("$PY313" -c 'import sys; print(sys.version.split()[0])') ($PY313); Colab's package list: $FREEZE"

start=$SECONDS
rm -rf "$VENV"
"$PY313" -m venv "$VENV"
PY="$VENV/bin/python"
PLAN="$VENV/colab-plan"
python3 "$ROOT/tools/colab_replica.py" plan "$FREEZE" --out "$PLAN"
pip_install() { "$PY" -m pip install -q --disable-pip-version-check --progress-bar off "$@"; }
pip_install -c "$PLAN/constraints.txt" pip   # Colab's pip first, then everything at Colab's versions
pip_install -r "$PLAN/requirements.txt" -c "$PLAN/constraints.txt"
say "Colab's stack built in $((SECONDS - start)) s"

# What the setup cell runs on Colab, with nothing cached (as on a new Colab runtime).
start=$SECONDS
PIP_NO_CACHE_DIR=1 bash "$ROOT/tools/install.sh" --colab --python "$PY"
say "tools/install.sh --colab took $((SECONDS - start)) s (no pip cache)"
python3 "$ROOT/tools/colab_replica.py" check "$FREEZE" --python "$PY" \
  || fail "tools/install.sh --colab replaced packages of Colab's stack (listed above)"

# The test tools (nbval, pytest-xdist, tf-keras-vis) on top, through the same Colab path,
# then the kernel the notebooks run on under nbval.
bash "$ROOT/tools/install.sh" --colab --extras dev --python "$PY"
python3 "$ROOT/tools/colab_replica.py" check "$FREEZE" --python "$PY" \
  || fail "installing the test tools replaced packages of Colab's stack (listed above)"
PYDEVD_DISABLE_FILE_VALIDATION=1 "$PY" -m ipykernel install --sys-prefix --name python3 >/dev/null
touch "$VENV/.edgelab-colab-replica"
say "ready: $VENV"
