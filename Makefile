# Strata: the workflow, by name. Every target installs what it needs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: dev test lint typecheck imports unit integration functions e2e coldstart roundtrips format clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## dev: the whole local stack (moto on :4566, the API on :8000, Swagger UI at /docs)
dev: $(STAMP)
	$(BIN)/strata dev

## test: every check: lint, types, import contracts, all test layers
test: lint typecheck imports
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

unit integration functions e2e: $(STAMP)
	$(BIN)/pytest -q tests/$@

## coldstart: cold import time of handler modules beside a bare FastAPI + Mangum app
coldstart: $(STAMP)
	$(BIN)/python -m local.coldstart

## roundtrips: DynamoDB calls per endpoint, counted through botocore's event hooks
roundtrips: $(STAMP)
	$(BIN)/python -m local.roundtrips

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .local
