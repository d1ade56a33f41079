# edgelab: the two commands from the README, and the development targets behind them.
#
#   make curriculum   set up, then run every notebook headless (the profile fits the machine:
#                     full with a GPU or TPU, quick without; PROFILE=quick|full chooses)
#   make test         set up, then run every test (unit tests + notebooks under nbval, quick
#                     profile) at both ends of the supported range: test-pinned, test-colab
#   make test-repeat  the unit tests N times (N=3), each round in a new shuffled order and seed
#   make book         the book: a static site of the lessons in build/book/ (tools/book.py)
#   make docs         regenerate the generated tables (README, README.ja.md, the book's pages)
#                     and the teacher's notes in every language (teaching/, teaching/ja/)

PYTHON   ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
# Empty: edgelab decides (full with an accelerator, quick without). PROFILE=full forces it.
PROFILE  ?=
OUT      ?=
STAMP    := $(VENV)/.edgelab-installed
# Notebooks executed without a front end show text progress bars, not widgets.
HEADLESS := EDGELAB_HEADLESS=1
# Tests run in the quick profile and write into a fresh folder, so a model left over
# from an earlier run can never make a notebook pass.
TEST_OUT := build/test-outputs
PYTEST_ARGS ?=

.PHONY: setup curriculum test test-pinned test-replicas test-repeat unit notebooks-test notebooks bench readme docs book record-run lab browser constraints clean
.PHONY: colab-setup test-colab translations

# The translated notebooks (notebooks/<lang>/) from the English ones and i18n/<lang>/*.md,
# then what is generated from them (make docs: README.ja.md's and the book's lesson tables,
# teaching/<lang>/); refuses while a translation is stale (python tools/translations.py
# todo <lang> says what).
translations: setup
	$(PY) tools/translations.py build

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt tools/install.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	bash tools/install.sh --python $(PY) --extras lab,dev,torch,book
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

curriculum: setup
	$(VENV)/bin/edgelab run $(if $(PROFILE),--profile $(PROFILE)) $(if $(OUT),--out $(OUT))

# Both ends of the supported range, one after the other, each stage timed.
test:
	@t=$$(date +%s); $(MAKE) --no-print-directory test-pinned && \
	  echo "make test: pinned stage (Python 3.11, constraints.txt) took $$(( $$(date +%s) - t )) s"
	@t=$$(date +%s); $(MAKE) --no-print-directory test-colab && \
	  echo "make test: Colab stage (Python 3.13, Colab's stack) took $$(( $$(date +%s) - t )) s"

# The top end: the pinned stack of `make setup`; every unit test and every notebook, then
# notebook 01 on two simulated replicas. A fixed order (-p no:randomly, also pyproject's
# default): nbval must run each notebook's cells in order and the notebooks in curriculum
# order (later ones load earlier models), and a CI failure should replay from the log alone.
# The translated notebooks (notebooks/ja/) are not run: their code cells are the English
# ones, cell by cell (tests/test_translations.py proves it), so nbval would run the same code twice.
# Order independence is test-repeat's job.
test-pinned: setup browser
	@$(PY) tools/colab_replica.py versions --python $(PY)
	rm -rf $(TEST_OUT)
	$(HEADLESS) EDGELAB_PROFILE=quick EDGELAB_OUT=$(CURDIR)/$(TEST_OUT) $(PY) -m pytest tests notebooks --ignore=notebooks/ja \
	  --nbval-lax --sanitize-with tests/nbval_sanitize.cfg -p no:randomly $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-replicas

# Notebook 01 (quick) with EDGELAB_SIMULATE_DEVICES=2, on TensorFlow and on JAX: two
# replicas must train and reach the quick accuracy goal (tests/replicas_check.py).
test-replicas: setup
	$(HEADLESS) $(PY) -m pytest tests/replicas_check.py -p no:randomly $(PYTEST_ARGS)

