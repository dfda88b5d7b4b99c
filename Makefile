# One command each: `make test` runs the tests, `make reports` builds the HTML reports.
# Both create .venv and install the package (with its dev extra) on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test test-fast lint reports clean-reports

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m ruff check src tests benchmarks notebooks
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not notebooks"

lint: $(STAMP)
	$(BIN)/python -m ruff check src tests benchmarks notebooks
	$(BIN)/python -m ruff format --check src tests benchmarks

# two parallel runs by default (this project's machines have 2 cores); REPORT_JOBS=1 for one
REPORT_JOBS ?= 2
reports: $(STAMP)
	$(BIN)/python -m analysis report --jobs $(REPORT_JOBS)

clean-reports:
	rm -rf reports
