# o2c: `make run` serves a demo, `make test` runs every check. Both install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= var/o2c.db
export O2C_DATABASE_URL ?= sqlite:///$(DB)

.PHONY: run test install dev lint typecheck imports unit pytest bench demo reset clean

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

run: install
	@if [ ! -f "$(DB)" ]; then \
		$(BIN)/o2c db upgrade && \
		$(BIN)/o2c demo seed --customers 60 --orders 600 --seed 42; \
	else \
		$(BIN)/o2c db upgrade; \
	fi
	@$(BIN)/o2c user demo-admin
	$(BIN)/o2c serve

reset:
	rm -f $(DB) $(DB)-wal $(DB)-shm

lint: dev
	$(BIN)/ruff check src tests bench

typecheck: dev
	$(BIN)/mypy

imports: dev
	$(BIN)/lint-imports

pytest: dev
	$(BIN)/pytest -q $(PYTEST_ARGS)

test: lint typecheck imports pytest

bench: dev
	$(BIN)/python bench/core_flow.py --orders 1000 --db sqlite

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
