# Everything runs from a local virtualenv (.venv) built from pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1

.PHONY: run test test-fast serve bench export clean-warehouse install constraints

# (Re)install whenever pyproject.toml or the tested versions change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

## Pin the installed versions as the tested ones (after the whole suite passed on an upgrade).
constraints: $(STAMP)
	{ grep '^#' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

## Ingest the bundled seeds into warehouse/newsflow.duckdb (Prefect starts an ephemeral server itself).
run: $(STAMP)
	$(BIN)/newsflow ingest seeds/

## Run the test suite (unit + integration + end-to-end; what CI runs).
test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=10 -n 2 --dist loadfile --no-loadscope-reorder

## The unit layer only: pure functions, under a minute.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m unit -n 2

## Serve the scheduled ingest deployment (see README).
serve: $(STAMP)
	$(BIN)/newsflow serve

## Print the benchmark tables (needs ../shared/eval).
bench: $(STAMP)
	$(BIN)/python bench/summaries.py
	$(BIN)/python bench/extraction.py
	$(BIN)/python bench/dedup.py
	$(BIN)/python bench/stories.py
	$(BIN)/python bench/multilingual.py
	$(BIN)/python bench/throughput.py

## Write the warehouse tables to Parquet under warehouse/export/, partitioned by ingest date.
export: $(STAMP)
	$(BIN)/newsflow export

clean-warehouse:
	rm -f warehouse/newsflow.duckdb warehouse/newsflow.duckdb.wal
