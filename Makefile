# The two set-up commands in README.md: `make run` and `make test`. Both build the
# project's own virtual environment from pyproject.toml, so nothing installed by hand counts:
# the engine, the App (extra `app`) and the tools (extra `dev`).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[app,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ssot demo

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

# semgrep pins libraries that conflict with the App's, so the benchmark gives it a venv of its own.
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .ssot_cache .pytest_cache .mypy_cache .ruff_cache
