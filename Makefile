# Two entry points for a fresh machine: `make demo` and `make test`.
# Both create .venv and install the project into it first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit models bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nhsa demo

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2

# Regenerate the pydantic models and the SDK's typed calls from interface_specs/
# (tests fail when either is stale).
models: $(STAMP)
	$(BIN)/python -m nhsa.models.codegen
	$(BIN)/python -m nhsa.client._codegen

# Each benchmark prints its table and goals and writes bench/results/<name>.json; a missed
# goal is reported, not fatal. The command fails only if a benchmark itself crashes.
bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
