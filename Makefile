# vitalstream — every target sets up what it needs. Start with `make demo` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
HOME_DIR ?= ./vitalstream-data

.PHONY: demo test lint test-unit test-integration bench services-up services-down lock clean help

help:
	@echo "make demo           run the whole pipeline embedded, live, until Ctrl-C"
	@echo "make test           run the test suite (integration tests need make services-up)"
	@echo "make lint           ruff and mypy (configured in pyproject.toml)"
	@echo "make services-up    start Kafka, PostgreSQL, Mosquitto and an S3 server on loopback"
	@echo "make services-down  stop them"
	@echo "make bench          run the benchmark (see docs/benchmarks.md)"

# uv itself lives in its own small venv so `uv sync` can manage .venv exactly.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q "uv==$(UV_VERSION)"

# Bytecode is compiled at install: with PYTHONDONTWRITEBYTECODE set (as on this image) every
# process would otherwise compile each module it imports, 0.6-2 CPU-s per process started.
$(VENV)/.stamp-dev: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --extra dev --extra bench --python $(PYTHON)
	$(VENV)/bin/python -m compileall -q src
	@touch $@

# The demo's ingest server needs a key: an admin key, because the simulated watches also send
# their user profiles (a reference topic). Real deployments configure per-device keys. The
# dashboard's demo clinician is created on the first run with a random password (kept
# owner-only in the home) and printed at every start.
demo: $(VENV)/.stamp-dev
	$(VENV)/bin/vitalstream --home $(HOME_DIR) dashboard demo-login
	VITALSTREAM_HTTP_ADMIN_KEYS=$${VITALSTREAM_HTTP_ADMIN_KEYS:-demo=demo-key} \
	VITALSTREAM_SIMULATE_PROFILES=$${VITALSTREAM_SIMULATE_PROFILES:-vitals,device,heart-rate,smartwatch,notes} \
	$(VENV)/bin/vitalstream --home $(HOME_DIR) up --serve

test: $(VENV)/.stamp-dev
	$(VENV)/bin/python -m compileall -q src
	$(VENV)/bin/python -m pytest -q tests

lint: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy

test-unit: $(VENV)/.stamp-dev
	$(VENV)/bin/python -m pytest -q tests/unit

test-integration: $(VENV)/.stamp-dev
	$(VENV)/bin/python -m pytest -q tests/integration

# The bench finds Kafka through the environment: export what `make services-up` wrote.
bench: $(VENV)/.stamp-dev
	$(VENV)/bin/python -m compileall -q src
	set -a; if [ -f .services/env ]; then . .services/env; fi; set +a; $(VENV)/bin/vitalstream bench

services-up: $(VENV)/.stamp-dev
	scripts/services/up.sh

services-down:
	scripts/services/down.sh

lock: | $(UV)
	$(UV) lock

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache $(HOME_DIR)
