# Everything a fresh clone needs: `make demo`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO := demo-output

.PHONY: install demo test test-cluster bench eval lint clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: install
	$(BIN)/forecast train sample_data/sine.csv --model-dir $(DEMO)/model
	$(BIN)/forecast predict --model $(DEMO)/model --steps 20 \
		--out $(DEMO)/forecast.csv --plot $(DEMO)/forecast.png
	$(BIN)/forecast compare sample_data/sine.csv --merge-modes \
		--out-dir $(DEMO)/comparison --overwrite

# Two test processes or more (one per core): most tests wait on single-threaded work,
# TensorFlow's import and small fits, so 2 cores finish about 1.4x sooner.
test: install
	$(BIN)/python -m pytest -n auto --dist worksteal -m "not cluster"

# The tests that start clusters of processes (Ray, TF_CONFIG workers): a minute and a
# half more, which CI runs after make test.
test-cluster: install
	$(BIN)/python -m pytest -n auto --dist worksteal -m cluster

bench: install
	$(BIN)/python bench/run.py

eval: install
	$(BIN)/python -m pip install --quiet -e '.[eval]'
	$(BIN)/python bench/eval_defaults.py

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .ruff_cache
