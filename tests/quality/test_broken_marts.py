"""A broken mart fails the right expectation with its rows named, and stops the serving copy."""

from __future__ import annotations

import shutil
from functools import partial

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import build_definitions
from pipelines.defs.publish.assets import SERVING_COPY_KEY, build_publish_asset
from pipelines.defs.quality import CHECK_NAME, build_ge_checks
from pipelines.publish import CURRENT
from pipelines.quality import suite_marts, validate_mart
from tests.pipeline.runs import settings_for

pytestmark = pytest.mark.slow

INSERT_VALUES = """
insert into marts.fct_indicator_value
    (area_code, area_level, year, indicator_id, value, numerator, denominator, unit, source,
     is_suppressed, is_aggregate, areas_aggregated, derived_from_level, is_complete)
values """
"""Rows written straight into the mart, as a broken dbt model would: the columns they fill."""

BAD_ROWS = INSERT_VALUES + """('BU99990101', 'buurt', 2020, 'test_broken', 150.0, 150, 100, 'percentage', 'ggd_monitor', false, false, 1, 'buurt', true),
       ('BU99990102', 'buurt', 2020, 'test_broken', 4.0, null, null, 'percentage', 'ggd_monitor', true, false, 1, 'buurt', true)
"""


def break_warehouse(path):
    with duckdb.connect(str(path)) as con:
        con.execute(BAD_ROWS)


@pytest.fixture
def demo_copy(demo_run, tmp_path):
    """Settings whose warehouse is a private copy of the demo run's warehouse."""
    source, _ = demo_run
    settings = settings_for(tmp_path / "data")
    settings.warehouse_path.parent.mkdir(parents=True)
    shutil.copyfile(source.warehouse_path, settings.warehouse_path)
    return settings


def test_broken_mart_fails_the_right_expectations_and_names_the_rows(demo_copy):
    break_warehouse(demo_copy.warehouse_path)
    validation = validate_mart(demo_copy.warehouse_path, "fct_indicator_value", reference_year=2024)
    assert not validation.success and validation.blocking_failed
    by_type = {(f.expectation_type, f.kwargs.get("row_condition", {}).get("column", {}).get("name")): f
               for f in validation.failures}
    assert set(by_type) == {
        ("expect_column_values_to_be_between", "unit"),  # percentage 150
        ("expect_column_values_to_be_null", "is_suppressed"),  # suppressed row with a value
    }
    pct = by_type[("expect_column_values_to_be_between", "unit")]
    assert pct.unexpected_count == 1 and pct.unexpected_values == [150.0]
    assert pct.unexpected_rows == [
        {"value": 150.0, "area_code": "BU99990101", "year": 2020, "indicator_id": "test_broken"}
    ]
    suppressed = by_type[("expect_column_values_to_be_null", "is_suppressed")]
    assert suppressed.unexpected_rows[0]["area_code"] == "BU99990102"


def test_a_value_derived_from_a_coarser_level_fails_and_names_its_row(demo_copy):
    """A buurt value can only come from buurten and a wijk value from the wijk or its buurten (one
    in-set expectation per level: GE's pair expectation looped over the rows in Python, minutes at
    national scale)."""
    with duckdb.connect(str(demo_copy.warehouse_path)) as con:
        con.execute(INSERT_VALUES + """('BU99990101', 'buurt', 2020, 'test_coarser', 40.0, 40, 100, 'percentage', 'ggd_monitor', false, false, 1, 'wijk', true),
                   ('WK999901', 'wijk', 2020, 'test_coarser', 40.0, 40, 100, 'percentage', 'ggd_monitor', false, true, 1, 'gemeente', true),
                   ('GM9999', 'gemeente', 2020, 'test_coarser', 40.0, 40, 100, 'percentage', 'ggd_monitor', false, true, 1, 'buurt', true)""")
    validation = validate_mart(demo_copy.warehouse_path, "fct_indicator_value", reference_year=2024)
    coarser = {f.kwargs["row_condition"]["parameter"]: f for f in validation.failures
               if f.expectation_type == "expect_column_values_to_be_in_set" and "row_condition" in f.kwargs}
    assert set(coarser) == {"buurt", "wijk"}  # the gemeente value from buurten is fine
    assert [r["area_code"] for r in coarser["buurt"].unexpected_rows] == ["BU99990101"]
    assert [r["area_code"] for r in coarser["wijk"].unexpected_rows] == ["WK999901"]
    assert coarser["wijk"].unexpected_values == ["gemeente"]


def test_stale_data_fails_freshness(demo_copy):
    validation = validate_mart(demo_copy.warehouse_path, "fct_factor_score", reference_year=2030, max_data_age_years=3)
    assert [f.expectation_type for f in validation.failures] == ["expect_column_max_to_be_between"]
    assert validation.failures[0].observed_value == 2024 and validation.parameters["min_newest_year"] == 2027


BROKEN_AND_TWO_GOOD = ("fct_indicator_value", "dim_area", "mart_factor_ranking")
"""The marts whose GE checks gate the publish in the runs below (unless a test names others): the one
``break_warehouse`` breaks and two that stay good. Each run validates these, not all 19 marts (every
mart's suite on the demo is validated by the session's demo run): about 3 s a run instead of 8."""


