# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
DEMO_ENV := APP_ENV=demo

.PHONY: run test install install-test translations migrate seed lint worker bench clean chromium architecture

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/activate
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.test: requirements-test.txt requirements.txt | $(VENV)/bin/activate
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime translations
install-test: $(VENV)/.test translations

translations: | $(VENV)/.runtime
	@$(VENV)/bin/pybabel compile -q -d translations -f 2>/dev/null || $(VENV)/bin/pybabel compile -d translations -f

## make run: install, migrate the SQLite demo database, seed it, serve on 127.0.0.1:5000
run: install
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) seed demo
	@echo "Open http://127.0.0.1:5000 and log in as owner@demo.test / demo-pass-2026"
	$(DEMO_ENV) $(FLASK) run --host 127.0.0.1 --port 5000

## make test: install test tools (and Debian's chromium), run the suite on PostgreSQL+Redis and on SQLite
test: install-test chromium
	$(PY) tests/run_suites.py

# chromium-l10n: the pt-BR pages' date fields drawn dd/mm/aaaa (tests/test_browser.py).
chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -e /usr/lib/chromium/locales/pt-BR.pak ]; then \
	  echo "Installing Debian's chromium (and its locales) for the browser tests"; \
	  if [ "$$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-l10n >/dev/null; \
	fi

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

## make architecture: redraw docs/import-graph.md from the code (a test fails when it is stale)
architecture: install-test
	$(PY) docs/import_graph.py

worker: install
	$(FLASK) worker

bench: install-test
	@command -v wrk >/dev/null || { echo "Installing Debian's wrk for the webhook benchmark"; \
	  if [ "$$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get install -y -qq wrk >/dev/null; }
	$(PY) -m pip install -q -r requirements-bench.txt
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) instance
