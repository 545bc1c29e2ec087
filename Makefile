# Two commands do all the set-up: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
VIZ     := $(VENV)/.installed-viz

.PHONY: run test install install-viz bench validate notebook-times clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# Reinstall (and rebuild the kernels) when the packaging or a kernel changes.
$(STAMP): $(BIN)/python pyproject.toml setup.py ext/layouts.py $(wildcard ext/*.pyx ext/_rules.pxd)
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The dashboard's [viz] extra (its requirements only: no second kernel build) and its browser
# front-end, served locally: fetched from the npm registry only when solara asks for a version
# the solara-assets package lacks.
EXTRA = $(BIN)/python -c 'import tomllib, sys; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"][sys.argv[1]])'

$(VIZ): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install $$($(EXTRA) viz)
	$(BIN)/python -m zcf.sim.dashboard_assets
	touch $(VIZ)

install-viz: $(VIZ)

run: install
	$(BIN)/zcf run baseline --out results/baseline

# The suite on every core (pytest-xdist): a worker that runs out of tests takes half of the other's
# queue, so whole modules mostly stay on one worker and share their module fixtures.
# TEST_WORKERS=0 runs it in one process. Idle OpenMP workers sleep (see bench) unless you say.
TEST_WORKERS ?= auto
test: install-viz
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-PASSIVE} $(BIN)/python -m pytest tests -n $(TEST_WORKERS) --dist worksteal

# Idle OpenMP workers sleep while the serial code runs (README, Speed); your own setting wins.
bench: install
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-PASSIVE} $(BIN)/zcf bench

# The baseline against published statistics: regenerates docs/validation.md and its figure
# (50,000 firm agents x 3 seeds, 2025-2030: well under a minute on two cores).
validate: install
	$(BIN)/zcf validate baseline --firms 50000 --seeds 3 --seed 0 --report docs/validation.md
	$(BIN)/zcf validate hindcast --firms 50000 --seeds 3 --seed 0 --report docs/hindcast.md

# How long each notebook takes to run top to bottom (measured, never asserted).
notebook-times: install
	$(BIN)/python -m pytest tests/test_notebooks.py --durations=0 -q

clean:
	rm -rf build results ext/*.c ext/*.so ext/_layout.pxd *.egg-info