def _run(settings, break_it: bool, instance: dg.DagsterInstance | None = None,
         only_publish: bool = False, extra_checks: list | None = None,
         only_marts: bool = False, marts: tuple[str, ...] = BROKEN_AND_TWO_GOOD) -> dg.ExecuteInProcessResult:
    """Stand-in mart assets (the dbt step) -> the real GE checks of ``marts`` -> the real serving_copy, one run."""
    assert set(marts) <= set(suite_marts())
    keys = [dg.AssetKey(["marts", m]) for m in marts]

    @dg.multi_asset(specs=[dg.AssetSpec(k) for k in keys])
    def stand_in_marts():
        if break_it:
            break_warehouse(settings.warehouse_path)
        for key in keys:
            yield dg.MaterializeResult(asset_key=key)

    defs = dg.Definitions(
        assets=[stand_in_marts, build_publish_asset(settings, deps=keys, checks=[
            *(dg.AssetCheckKey(k, CHECK_NAME) for k in keys), *(c.check_key for c in extra_checks or [])])],
        asset_checks=[build_ge_checks(settings, keys), *(extra_checks or [])],
    )
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False,
        asset_selection=[SERVING_COPY_KEY] if only_publish else keys if only_marts else None,
    )


def test_a_failing_suite_stops_the_serving_copy_and_keeps_the_previous_one(demo_copy):
    good = _run(demo_copy, break_it=False)
    assert good.success
    assert good.asset_materializations_for_node("serving_copy")
    current = (demo_copy.serving_dir / CURRENT).resolve()

    bad = _run(demo_copy, break_it=True)
    assert not bad.success
    evaluations = {e.asset_key.path[-1]: e for e in bad.get_asset_check_evaluations() if e.check_name == CHECK_NAME}
    failed = {m for m, e in evaluations.items() if not e.passed}
    assert failed == {"fct_indicator_value"}
    evaluation = evaluations["fct_indicator_value"]
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR and evaluation.blocking
    table = evaluation.metadata["failed_expectations"].value
    assert "expect_column_values_to_be_between" in table and "BU99990101" in table and "150.0" in table
    assert evaluation.metadata["expectations_failed"].value == 2
    # the check step failed (Dagster raises DagsterAssetCheckFailedError after a failed blocking
    # ERROR check) and serving_copy, whose inputs wait on the check outputs, never started
    failures = [e for e in bad.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["great_expectations_suites"]
    assert "blocking asset check" in str(failures[0].step_failure_data.error.message)
    assert not [e for e in bad.all_events if e.step_key == "serving_copy" and e.is_step_start]
    assert not [e for e in bad.all_events if e.asset_key == SERVING_COPY_KEY and e.is_step_materialization]
    assert (demo_copy.serving_dir / CURRENT).resolve() == current  # previous release still current


def test_in_the_real_graph_serving_copy_waits_for_the_ge_checks(tmp_path):
    """In the code location's job, serving_copy's inputs depend on the blocking GE check outputs."""
    defs = build_definitions(settings_for(tmp_path))
    job = defs.resolve_implicit_global_asset_job_def()
    deps = job.graph.dependencies
    serving = next(v for k, v in deps.items() if k.name == "serving_copy" or k.alias == "serving_copy")
    check_nodes = {
        d.node
        for dep in serving.values()
        for d in getattr(dep, "get_node_dependencies", lambda: [dep])()
    }
    assert "great_expectations_suites" in check_nodes


def test_serving_copy_on_its_own_after_a_failed_check_does_not_publish(demo_copy):
    """The gate also holds across runs: publishing alone after a run whose GE check failed is refused."""
    instance = dg.DagsterInstance.ephemeral()
    assert _run(demo_copy, break_it=False, instance=instance).success
    current = (demo_copy.serving_dir / CURRENT).resolve()
    assert not _run(demo_copy, break_it=True, instance=instance).success
    alone = _run(demo_copy, break_it=False, instance=instance, only_publish=True)
    assert not alone.success
    (failure,) = [e for e in alone.all_events if e.is_step_failure]
    assert "Not publishing" in str(failure.step_failure_data.user_failure_data.description) + str(
        failure.step_failure_data.error.message) and "marts/fct_indicator_value" in str(failure.step_failure_data.error.message)
    assert (demo_copy.serving_dir / CURRENT).resolve() == current


RANKING = dg.AssetKey(["marts", "mart_factor_ranking"])


@pytest.mark.parametrize("outcome", ["failed", "could not run"])
def test_serving_copy_on_its_own_refuses_after_a_failed_dbt_test(demo_copy, outcome):
    """Any check of a mart counts, not only the GE suite: a dbt test of severity error (a
    non-blocking check reported by the dbt step, like ``evidence_shares_add_up``) that failed, or a
    check that could not run, stops a later publish on its own; once it passes again, it publishes."""
    state = {"ok": True}

    @dg.asset_check(asset=RANKING, name="evidence_shares_add_up")
    def stand_in_dbt_test() -> dg.AssetCheckResult:
        if not state["ok"] and outcome == "could not run":
            raise RuntimeError("the check's step failed")
        return dg.AssetCheckResult(passed=state["ok"], severity=dg.AssetCheckSeverity.ERROR)

    instance = dg.DagsterInstance.ephemeral()
    run = partial(_run, demo_copy, break_it=False, instance=instance, extra_checks=[stand_in_dbt_test],
                  marts=("mart_factor_ranking",))
    assert run().success
    current = (demo_copy.serving_dir / CURRENT).resolve()
    state["ok"] = False
    run(only_marts=True)
    alone = run(only_publish=True)
    assert not alone.success
    (failure,) = [e for e in alone.all_events if e.is_step_failure]
    assert f"marts/mart_factor_ranking: evidence_shares_add_up {outcome}" in str(failure.step_failure_data.error.message)
    assert (demo_copy.serving_dir / CURRENT).resolve() == current
    state["ok"] = True
    run(only_marts=True)
    assert run(only_publish=True).success
