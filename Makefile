# Kuangjiang: `make run` serves the demo mine; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The throwaway PostgreSQL database the suite runs against when a server answers.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/kuangjiang
PYTEST_WORKERS ?= 2
# Tests that touch no database (the browser, the translation catalogue) and the LibreOffice PDF test run once,
# in the SQLite pass.
PG_ONLY_ONCE := -m "not browser and not libreoffice" --ignore=tests/test_translations.py
DEV_ENV := DEBUG=1 DJANGO_SETTINGS_MODULE=config.settings.base

.PHONY: run test test-sqlite test-postgres install install-test browser messages check fuzz bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Compiled translations are committed; rebuild them after editing a .po file.
messages: install
	cd $(CURDIR) && $(DEV_ENV) $(PY) manage.py compilemessages -v0 --ignore=.venv

run: install
	$(DEV_ENV) $(PY) manage.py migrate --no-input -v0
	$(DEV_ENV) $(PY) manage.py createcachetable
	$(DEV_ENV) $(PY) manage.py load_demo
	@echo ""
	@echo "  Kuangjiang 矿匠 is running at http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	@echo "  Demo logins, password 'kuangjiang' for all:"
	@echo "    admin     superuser"
	@echo "    hr        training department (HR)"
	@echo "    officer   training officer"
	@echo "    assessor  assessor"
	@echo "    leader    crew leader"
	@echo "    trainee   trainee (a worker)"
	@echo ""
	@$(DEV_ENV) $(PY) manage.py db_worker --queue-name '*' >var/worker.log 2>&1 & echo $$! > var/worker.pid; \
	trap 'kill $$(cat var/worker.pid) 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# Chromium for the browser tests and LibreOffice (with poppler's pdftotext) for the ledger's PDF test, from
# Debian's packages (root only; otherwise those tests skip).
BROWSER_PACKAGES := chromium fonts-wqy-microhei
OFFICE_PACKAGES := libreoffice-calc-nogui poppler-utils fonts-wqy-microhei
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "Installing Debian's chromium for the browser tests…"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null) \
		|| echo "chromium could not be installed; browser tests will skip (or fail under CI=true)"; \
	else echo "Not root: chromium not installed; browser tests will skip."; fi
	@if command -v soffice >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "Installing Debian's LibreOffice (Calc, no GUI) for the ledger's PDF test…"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$(OFFICE_PACKAGES) >/dev/null) \
		|| echo "LibreOffice could not be installed; the PDF test will skip (or fail under CI=true)"; \
	else echo "Not root: LibreOffice not installed; the ledger's PDF test will skip."; fi

check: install-test
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run -v1
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py check
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install-test browser check test-sqlite test-postgres

test-sqlite: install-test
	@echo "== tests on SQLite =="
	DATABASE_URL= $(BIN)/pytest -n $(PYTEST_WORKERS) --durations=15 $(PYTEST_ARGS)

test-postgres: install-test
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null; then \
		echo "== tests on PostgreSQL =="; \
		DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) --durations=15 $(PG_ONLY_ONCE) $(PYTEST_ARGS); \
	else echo "== no PostgreSQL on 127.0.0.1:5432: skipped the PostgreSQL run =="; fi

# The long fuzz run (1,000 examples a property), on SQLite and, when a server answers, PostgreSQL.
fuzz: install-test
	HYPOTHESIS_PROFILE=fuzz DATABASE_URL= $(BIN)/pytest -n $(PYTEST_WORKERS) -m fuzz -p no:cacheprovider
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		HYPOTHESIS_PROFILE=fuzz DATABASE_URL=$(PG_TEST_URL)_fuzz $(BIN)/pytest -n $(PYTEST_WORKERS) -m fuzz -p no:cacheprovider; \
	else echo "== no PostgreSQL on 127.0.0.1:5432: skipped the PostgreSQL fuzz run =="; fi

bench: install-test
	$(PY) bench/rollup.py
	$(PY) bench/spreadsheets.py

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles test-artifacts
