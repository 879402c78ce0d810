# textdesk: `make run` starts everything on this machine; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format bench bench-smoke bench-report check-deploy clean

# Development is asked for explicitly: without SECRET_KEY the settings refuse to start unless
# DEBUG=1 (see textdesk/settings.py).
run test bench bench-smoke: export DEBUG ?= 1

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
	$(PY) bench/search.py
	$(PY) bench/scheduled.py
	$(PY) bench/routing.py
	$(PY) bench/first_run.py --runs 3

## Every bench at a tiny scale, so none can rot unnoticed (CI runs it; a minute or two).
## Results go to var/bench-smoke/, never over bench/results/; PostgreSQL data in its own
## databases (textdesk_smoke_*). The PostgreSQL benches need DATABASE_URL=postgres://…
bench-smoke: export TEXTDESK_BENCH_RESULTS ?= var/bench-smoke
bench-smoke: export TEXTDESK_BENCH_DB_PREFIX ?= textdesk_smoke
bench-smoke: install
	$(PY) bench/sandbox.py --scale 0.002
	$(PY) bench/asms.py --scale 0.01
	$(PY) bench/sync.py --scale 0.01 --dashboards 1 --window 1
	$(PY) bench/sync.py --events --scale 0.01 --dashboards 1 --payments 3
	$(PY) bench/inbox.py --scale 0.005 --runs 3 --live-samples 2 --idle-seconds 2 --bulk 20 --bulk-limit 10 --bulk-window 1
	$(PY) bench/payments.py --scale 0.001 --runs 3 --sync-contacts 50
	$(PY) bench/admin.py --scale 0.001 --runs 3
	$(PY) bench/reports.py --scale 0.001 --runs 3
	$(PY) bench/search.py --scale 0.002 --runs 3
	$(PY) bench/scheduled.py --scale 0.02 --runs 3
	$(PY) bench/routing.py --scale 0.003 --minutes 0.1
	$(PY) bench/first_run.py --scale 0.2 --no-finance

## One table: every speed target, its last measured value, when, at what load, pass or miss
## (reads bench/results/*.json, or TEXTDESK_BENCH_RESULTS; runs no bench).
bench-report: install
	$(PY) bench/report.py

clean:
	rm -rf var .pytest_cache
