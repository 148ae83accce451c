# The two commands a new user types: `make run` and `make test`.
# Each creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLOWSCHED_HOME ?= $(HOME)/flowsched

.PHONY: run test lint bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[postgres,celery,test,docs]'
	touch $(STAMP)

run: $(STAMP)
	FLOWSCHED__CORE__DAGS_FOLDER=$(CURDIR)/dags_example $(BIN)/flowsched standalone

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# One checker per line; each must pass. lint-imports checks the layering contracts of
# pyproject.toml (see docs/architecture.md, "Layers").
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The package -> package import edges and any cycle between packages.
graph: $(STAMP)
	$(BIN)/python scripts/package_graph.py

# The reference pages are generated from the code, then the site is built in strict mode
# (a broken link or anchor fails); it lands in site/.
docs: $(STAMP)
	$(BIN)/python docs/generate_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
