# edgelab: the two commands from the README, and the development targets behind them.
#
#   make curriculum   set up, then run every notebook headless (PROFILE=full by default)
#   make test         set up, then run every test (unit tests + notebooks under nbval, quick profile)

PYTHON   ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
PROFILE  ?= full
OUT      ?= runs/$(PROFILE)
STAMP    := $(VENV)/.edgelab-installed
# Tests run in the quick profile and write into a fresh folder, so a model left over
# from an earlier run can never make a notebook pass.
TEST_OUT := build/test-outputs
PYTEST_ARGS ?=

.PHONY: setup curriculum test unit notebooks-test notebooks bench readme record-run lab constraints clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt tools/install.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	bash tools/install.sh --python $(PY) --extras lab,dev,torch
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

curriculum: setup
	$(VENV)/bin/edgelab run --profile $(PROFILE) --out $(OUT)

test: setup
	rm -rf $(TEST_OUT)
	EDGELAB_PROFILE=quick EDGELAB_OUT=$(CURDIR)/$(TEST_OUT) $(PY) -m pytest tests notebooks \
	  --nbval-lax --sanitize-with tests/nbval_sanitize.cfg -p no:randomly $(PYTEST_ARGS)

unit: setup
	EDGELAB_PROFILE=quick $(PY) -m pytest tests $(PYTEST_ARGS)

notebooks-test: setup
	rm -rf $(TEST_OUT)
	EDGELAB_PROFILE=quick EDGELAB_OUT=$(CURDIR)/$(TEST_OUT) $(PY) -m pytest notebooks \
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

# Keep a curriculum run's figures (accuracies, minutes) with the benchmarks' ones, so the
# README table shows them: make record-run OUT=runs/quick && make readme
record-run: setup
	$(VENV)/bin/edgelab results benchmarks/results.jsonl --add $(OUT)/results.jsonl

lab: setup
	$(VENV)/bin/jupyter lab notebooks

constraints:
	$(PY) -m pip freeze --exclude-editable | grep -vi '^edgelab' > constraints.new
	@echo "review constraints.new, keep the header of constraints.txt, then move it into place"

clean:
	rm -rf build runs
