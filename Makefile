# crossmargin: `make run` sets up and runs the main job; `make test` sets up and runs the checks.
# Both install into .venv at the repository root, so .venv/bin/crossmargin works after either.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test test-slow check lint lint-js types bench clean client-venvs lock lock-upgrade compiled-core web-bundle

# Installs are reproducible: every package at the version requirements.lock pins (all extras, dev
# included), then crossmargin itself, editable, without resolving anything again (--no-deps).
LOCK := requirements.lock
LOCK_VENV := .venv-lock
PIP_COMPILE_FLAGS ?=

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "crossmargin needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Regenerate requirements.lock after changing a dependency or an extra in pyproject.toml (commit
# both): pins that still fit are kept, new ones resolved. `make lock-upgrade` moves every pin to
# the newest release the ranges allow. pip-tools runs from its own venv, never the project's.
# Hashes are off: `make lock PIP_COMPILE_FLAGS=--generate-hashes` adds them (docs/OPERATIONS.md).
# --unsafe-package crossmargin: an extra that names another (`crossmargin[ray]` in `dev`) would
# otherwise pin the project itself by this checkout's path; it is installed editable instead.
lock:
	@test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/python -m pip install --quiet 'pip-tools>=7.4,<8'; }
	$(LOCK_VENV)/bin/pip-compile --quiet --all-extras --strip-extras --no-emit-index-url --no-emit-trusted-host \
		--no-emit-find-links --unsafe-package crossmargin $(PIP_COMPILE_FLAGS) --output-file $(LOCK) pyproject.toml

lock-upgrade:
	$(MAKE) lock PIP_COMPILE_FLAGS="--upgrade $(PIP_COMPILE_FLAGS)"

# The core compiled with mypyc (scripts/build_compiled_core.py): rebuilt only when a core source
# changes. `make run` and `make bench` run on it; the pure-Python core stays the reference that the
# core's coverage measures, and a test checks that both give the same state to the atom. Without a C
# compiler the build says so and everything runs on the pure core (a stale build is never loaded).
COMPILED := build/compiled-core
CORE_SOURCES := $(shell find src/crossmargin/core -name '*.py' 2>/dev/null)
$(COMPILED)/digest: $(STAMP) $(CORE_SOURCES) scripts/build_compiled_core.py
	$(BIN)/python scripts/build_compiled_core.py $(COMPILED)

compiled-core: $(COMPILED)/digest

# The main job: the server with demo markets on the embedded SQLite journal (./crossmargin-data).
run: $(STAMP)
	@$(MAKE) --no-print-directory compiled-core || echo "could not compile the core: running the pure-Python core"
	CROSSMARGIN_COMPILED_CORE=$(COMPILED) $(BIN)/crossmargin serve

demo: $(STAMP)
	$(BIN)/crossmargin demo

# The core must keep 100% branch coverage (docs/STYLE.md), from its own suites (unit, property,
# stateful, doctests); the other layers are covered by their own suites, run without the tracer's cost.
# The two runs go side by side, one per core: the core suites are CPU-bound, the other layers mostly
# wait on servers, clients and the browser. The core run's report (its log) is printed after the rest.
CORE_SUITES := tests/unit tests/property tests/stateful tests/test_tidy.py src/crossmargin/core
CORE_LOG := test-artifacts/core-suites.log
test: $(STAMP) lint lint-js types client-venvs
	@$(MAKE) --no-print-directory compiled-core || echo "could not compile the core: its equivalence test will skip (fail under CI=true)"
	@mkdir -p test-artifacts
	@echo "core suites with coverage: running beside the other layers, report in $(CORE_LOG) (printed below at the end)"
	@$(BIN)/python -m pytest -m "not slow" -q -p no:cacheprovider $(CORE_SUITES) --cov=crossmargin.core --cov-branch --cov-fail-under=100 --cov-report=term-missing:skip-covered > $(CORE_LOG) 2>&1 & core=$$!; \
	$(BIN)/python -m pytest -m "not slow" -q tests --ignore=tests/unit --ignore=tests/property --ignore=tests/stateful --ignore=tests/test_tidy.py; rest=$$?; \
	wait $$core; core_status=$$?; echo "--- core suites ($(CORE_LOG)) ---"; cat $(CORE_LOG); \
	test $$rest -eq 0 && test $$core_status -eq 0

test-slow: $(STAMP)
	HYPOTHESIS_PROFILE=nightly $(BIN)/python -m pytest -m slow -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# The web page's plain ES modules are type-checked by TypeScript (--checkJs, strict), from npm into
# node_modules. Without Node.js this is skipped with a note, except under CI=true.
lint-js:
	@if command -v npm >/dev/null 2>&1; then \
		test node_modules/.package-lock.json -nt package-lock.json || npm ci --no-audit --no-fund --ignore-scripts --loglevel=error; \
		./node_modules/.bin/tsc -p jsconfig.json && echo "tsc --checkJs: the web page's modules type-check"; \
	elif [ "$${CI:-}" = true ]; then echo "CI=true needs Node.js and npm to type-check the web page" >&2; exit 1; \
	else echo "lint-js skipped: install Node.js and npm to type-check the web page's modules"; fi

types: $(STAMP)
	$(BIN)/mypy

# The web page is served from a bundle of its modules (src/crossmargin/web/static/dist, committed):
# after editing static/js, rebuild it with esbuild from npm (scripts/build_web_bundle.sh) and commit
# it; tests/test_web_bundle.py fails while the committed bundle differs from what the sources build.
web-bundle:
	test node_modules/.package-lock.json -nt package-lock.json || npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	sh scripts/build_web_bundle.sh

check: test

# Real Backpack clients for tests/e2e/clients, each in its own venv (.venv-ccxt, .venv-bpx,
# .venv-sdk: their `cryptography` pins conflict). Idempotent: a venv already at its pin is kept.
client-venvs:
	PYTHON=$(PYTHON) bash scripts/client-venvs.sh

bench: $(STAMP)
	@$(MAKE) --no-print-directory compiled-core || echo "could not compile the core: benchmarks run the pure-Python core"
	CROSSMARGIN_COMPILED_CORE=$(COMPILED) $(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(LOCK_VENV) build .venv-ccxt .venv-bpx .venv-sdk .pytest_cache .mypy_cache .ruff_cache .hypothesis node_modules test-artifacts
