# icrag: `make run` installs, indexes the bundled corpus and serves the app; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE_STAMP := $(VENV)/.installed-scale

.PHONY: install install-scale index run test test-fast lint clean

install: $(STAMP)

# The scale extra (PostgreSQL + pgvector, Ray) is for tests and clusters; `make run` does without it.
install-scale: $(SCALE_STAMP)

$(SCALE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,llm,scale]"
	touch $(SCALE_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,llm]"
	touch $(STAMP)

index: install
	$(BIN)/icrag index build

run: index
	$(BIN)/icrag app

# The bundled index lets the browser test visit every page on the real corpus.
test: index install-scale
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf .icrag .pytest_cache .mypy_cache .ruff_cache