# ---- the bottom end: a replica of Google Colab's stack (tools/colab_replica.sh) ----------
# Python 3.13 with Colab's TensorFlow, Keras, NumPy, OpenCV, Jupyter kernel and the rest, at
# the versions Colab publishes (tools/colab/, copied from googlecolab/backend-info), with edgelab added by the setup cell's
# own `tools/install.sh --colab`. Fails, not skips, without a Python 3.13 (COLAB_PYTHON=...).
COLAB_FREEZE ?= tools/colab/pip-freeze.gpu.txt
COLAB_VENV   ?= .venv-colab
COLAB_STAMP  := $(COLAB_VENV)/.edgelab-colab-replica
# What runs in both stages, and why not everything twice (the whole `make test` must stay
# under 45 minutes on 2 cores): every notebook runs in both, since each is a lesson a learner
# runs on Colab. Every unit test runs in both too (on Python 3.13 and Colab's versions of
# TensorFlow, Keras, NumPy, OpenCV, Sonnet's and Chainer's dependencies), except four
# slow ones whose third-party part the replica's notebooks already exercise and whose own
# logic (edgelab's, not the stack's) the pinned stage tests: the runner on two real notebooks
# (nbval runs all seven), Hub fine-tuning and build caching (notebook 05 builds and
# fine-tunes), Xception's train-save-load (notebook 02 trains). The JupyterLab tests (make lab,
# the browser) run only in the pinned stage: Colab has its own front end, not JupyterLab; so
# does the book's browser test (the book is built once, with the pinned stack's Sphinx), and
# the benchmarks' smoke test (benchmarks are a developer's tool, measured on the pinned stack).
COLAB_DESELECT := \
  --deselect tests/test_runner.py::test_run_two_real_notebooks \
  --deselect tests/test_hub.py::test_keras_layer_fine_tuning_and_saving_in_tf_keras \
  --deselect tests/test_hub.py::test_builds_are_cached_rebuilt_when_stale_and_atomic \
  --deselect tests/test_xception.py::test_load_or_train_trains_saves_then_loads \
  --deselect tests/test_lab_browser.py --deselect tests/test_make_lab.py \
  --deselect tests/test_book_browser.py --deselect tests/test_benchmarks.py

colab-setup: $(COLAB_STAMP)

$(COLAB_STAMP): pyproject.toml constraints.txt tools/install.sh tools/colab-constraints.txt \
                tools/colab_replica.sh tools/colab_replica.py $(wildcard $(COLAB_FREEZE))
	bash tools/colab_replica.sh $(COLAB_VENV) $(COLAB_FREEZE)

