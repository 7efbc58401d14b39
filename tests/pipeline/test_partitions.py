"""Yearly partitions through Dagster: the definitions, the schedules, and backfills from the command line.

The command-line backfill runs ``dagster asset materialize`` as a real subprocess against a temporary
DAGSTER_HOME and warehouse, exactly as the README tells an operator to: every year of every source in
one run, then one corrected year. (The backfill from the UI is tests/ops/test_ui_browser.py.)
"""

from __future__ import annotations

import subprocess

import dagster as dg
import duckdb
import pytest

from data_contracts.contract import load_contracts
from data_contracts.pandera_schema import Scope
from pipelines.definitions import build_definitions
from pipelines.defs.partitions import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from pipelines.ingest import ingest_source
from pipelines.ingest.area_division import division_first
from pipelines.settings import PROJECT_DIR
from pipelines.years import partition_range
from tests.ops.helpers import VENV_BIN, dagster_home, instance_at, subprocess_env
from tests.pipeline.runs import materialize_all, settings_for

SOURCES = sorted(load_contracts())
DEMO_YEARS = [str(y) for y in range(2015, 2025)]


def test_sources_are_partitioned_by_year_and_everything_backfills_in_one_run(tmp_path):
    settings = settings_for(tmp_path)
    assert settings.years == tuple(range(2015, 2025)) and partition_range(settings) == "2015...2024"
    graph = build_definitions(settings).resolve_asset_graph()
    partitioned = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None}
    assert partitioned == {f"raw/{s}" for s in SOURCES}  # the sources; the marts are built across years
    for source in SOURCES:
        node = graph.get(dg.AssetKey(["raw", source]))
        assert node.partitions_def.get_partition_keys() == DEMO_YEARS
    # the CLI's --partition-range needs the single-run policy on every selected asset: all of them have it
    policies = {k.to_user_string(): graph.get(k).backfill_policy for k in graph.get_all_asset_keys()}
    assert all(p == dg.BackfillPolicy.single_run() for p in policies.values()), policies


def test_a_real_deployments_years_come_from_its_configuration(tmp_path):
    settings = settings_for(tmp_path, FACTORENMODEL_EXTRACT_DIR=str(tmp_path), FACTORENMODEL_FIRST_YEAR="2019",
                            FACTORENMODEL_LAST_YEAR="2024")
    assert settings.years == tuple(range(2019, 2025)) and settings.scope.year_range == (2019, 2024)
    node = build_definitions(settings).resolve_asset_graph().get(dg.AssetKey(["raw", "ggd_monitor"]))
    assert node.partitions_def.get_partition_keys() == [str(y) for y in range(2019, 2025)]
    with pytest.raises(ValueError, match="no year of the synthetic demo"):
        settings_for(tmp_path, FACTORENMODEL_FIRST_YEAR="2030", FACTORENMODEL_LAST_YEAR="2031")


def test_the_schedules_cover_their_years_in_one_run(tmp_path):
    defs = build_definitions(settings_for(tmp_path))
    for name in ("yearly_full_refresh", "monthly_cbs_release_check"):
        schedule = defs.resolve_schedule_def(name)
        with dg.build_schedule_context() as context:
            (request,) = schedule.evaluate_tick(context).run_requests
        assert (request.tags[ASSET_PARTITION_RANGE_START_TAG], request.tags[ASSET_PARTITION_RANGE_END_TAG]) == ("2015", "2024")


def test_a_run_that_names_no_year_fails_with_the_command_to_use(tmp_path):
    defs = build_definitions(settings_for(tmp_path))
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=[dg.AssetKey(["raw", "ggd_monitor"])], raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = str(failure.step_failure_data.user_failure_data.description)
    assert "raw/ggd_monitor is partitioned by year (2015...2024)" in message and "--partition-range 2015...2024" in message


def _materialize(home, data_dir, *args: str) -> str:
    done = subprocess.run(
        [str(VENV_BIN / "dagster"), "asset", "materialize", "-m", "pipelines.definitions", *args],
        cwd=PROJECT_DIR, env=subprocess_env(home, data_dir), capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done.stdout + done.stderr


def _raw(settings, source: str, where: str = "true", times: bool = False) -> list[tuple]:
    columns = "*" if times else "* exclude (_loaded_at)"
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(f"select {columns} from raw.{source} where {where} order by all").fetchall()


@pytest.mark.slow
def test_a_backfill_of_every_year_from_the_command_line_then_one_corrected_year(tmp_path):
    home, data_dir = dagster_home(tmp_path), tmp_path / "data"
    settings = settings_for(data_dir)
    instance_at(home).dispose()  # create the instance's storage first, as `make` does

    # 1. every source, every year, one run (README: "Yearly partitions and backfills")
    _materialize(home, data_dir, "--select", "group:sources", "--partition-range", "2015...2024")
    instance = instance_at(home)
    try:
        (record,) = instance.get_run_records()
        assert record.dagster_run.is_success
        for source in SOURCES:
            key = dg.AssetKey(["raw", source])
            assert sorted(instance.get_materialized_partitions(key)) == DEMO_YEARS, source
    finally:
        instance.dispose()
    # the backfill's tables equal one unpartitioned load of the same extracts, row for row
    whole = tmp_path / "whole.duckdb"
    with duckdb.connect(str(whole)) as con:
        for contract in division_first(load_contracts().values()):  # as the run orders them
            ingest_source(contract, settings.extract_dir, con, Scope(gemeenten=settings.gemeenten, first_year=2015, last_year=2024))
        for source in SOURCES:
            expected = con.execute(f"select * exclude (_loaded_at) from raw.{source} order by all").fetchall()
            assert _raw(settings, source) == expected and expected, source
            years = {r[0] for r in con.execute(f"select distinct jaar from raw.{source}").fetchall()}
            assert years <= set(range(2015, 2025)) and (source == "gebiedswijzigingen" or len(years) == 10)

    # 2. a corrected GGD 2023 extract: reload that year only
    before = {y: _raw(settings, "ggd_monitor", f"jaar = {y}", times=True) for y in range(2015, 2025)}
    extract = settings.extract_dir / "ggd_gezondheidsmonitor_2023.csv"
    lines = extract.read_text("utf-8").splitlines()
    lines[1] = lines[1].rsplit(";", 1)[0] + ";9999"  # aantal_respondenten, the last column
    extract.write_text("\n".join(lines) + "\n", "utf-8")
    _materialize(home, data_dir, "--select", "raw/ggd_monitor", "--partition", "2023")
    instance = instance_at(home)
    try:
        latest = instance.get_run_records(limit=1)[0]
        events = instance.all_logs(latest.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        assert [e.dagster_event.partition for e in events] == ["2023"]
    finally:
        instance.dispose()
    for year, rows in before.items():
        if year != 2023:
            assert _raw(settings, "ggd_monitor", f"jaar = {year}", times=True) == rows, year  # untouched
    assert len(_raw(settings, "ggd_monitor", "jaar = 2023 and aantal_respondenten = 9999")) == 1
    assert len(_raw(settings, "ggd_monitor", "jaar = 2023")) == len(before[2023])


@pytest.mark.slow
def test_the_runs_of_a_backfill_from_the_ui_succeed_on_a_fresh_warehouse(tmp_path):
    """A backfill from the UI splits the graph into runs: the unpartitioned roots with what needs only them
    (the seeds and the dimension marts), then the sources for every year, then the rest, possibly in more
    parts. On a fresh warehouse, the dbt tests of an early run must not read models of a later run."""
    settings = settings_for(tmp_path / "data")
    instance = dg.DagsterInstance.ephemeral()
    first = "key:demostad_extracts or group:factor_model or key:marts/dim_factor or key:marts/dim_goal or key:marts/dim_indicator"
    staging = ("key:staging/stg_gebiedsindeling or key:staging/stg_gebiedswijzigingen or key:staging/stg_cbs_kerncijfers "
               "or key:intermediate/int_area_code_map or key:marts/dim_area")
    for selection in (first, "group:sources and not key:demostad_extracts", staging):
        result = materialize_all(settings, selection, raise_on_error=False, instance=instance)
        failures = [e.step_failure_data.error.message[:3000] for e in result.all_events
                    if e.event_type == dg.DagsterEventType.STEP_FAILURE]
        assert result.success, failures


def _documented_selections() -> list[str]:
    """Every ``--select '...'`` of the README and the Makefile, and the Makefile's default SELECT."""
    import re

    found = []
    for name in ("README.md", "Makefile"):
        text = (PROJECT_DIR / name).read_text("utf-8")
        found += [s for s in re.findall(r"--select '([^'$]+)'", text)]
        found += re.findall(r"SELECT='([^']+)'", text)
        found += re.findall(r"^SELECT \?= (\S+)$", text, flags=re.M)
    return sorted(set(found))


@pytest.mark.parametrize("selection", _documented_selections())
def test_every_documented_asset_selection_selects_assets(selection, tmp_path):
    """`make backfill`'s default was 'group:sources*', which Dagster 1.13's selection syntax rejects
    ('Invalid selection string'); every selection the README and the Makefile give an operator
    must parse and select something ('group:sources+': the sources and everything downstream)."""
    graph = build_definitions(settings_for(tmp_path)).resolve_asset_graph()
    keys = set()
    for part in selection.split(","):
        keys |= dg.AssetSelection.from_string(part).resolve(graph)
    assert keys, selection
    if selection == "group:sources+":
        assert {dg.AssetKey("serving_copy"), dg.AssetKey(["marts", "mart_factor_ranking"])} <= keys


def test_the_documented_selections_include_the_backfill_default():
    assert {"group:sources+", "raw/ggd_monitor*", "*"} <= set(_documented_selections())
