# Quick start: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
ifeq ($(OS),Windows_NT)
  BIN := $(VENV)/Scripts
else
  BIN := $(VENV)/bin
endif

.PHONY: demo test lint bench clean

# An editable install leaves toolkit/ uncompiled; pip compiles a package it installs, and Python
# writes the bytecode on a first run, unless PYTHONDONTWRITEBYTECODE is set (as on some managed
# machines): then every `ducha` would compile ~150 modules again (0.1 s of a 66-unit merge).
BYTECODE = $(BIN)/python -m compileall -q toolkit

$(BIN)/ducha: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BYTECODE)
	@touch $@

demo: $(BIN)/ducha
	$(BIN)/python -m toolkit.demo
	@echo "页面预览（PNG，需要 LibreOffice 和 pdftoppm）："
	-$(BIN)/python scripts/manual_pictures.py demo-workspace demo-workspace/预览

# With LibreOffice, Chromium and openssl on PATH, a test that needs one may not skip silently.
HAVE_TOOLS := $(shell (command -v soffice || command -v libreoffice) >/dev/null 2>&1 && \
  (command -v chromium || command -v chromium-browser || command -v google-chrome) >/dev/null 2>&1 && \
  command -v openssl >/dev/null 2>&1 && echo 1)

test: $(BIN)/ducha
	$(BIN)/ruff check toolkit tests scripts
	$(if $(HAVE_TOOLS),DUCHA_REQUIRE_TOOLS=1 )$(BIN)/python -m pytest -q

# ducha beside ../shared/bench/peer.py and floor.py, with the aims; BENCH_UNITS=66,1000,10000 adds 10,000 units.
bench: $(BIN)/ducha
	$(BYTECODE)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .ruff_cache
