# The README's commands. Every target bootstraps .venv on a machine that has only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo demo-month test bench bench-public bench-service lint format clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m api.demo

demo-month: $(STAMP)
	$(BIN)/wfm solve scenarios/month.yaml --out demo-output-month

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

bench-public: $(STAMP)
	$(BIN)/python -m benchmarks.run public

bench-service: $(STAMP)
	$(BIN)/python -m benchmarks.run service

lint: $(STAMP)
	$(BIN)/ruff check common forecast solver api tests benchmarks
	$(BIN)/ruff format --check common forecast solver api tests benchmarks
	$(BIN)/mypy common forecast solver api

format: $(STAMP)
	$(BIN)/ruff format common forecast solver api tests benchmarks
	$(BIN)/ruff check --fix common forecast solver api tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-output
