# Two commands on a fresh machine (Python 3.11 with pip):
#   make run    set up, then materialise every asset on the built-in demo data
#   make test   set up, then run the whole test suite (what CI runs)
# More: make ui (Dagster UI on http://127.0.0.1:3000), make backfill, make dbt-build, make docs, make bench, make clean.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
# dbt and dagster from the venv, also for the subprocesses they start
export PATH := $(CURDIR)/$(BIN):$(PATH)
PORT ?= 3000

.PHONY: setup run backfill test ui bench bench-tests bench-ml bench-ml-national bench-national dbt-prepare instance dbt-build docs clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

dbt-prepare: setup
	@$(BIN)/dagster-dbt project prepare-and-package --file pipelines/defs/dbt/project.py >/dev/null

# the Dagster instance in DAGSTER_HOME: storage created and the warehouse pool's slot allocated
# once, before two runs could race to allocate it (pipelines/instance.py)
instance: setup
	@$(BIN)/python -m pipelines.instance

# the sources are partitioned by year: every asset, every year (python -m pipelines.years prints e.g. 2015...2024), one run
run: dbt-prepare instance
	$(BIN)/dagster asset materialize --select '*' --partition-range "$$($(BIN)/python -m pipelines.years)" -m pipelines.definitions
	@$(BIN)/python -m pipelines.summary

# reload the sources for some years and rebuild everything downstream, in one run:
#   make backfill                      every year
#   make backfill YEARS=2023...2024    2023 and 2024 only (other years' rows stay as they are)
#   make backfill YEARS=2023 SELECT='raw/ggd_monitor*'   one source, one year
SELECT ?= group:sources+
YEARS ?=
backfill: dbt-prepare instance
	@years="$(YEARS)"; years="$${years:-$$($(BIN)/python -m pipelines.years)}"; \
	case "$$years" in *...*) ;; *) years="$$years...$$years" ;; esac; \
	echo "dagster asset materialize --select '$(SELECT)' --partition-range $$years -m pipelines.definitions"; \
	$(BIN)/dagster asset materialize --select '$(SELECT)' --partition-range "$$years" -m pipelines.definitions

# the whole suite on TEST_WORKERS processes (pytest-xdist; a test file stays on one worker, so its
# module fixtures are built once); TEST_WORKERS=0 runs it in this process, one test after another.
# Three on 2 cores: the long end-to-end tests wait on dbt, Dagster and browser subprocesses, so a
# third worker fills the idle time (measured on a fresh clone: 854 s, all passing; two workers
# left the CPUs about 40% idle). The longest files start first (tests/conftest.py LONGEST_FIRST;
# --no-loadscope-reorder keeps that order instead of xdist's most-tests-first; both options are in
# pyproject.toml's addopts, so benchmarks/suite_cpu.py runs the suite the same way)
TEST_WORKERS ?= 3
test: dbt-prepare
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

ui: dbt-prepare instance
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

# dbt alone on the warehouse that `make run` filled (seeds, staging, intermediate, marts and all dbt tests),
# the deployment's warehouse and dbt variables (FACTORENMODEL_CONFIG, ...: python -m pipelines.dbt_cli);
# DBT_ARGS adds arguments, e.g. make dbt-build DBT_ARGS='--select resource_type:seed+'
DBT_ENV = FACTORENMODEL_WAREHOUSE="$$($(CURDIR)/$(BIN)/python -m pipelines.dbt_cli warehouse)"
DBT_VARS = --vars "$$($(CURDIR)/$(BIN)/python -m pipelines.dbt_cli vars)"
DBT_ARGS ?=
dbt-build: dbt-prepare
	cd dbt_project && $(DBT_ENV) dbt build --profiles-dir . $(DBT_VARS) $(DBT_ARGS)

# dbt's documentation site of every model and column: dbt_project/target/index.html
docs: dbt-prepare
	cd dbt_project && $(DBT_ENV) dbt docs generate --profiles-dir . $(DBT_VARS) && echo "dbt docs: dbt_project/target/index.html (or: cd dbt_project && dbt docs serve --profiles-dir .)"

bench: dbt-prepare
	$(BIN)/python benchmarks/demo_run.py

# where the test suite's time goes: wall and CPU seconds per test file (as long as make test)
bench-tests: dbt-prepare
	$(BIN)/python benchmarks/suite_cpu.py

# wall time of the ML stage on the warehouse of `make run` (issue 4: under 60 s with 1,000 draws)
bench-ml: setup
	$(BIN)/python benchmarks/ml_stage.py

# the same at national scale (builds data/national first if missing, about 4 minutes)
bench-ml-national: dbt-prepare
	$(BIN)/python benchmarks/ml_stage.py --national

bench-national: dbt-prepare
	$(BIN)/python benchmarks/national_run.py

clean:
	rm -rf data dbt_project/target dbt_project/logs .dagster_home/history .dagster_home/storage .dagster_home/schedules .dagster_home/logs