# Notebook 08 needs PyTorch. Colab ships a CUDA torch; PyPI has no CPU torch for Python 3.13
# (a CUDA build is several GB), so the replica has none and says so instead of running 08.
NO_TORCH_REASON := 08_pytorch_to_edge: not run in the Colab replica: no CPU torch wheel for Python 3.13 here (PyPI's is a CUDA build of several GB)

test-colab: colab-setup
	@$(COLAB_VENV)/bin/python tools/colab_replica.py versions --python $(COLAB_VENV)/bin/python
	rm -rf $(TEST_OUT)-colab
	@if $(COLAB_VENV)/bin/python -c "import torch" 2>/dev/null; then :; else echo "$(NO_TORCH_REASON)"; fi
	$(HEADLESS) PYDEVD_DISABLE_FILE_VALIDATION=1 EDGELAB_PROFILE=quick EDGELAB_OUT=$(CURDIR)/$(TEST_OUT)-colab \
	  $(COLAB_VENV)/bin/python -m pytest \
	  tests notebooks --ignore=notebooks/ja $(COLAB_DESELECT) \
	  $$($(COLAB_VENV)/bin/python -c "import torch" 2>/dev/null || echo --ignore=notebooks/08_pytorch_to_edge.ipynb) \
	  --nbval-lax --sanitize-with tests/nbval_sanitize.cfg -p no:randomly $(PYTEST_ARGS)

unit: setup browser
	$(HEADLESS) EDGELAB_PROFILE=quick $(PY) -m pytest tests $(PYTEST_ARGS)

# The unit tests N times, each round in a new order shuffled by pytest-randomly, which also
# reseeds random, NumPy (and, through tests/conftest.py, TensorFlow) per test from the round's
# seed; stops at the first failing round. Each round prints its seed; replay one with
#   EDGELAB_PROFILE=quick .venv/bin/python -m pytest tests -p randomly --randomly-seed=SEED
N ?= 3
test-repeat: setup browser
	@for round in $$(seq 1 $(N)); do \
	  seed=$$($(PY) -c 'import random; print(random.SystemRandom().getrandbits(32))'); \
	  echo "test-repeat: round $$round/$(N), --randomly-seed=$$seed"; \
	  $(HEADLESS) EDGELAB_PROFILE=quick $(PY) -m pytest tests -p randomly --randomly-seed=$$seed \
	    $(PYTEST_ARGS) || { echo "test-repeat: round $$round/$(N) FAILED;" \
	    "replay it with: EDGELAB_PROFILE=quick $(PY) -m pytest tests -p randomly" \
	    "--randomly-seed=$$seed"; exit 1; }; \
	done; echo "test-repeat: $(N)/$(N) rounds passed"

notebooks-test: setup
	rm -rf $(TEST_OUT)
	$(HEADLESS) EDGELAB_PROFILE=quick EDGELAB_OUT=$(CURDIR)/$(TEST_OUT) $(PY) -m pytest notebooks \
	  --nbval-lax --sanitize-with tests/nbval_sanitize.cfg $(PYTEST_ARGS)

# Re-execute notebooks in place in the quick profile (the outputs that get committed).
# NB=notebooks/01_mnist_distribute.ipynb limits it to one notebook.
NB ?= notebooks/*.ipynb
notebooks: setup
	$(VENV)/bin/edgelab run --profile quick --out build/executed --inplace $(NB)

bench: setup
	$(PY) -m benchmarks

# The tables that are generated, never typed: the lesson tables (README.md and the book's
# landing page, from book/en/lessons.toml, the notebooks' titles and the recorded runs), the
# book's results page (benchmarks/results.jsonl), its command reference (the parsers), and
# the teacher's notes and timetables (teaching/, edgelab teach).
# Tests fail when one is stale. `readme` is its old name.
docs: setup
	$(PY) tools/book.py blocks
	$(VENV)/bin/edgelab teach
readme: docs

# The book: Sphinx + MyST-NB + sphinx-book-theme (the `book` extra), offline, from the
# committed notebooks with their stored outputs (nothing is executed), into build/book/.
# Every Sphinx warning fails it; BOOK_ARGS=--lenient lets them pass, --clean starts afresh.
BOOK_ARGS ?=
book: setup
	$(PY) tools/book.py build $(BOOK_ARGS)

# Keep a curriculum run's figures (accuracies, minutes, per-section times) with the
# benchmarks' ones, so the book's tables and the teacher's notes (teaching/, regenerated by
# `edgelab teach` in make docs) show them: make record-run OUT=runs/quick && make docs
record-run: setup
	$(VENV)/bin/edgelab results benchmarks/results.jsonl --add $(or $(OUT),runs/quick)/results.jsonl

# JupyterLab with the venv's bin first on PATH (for %tensorboard and Lab's terminals), the
# profile passed to every kernel (make lab PROFILE=quick), and --allow-root only as root.
# LAB_ARGS="--port 8890 --no-browser" adds options.
LAB_ARGS ?=
lab: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" $(if $(PROFILE),EDGELAB_PROFILE=$(PROFILE)) \
	  $(VENV)/bin/jupyter lab notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

# The browser tests (tests/test_lab_browser.py, tests/test_book_browser.py) drive Debian's
# Chromium; install it if missing, and a Japanese font (Noto CJK) if there is none, so that
# the screenshots of the book's Japanese pages show their text rather than empty boxes.
browser:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || { \
	  echo "installing Debian's chromium for the JupyterLab browser test"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@! command -v fc-list >/dev/null 2>&1 || [ -n "$$(fc-list :lang=ja 2>/dev/null)" ] || { \
	  echo "installing Debian's fonts-noto-cjk for the screenshots of the book's Japanese pages"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    fonts-noto-cjk >/dev/null || echo "no fonts-noto-cjk: Japanese screenshots show boxes"; }

constraints:
	$(PY) -m pip freeze --exclude-editable | grep -vi '^edgelab' > constraints.new
	@echo "review constraints.new, keep the header of constraints.txt, then move it into place"

clean:
	rm -rf build runs
