# make run: install, migrate, load demo data into an empty database, serve on 127.0.0.1:5000.
# make serve: production serving on this machine (docs/deploy.md): migrate, then gunicorn with
# tpweb's settings (tpweb/gunicorn_conf.py); needs SECRET_KEY and, for real use, DATABASE_URL.
# make test: install, run the suite on SQLite, then again on PostgreSQL.
# make lint and make test also install the offline client's Node tools (npm ci, package-lock.json)
# and run ESLint and its unit tests (node --test tests/js/).
# make bench: install (gunicorn, aiosmtpd; wrk and Chromium from apt when missing), then run the
# benchmarks on their own data and write docs/benchmarks.md (PostgreSQL when DATABASE_URL names it).
# make bench-growth: the same tools, then B9 alone (B1, B2 and B5 on the usual data and on ten
# times as much, built in a schema of its own: two minutes more to build, about fifteen in all).
# make mutants: mutation testing of the domain rules on SQLite (slow, not in CI), from scratch,
# then docs/testing.md's table of kill rates and survivors (docs/testing.md says how to read it).
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
export FLASK_APP := tpweb
TEST_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: install run serve test test-sqlite test-postgres lint bench bench-tools bench-growth mutants \
	screenshots lighthouse

install: $(VENV)/.installed

# The offline client's linter and unit tests (Node 20 and npm are on every machine).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

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

serve: install
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn -c python:tpweb.gunicorn_conf tpweb.wsgi:app

# The two databases' runs side by side (their own databases, queues and ports): each waits on
# its database, browser or worker for much of its time, so two cores finish both sooner.
test: install node_modules/.installed
	node --test tests/js/
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

# Each pass runs its share of the browser tests (tests/browser/conftest.py: POSTGRES_PASS).
test-sqlite: install
	TPWEB_TEST_BROWSER=shared $(BIN)/pytest

test-postgres: install
	TPWEB_TEST_BROWSER=shared TPWEB_TEST_POSTGRES=$(TEST_POSTGRES) $(BIN)/pytest

lint: install node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	npx eslint .

bench-tools: install
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	command -v wrk >/dev/null || $(APT) install -y -qq wrk || ($(APT) update -qq && $(APT) install -y -qq wrk) \
		|| echo "no wrk: B1 falls back to a Python load generator"
	test -x /usr/bin/chromium || $(APT) install -y -qq chromium \
		|| ($(APT) update -qq && $(APT) install -y -qq chromium) || echo "no Chromium: B4 is not run"

bench: bench-tools
	$(BIN)/python -m bench

bench-growth: bench-tools
	$(BIN)/python -m bench B9

# make screenshots: every main screen at phone size, light and dark, into docs/screens/ (Chromium
# from apt when missing).
screenshots: install
	test -x /usr/bin/chromium || $(APT) install -y -qq chromium \
		|| ($(APT) update -qq && $(APT) install -y -qq chromium)
	$(BIN)/python scripts/screenshots.py

# make lighthouse: Lighthouse 13 (mobile) on the rep's main pages, signed in; scores into
# docs/benchmarks.md. Lighthouse 13 and the Node 22 it needs come from tools/lighthouse/.
lighthouse: install
	test -x /usr/bin/chromium || $(APT) install -y -qq chromium \
		|| ($(APT) update -qq && $(APT) install -y -qq chromium)
	cd tools/lighthouse && npm ci --no-audit --no-fund
	$(BIN)/python scripts/lighthouse.py

mutants: install
	$(BIN)/python -m pip install --quiet --editable ".[dev,mutants]"
	rm -rf mutants
	env -u TPWEB_TEST_POSTGRES $(BIN)/mutmut run --max-children $(or $(MUTANTS_JOBS),2)
	$(BIN)/python scripts/mutants_report.py
