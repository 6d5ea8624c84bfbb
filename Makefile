# o2c: `make run` serves a demo, `make test` runs every check. Both install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= var/o2c.db
export O2C_DATABASE_URL ?= sqlite:///$(DB)

.PHONY: run test install dev lint typecheck imports unit pytest fuzz bench demo reset clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

# The demo sends no e-mail unless asked: no SMTP server is assumed on a newcomer's machine.
# Set O2C_SMTP_HOST (and O2C_SCHEDULES, O2C_DELIVER_ON_POST=1) to deliver invoices.
run: export O2C_SCHEDULES ?= none
run: export O2C_DELIVER_ON_POST ?= 0
run: install
	@if [ ! -f "$(DB)" ]; then \
		$(BIN)/o2c db upgrade && \
		$(BIN)/o2c demo seed --customers 60 --orders 600 --seed 42; \
	else \
		$(BIN)/o2c db upgrade; \
	fi
	@$(BIN)/o2c user demo-admin
	@$(BIN)/o2c invoice summary
	$(BIN)/o2c serve

reset:
	rm -f $(DB) $(DB)-wal $(DB)-shm

lint: dev
	$(BIN)/ruff check src tests bench

typecheck: dev
	$(BIN)/mypy

imports: dev
	$(BIN)/lint-imports

# Debian packages the tests need: pango for WeasyPrint, DejaVu fonts (embedded in PDFs), qpdf
# (PDF checks in tests). Installed only when missing, quietly; needs root (CI runs as root).
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core qpdf chromium
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Two workers: the machines this runs on have two cores.
PYTEST_WORKERS ?= 2
pytest: dev system-deps
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# A longer seeded Schemathesis run than the one in `make test` (6 cases per operation).
FUZZ_EXAMPLES ?= 50
fuzz: dev
	O2C_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -n $(PYTEST_WORKERS) -rP \
		tests/e2e/test_api_fuzz.py

test: lint typecheck imports pytest

bench: dev system-deps
	$(BIN)/python bench/core_flow.py --orders 1000 --db sqlite
	$(BIN)/python bench/documents.py --invoices 1000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
