# smartcomm — the two commands: `make run` and `make test`. `make bench` runs the benchmark harness.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTEST_WORKERS ?= 2

.PHONY: run test bench setup setup-dev lint typecheck test-sqlite test-postgres catalogs clean

## run: set everything up, then serve the product at http://127.0.0.1:8000 with its worker
run: setup
	$(BIN)/smartcomm run

## test: the whole suite on SQLite and on PostgreSQL (browser tests included), then ruff and mypy
test: setup-dev
	scripts/system-packages.sh test
	$(PY) scripts/services.py run -- $(MAKE) --no-print-directory test-sqlite test-postgres
	$(MAKE) --no-print-directory lint typecheck

test-sqlite:
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --db sqlite

test-postgres:
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --db postgres

lint:
	$(BIN)/ruff check src tests bench scripts migrations
	$(BIN)/ruff format --check src tests bench scripts

typecheck:
	$(BIN)/mypy

## bench: the benchmark harness (see bench/README.md); writes bench/results/
bench: setup-dev
	scripts/system-packages.sh bench
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(PY) scripts/services.py run -- $(PY) -m bench $(BENCH_ARGS)

setup: $(VENV)/.runtime node_modules/.installed

setup-dev: $(VENV)/.dev node_modules/.installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.runtime

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## catalogs: refresh the translation template and merge new strings into the Russian catalog
catalogs: setup-dev
	$(BIN)/pybabel extract -F babel.cfg -k lazy -k gettext_ -k flash:2 -k Forbidden -k Conflict -k FieldError:2 -k for_field:2 --no-location --sort-output -o src/smartcomm/locale/messages.pot src
	$(BIN)/pybabel update -i src/smartcomm/locale/messages.pot -d src/smartcomm/locale -l ru --no-fuzzy-matching

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache
