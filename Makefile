# textdesk: `make run` starts everything on this machine; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format bench check-deploy clean

# Development is asked for explicitly: without SECRET_KEY the settings refuse to start unless
# DEBUG=1 (see textdesk/settings.py).
run test bench: export DEBUG ?= 1

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Start the sandbox, web, worker and beat in the foreground (Ctrl-C stops them all).
run: install
	$(PY) manage.py migrate --noinput
	$(VENV)/bin/honcho -f Procfile.dev start

## The whole suite. Uses SQLite and the embedded broker unless DATABASE_URL/REDIS_URL are set.
test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Benchmarks; results are written to bench/results/.
bench: install
	@mkdir -p bench/results
	$(PY) bench/sandbox.py
	$(PY) bench/sync.py
	$(PY) bench/inbox.py
	$(PY) bench/payments.py
	$(PY) bench/admin.py
	$(PY) bench/asms.py
	$(PY) bench/reports.py

clean:
	rm -rf var .pytest_cache
