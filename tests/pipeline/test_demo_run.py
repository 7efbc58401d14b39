"""The whole demo pipeline, materialised by Dagster into a real DuckDB file."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

from data_contracts.contract import load_contracts
from pipelines.ingest.area_division import DIVISION_SOURCES
from pipelines.definitions import build_definitions
from tests.pipeline.runs import materialize_all, settings_for

SOURCES = sorted(load_contracts())
pytestmark = pytest.mark.slow


def test_every_asset_materialises(demo_run):
    _, result = demo_run
    assert result.success
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {f"raw/{s}" for s in SOURCES} | {"demostad_extracts"} <= materialised


def test_warehouse_holds_every_raw_table_with_rows(demo_run):
    settings, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for source in SOURCES:
            (rows,) = con.execute(f"select count(*) from raw.{source}").fetchone()
            assert rows > 0, source
            (quarantined,) = con.execute(f"select count(*) from quarantine.{source}").fetchone()
            assert quarantined == 0, f"demo data of {source} should be clean"


def test_every_demo_area_code_was_checked_against_the_area_division(demo_run):
    """The run loads the division first, so the area check ran for every year (and quarantined nothing, above)."""
    _, result = demo_run
    notes = {e.asset_key.path[1]: e.metadata["area_codes_not_checked"].value for e in result.get_asset_check_evaluations()
             if e.check_name.startswith("contract_")}
    assert notes == {s: "none" for s in SOURCES if s not in DIVISION_SOURCES} | {
        s: "not applicable (no area codes to check against the area division)" for s in DIVISION_SOURCES}


@pytest.mark.parametrize("source", SOURCES)
def test_rows_are_accounted_for_in_metadata_and_checks(demo_run, source):
    """One run of every year: one materialisation per year partition, each with that year's own counts."""
    settings, result = demo_run
    events = {e.partition: e.materialization.metadata for e in result.get_asset_materialization_events()
              if e.asset_key == dg.AssetKey(["raw", source])}
    assert sorted(events) == [str(y) for y in settings.years] == [str(y) for y in range(2015, 2025)]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        per_year = dict(con.execute(f"select jaar::varchar, count(*) from raw.{source} group by 1").fetchall())
    for year, metadata in events.items():
        rows_in, loaded, quarantined = (metadata[k].value for k in ("rows_in", "rows_loaded", "rows_quarantined"))
        assert rows_in == loaded + quarantined and metadata["year"].value == int(year)
        assert loaded == metadata["dagster/row_count"].value == per_year.get(year, 0), year
        assert metadata["duration_seconds"].value >= 0
    assert sum(m["rows_loaded"].value for m in events.values()) == sum(per_year.values()) > 0
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()
              if e.asset_key == dg.AssetKey(["raw", source])}
    assert {f"contract_{source}", f"rows_accounted_{source}"} <= set(checks) and all(checks.values()), checks


def test_every_check_of_the_marts_ran_and_passed(demo_run):
    """The marts are built in one dbt step, so every dbt test runs and gates the serving copy; a test whose models
    were built in different steps (such as the relationships test of fct_indicator_value on dim_area, when a cycle
    through a check op splits the dbt op) would report nothing."""
    settings, result = demo_run
    evaluated = {(e.asset_key, e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    graph = build_definitions(settings).resolve_asset_graph()
    marts_checks = {(k.asset_key, k.name) for k in graph.asset_check_keys if k.asset_key.path[0] == "marts"}
    assert marts_checks - set(evaluated) == set()
    assert (dg.AssetKey(["marts", "fct_indicator_value"]), "relationships_fct_indicator_value_area_code__area_code__ref_dim_area_") in marts_checks
    assert [check for check in marts_checks if not evaluated[check]] == []


def test_dbt_seeds_are_in_the_warehouse(demo_run):
    settings, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        (factors,) = con.execute("select count(*) from factor_model.factors").fetchone()
    assert factors >= 30


def test_a_refused_extract_fails_the_asset_and_writes_nothing(demo_run, tmp_path):
    demo_settings, _ = demo_run
    extracts = tmp_path / "extracts"
    shutil.copytree(demo_settings.extract_dir, extracts)
    broken = sorted(extracts.glob("politie_*.csv"))[-1]
    broken.write_text("jaar;buurtcode;BSN\n2024;BU99990101;123456782\n", encoding="utf-8")
    settings = settings_for(tmp_path / "data", FACTORENMODEL_EXTRACT_DIR=str(extracts))
    result = materialize_all(settings, "key:raw/politie_jeugdverdachten", raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = failure.step_failure_data.error.message + str(failure.step_failure_data.user_failure_data)
    assert broken.name in message and "BSN" in message
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        tables = con.execute("select table_name from information_schema.tables where table_schema='raw'").fetchall()
    assert tables == []
