# Ayni — make help lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 0.0.0.0
PORT ?= 8000
WORKERS ?= 2
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export HOST PORT WORKERS

.PHONY: help install run serve test test-sqlite test-postgres lint format migrate migration forms bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/.installed ## Create .venv and install Ayni with its dev tools

run: install ## Migrate, create the default project and admin, serve on HOST:PORT (SQLite)
	$(BIN)/ayni setup
	@$(BIN)/ayni urls
	$(BIN)/gunicorn -c python:app.gunicorn_conf 'app:create_app()'

serve: install ## Serve with gunicorn without the setup step
	$(BIN)/gunicorn -c python:app.gunicorn_conf 'app:create_app()'

test: install ## Whole suite on SQLite, then on PostgreSQL at TEST_DATABASE_URL
	@# The browser tests drive Debian's Chromium (never `playwright install`).
	@[ -x /usr/bin/chromium ] || { echo "Installing Chromium for the browser tests"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo -n ) apt-get update -qq && \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo -n ) apt-get install -y -qq chromium chromium-driver; }
	$(BIN)/python -m pytest -q
	@if [ "$${AYNI_SKIP_POSTGRES:-0}" = "1" ]; then \
	  echo "AYNI_SKIP_POSTGRES=1: PostgreSQL leg skipped on purpose."; \
	else \
	  $(MAKE) --no-print-directory test-postgres; \
	fi

test-sqlite: install ## Whole suite on SQLite only
	$(BIN)/python -m pytest -q

test-postgres: install ## Whole suite on PostgreSQL at TEST_DATABASE_URL
	@$(BIN)/python -m app.db.wait_for "$(TEST_DATABASE_URL)" || { \
	  echo ""; \
	  echo "PostgreSQL is not reachable at $(TEST_DATABASE_URL)."; \
	  echo "Start it (Debian: pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start),"; \
	  echo "point TEST_DATABASE_URL at another server, or set AYNI_SKIP_POSTGRES=1 to skip this leg."; \
	  exit 1; }
	TEST_DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/python -m pytest -q

lint: install ## ruff, import contracts, models == migrations
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q tests/migrations

format: install ## ruff format
	$(BIN)/ruff format .

migrate: install ## Migrate the configured database to head
	$(BIN)/ayni migrate

migration: install ## New migration: make migration m="why"
	$(BIN)/alembic revision --autogenerate -m "$(m)"

forms: install ## Compile xlsforms/*.xlsx into forms/
	$(BIN)/ayni compile-forms

bench: install ## Benchmarks (print figures; not part of the tests)
	$(BIN)/python bench/ingest.py

clean: ## Remove the virtualenv and caches (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache
