# Quick start: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
ifeq ($(OS),Windows_NT)
  BIN := $(VENV)/Scripts
else
  BIN := $(VENV)/bin
endif

.PHONY: demo test lint bench clean

$(BIN)/ducha: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

demo: $(BIN)/ducha
	$(BIN)/python -m toolkit.demo

test: $(BIN)/ducha
	$(BIN)/ruff check toolkit tests scripts
	$(BIN)/python -m pytest -q

bench: $(BIN)/ducha
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .ruff_cache
