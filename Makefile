# Two commands on a fresh machine: `make run` and `make test`. Both build .venv from pyproject.toml.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck imports audit unit venv clean bench

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "taskhub needs Python 3.11 or newer on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/taskhub dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

# Every installed distribution but taskhub itself (editable), looked up in PyPI's vulnerability
# data. --strict fails on a distribution that could not be looked up, so an unreachable service
# never passes for a clean audit: it says NOT AUDITED, and fails too with AUDIT_OFFLINE=fail.
AUDIT_OFFLINE ?= warn
audit: $(STAMP)
	@$(BIN)/pip freeze --exclude-editable > $(VENV)/audit-requirements.txt
	@$(BIN)/pip-audit --progress-spinner off --strict --no-deps --disable-pip \
		--requirement $(VENV)/audit-requirements.txt 2> $(VENV)/audit.log; status=$$?; \
	grep -v -e "fully hash" -e "pip-compile" $(VENV)/audit.log >&2; \
	if [ $$status -ne 0 ] && grep -q -e "could not be audited" -e "network may be blocking" \
		$(VENV)/audit.log; then \
		echo "make audit: NOT AUDITED: a package could not be looked up; PyPI's vulnerability" \
			"service is unreachable from this machine (or the package is not on PyPI)" >&2; \
		if [ "$(AUDIT_OFFLINE)" = warn ]; then exit 0; fi; \
	fi; \
	exit $$status

# In two parts: the suites that need no server (in-memory adapters, the deployment files)
# on two processes at once; then the ones that start real servers and processes (timed
# faults among them, and the documents' tours, which run a whole stack), one at a time. One
# coverage report for both.
FAST_SUITES := tests/unit tests/contract tests/deployment
SERVER_SUITES := tests/docs tests/integration tests/e2e tests/faults
test: lint typecheck imports audit
	$(BIN)/pytest -n 2 --dist loadfile --cov --cov-report= $(FAST_SUITES)
	$(BIN)/pytest --cov --cov-append --cov-report=term-missing:skip-covered --durations=25 \
		$(SERVER_SUITES)

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

# taskhub beside raw Celery and a bare FastAPI app, on SQLite and (with
# TASKHUB_BENCH_DATABASE_URL or TASKHUB_TEST_DATABASE_URL) PostgreSQL: one table, saved to
# bench/results/<date>.json; BENCH_ARGS=--quick for a short run. wrk is installed when missing
# and possible (root with apt-get); without it an httpx load generator is used.
BENCH_ARGS ?=
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
		|| echo "make bench: no wrk; falling back to the httpx load generator" >&2
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
