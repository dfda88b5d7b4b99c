# One command each: `make test` runs the tests, `make reports` builds the HTML reports.
# Both create .venv on first use and install the exact versions of requirements-lock.txt (hashed
# pins for Python 3.11 on Linux x86_64), then the package itself without dependencies.
# `make lock` regenerates the lock from pyproject.toml (the loose list for library users).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test test-fast lint reports clean-reports lock

install: $(STAMP)

# The build backend (setuptools, from pyproject's build-system) is fetched into pip's isolated
# build environment: it only writes the editable hook, so it cannot change a computed number.
$(STAMP): pyproject.toml requirements-lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-lock.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m ruff check src tests benchmarks notebooks
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not notebooks"

lint: $(STAMP)
	$(BIN)/python -m ruff check src tests benchmarks notebooks
	$(BIN)/python -m ruff format --check src tests benchmarks
	$(BIN)/python -m mypy

# two parallel runs by default (this project's machines have 2 cores); REPORT_JOBS=1 for one
REPORT_JOBS ?= 2
reports: $(STAMP)
	$(BIN)/python -m analysis report --jobs $(REPORT_JOBS)

clean-reports:
	rm -rf reports

# Regenerates the lock with the command in its header (uv in its own venv under build/). Pins
# already in the lock are kept; to move one on purpose: make lock LOCK_ARGS='--upgrade-package X'
UV_VERSION := 0.13.9
UV_VENV    := build/uv
LOCK_ARGS  ?=
lock:
	test -x $(UV_VENV)/bin/uv || { $(PYTHON) -m venv $(UV_VENV) && $(UV_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION); }
	$(UV_VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes -o requirements-lock.txt $(LOCK_ARGS) >/dev/null
