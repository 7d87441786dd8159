# crossmargin: `make run` sets up and runs the main job; `make test` sets up and runs the checks.
# Both install into .venv at the repository root, so .venv/bin/crossmargin works after either.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test test-slow check lint types bench clean client-venvs

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "crossmargin needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The main job: the server with demo markets on the embedded SQLite journal (./crossmargin-data).
run: $(STAMP)
	$(BIN)/crossmargin serve

demo: $(STAMP)
	$(BIN)/crossmargin demo

# The core must keep 100% branch coverage (docs/STYLE.md); the other layers are covered by their own suites.
test: $(STAMP) lint types client-venvs
	$(BIN)/python -m pytest -m "not slow" -q --cov=crossmargin.core --cov-branch --cov-fail-under=100 --cov-report=term-missing:skip-covered

test-slow: $(STAMP)
	HYPOTHESIS_PROFILE=nightly $(BIN)/python -m pytest -m slow -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(STAMP)
	$(BIN)/mypy

check: test

# Real Backpack clients for tests/e2e/clients, each in its own venv (.venv-ccxt, .venv-bpx,
# .venv-sdk: their `cryptography` pins conflict). Idempotent: a venv already at its pin is kept.
client-venvs:
	PYTHON=$(PYTHON) bash scripts/client-venvs.sh

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .venv-ccxt .venv-bpx .venv-sdk .pytest_cache .mypy_cache .ruff_cache .hypothesis
