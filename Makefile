# Two commands do all the set-up: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test install bench validate notebook-times clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# Reinstall (and rebuild the kernels) when the packaging or a kernel changes.
$(STAMP): $(BIN)/python pyproject.toml setup.py ext/layouts.py $(wildcard ext/*.pyx ext/_rules.pxd)
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/zcf run baseline --out results/baseline

test: install
	$(BIN)/python -m pytest tests

bench: install
	$(BIN)/zcf bench

# The baseline against published statistics: regenerates docs/validation.md and its figure
# (50,000 firm agents x 3 seeds, 2025-2030: well under a minute on two cores).
validate: install
	$(BIN)/zcf validate baseline --firms 50000 --seeds 3 --seed 0 --report docs/validation.md

# How long each notebook takes to run top to bottom (measured, never asserted).
notebook-times: install
	$(BIN)/python -m pytest tests/test_notebooks.py --durations=0 -q

clean:
	rm -rf build results ext/*.c ext/*.so ext/_layout.pxd *.egg-info
