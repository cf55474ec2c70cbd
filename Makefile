# make run: install, migrate, load demo data into an empty database, serve on 127.0.0.1:5000.
# make test: install, run the suite on SQLite, then again on PostgreSQL.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
export FLASK_APP := tpweb
TEST_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install run test lint

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable ".[dev]"
	touch $@

run: export TPWEB_ENV := development
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/pytest
	TPWEB_TEST_POSTGRES=$(TEST_POSTGRES) $(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
