# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/povkit demo --out out/demo

lint: $(STAMP)
	$(BIN)/ruff check povkit tests benchmarks
	$(BIN)/ruff format --check povkit tests benchmarks

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/stabilize.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
