# edgelab: the two commands from the README, and the development targets behind them.
#
#   make curriculum   set up, then run every notebook headless (the profile fits the machine:
#                     full with a GPU or TPU, quick without; PROFILE=quick|full chooses)
#   make test         set up, then run every test (unit tests + notebooks under nbval, quick profile)

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

.PHONY: setup curriculum test unit notebooks-test notebooks bench readme record-run lab browser constraints clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt tools/install.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	bash tools/install.sh --python $(PY) --extras lab,dev
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

curriculum: setup
	$(VENV)/bin/edgelab run $(if $(PROFILE),--profile $(PROFILE)) $(if $(OUT),--out $(OUT))

test: setup browser
	rm -rf $(TEST_OUT)
	$(HEADLESS) EDGELAB_PROFILE=quick EDGELAB_OUT=$(CURDIR)/$(TEST_OUT) $(PY) -m pytest tests notebooks \
	  --nbval-lax --sanitize-with tests/nbval_sanitize.cfg -p no:randomly $(PYTEST_ARGS)

unit: setup browser
	$(HEADLESS) EDGELAB_PROFILE=quick $(PY) -m pytest tests $(PYTEST_ARGS)

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

readme: setup
	$(VENV)/bin/edgelab results --readme README.md benchmarks/results.jsonl
	$(PY) -m edgelab.run.cli --readme README.md

# Keep a curriculum run's figures (accuracies, minutes) with the benchmarks' ones, so the
# README table shows them: make record-run OUT=runs/quick && make readme
record-run: setup
	$(VENV)/bin/edgelab results benchmarks/results.jsonl --add $(or $(OUT),runs/quick)/results.jsonl

# JupyterLab with the venv's bin first on PATH (for %tensorboard and Lab's terminals), the
# profile passed to every kernel (make lab PROFILE=quick), and --allow-root only as root.
# LAB_ARGS="--port 8890 --no-browser" adds options.
LAB_ARGS ?=
lab: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" $(if $(PROFILE),EDGELAB_PROFILE=$(PROFILE)) \
	  $(VENV)/bin/jupyter lab notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

# The browser test (tests/test_lab_browser.py) drives Debian's Chromium; install it if missing.
browser:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || { \
	  echo "installing Debian's chromium for the JupyterLab browser test"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

constraints:
	$(PY) -m pip freeze --exclude-editable | grep -vi '^edgelab' > constraints.new
	@echo "review constraints.new, keep the header of constraints.txt, then move it into place"

clean:
	rm -rf build runs
