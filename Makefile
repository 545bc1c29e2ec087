# Two commands do all the set-up: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test install bench notebook-times clean

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

# How long each notebook takes to run top to bottom (measured, never asserted).
notebook-times: install
	$(BIN)/python -m pytest tests/test_notebooks.py --durations=0 -q

clean:
	rm -rf build results ext/*.c ext/*.so ext/_layout.pxd *.egg-info
