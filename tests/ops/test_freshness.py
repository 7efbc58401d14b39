"""Freshness checks: a stale source fails its blocking check, names its newest years and stops what is
downstream (publishing); a fresh one passes; the serving copy's check reads the published release."""

import dagster as dg
import duckdb
import pytest

from pipelines.defs.ops import active_source_year_columns
from pipelines.defs.ops.freshness import CHECK_NAME, build_serving_freshness_check, build_source_freshness_checks
from pipelines.defs.sources.assets import WAREHOUSE_POOL
from tests.pipeline.runs import settings_for

RAW_KEY = dg.AssetKey(["raw", "ggd_monitor"])


def _warehouse(settings, years: range) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema if not exists raw")
        con.execute("create or replace table raw.ggd_monitor (jaar integer, wijkcode varchar, percentage double)")
        for year in years:
            con.execute("insert into raw.ggd_monitor values (?, 'WK999901', 12.5), (?, 'WK999902', 14.0)", [year, year])


def _run(settings, published: list):
    @dg.asset(key=RAW_KEY, pool=WAREHOUSE_POOL)
    def ggd_monitor() -> None:  # stands in for the ingestion asset: the table is already there
        return None

    @dg.asset(deps=[RAW_KEY])
    def serving_copy() -> None:  # stands in for dbt and the serving copy downstream
        published.append(True)

    defs = dg.Definitions(
        assets=[ggd_monitor, serving_copy],
        asset_checks=[build_source_freshness_checks(settings, {"ggd_monitor": "jaar"})],
    )
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )


def test_a_stale_source_fails_its_blocking_freshness_check_and_stops_publishing(tmp_path):
    settings = settings_for(tmp_path)  # demo: reference year 2024, max age 3 -> newest year must be >= 2021
    _warehouse(settings, range(2012, 2020))
    published: list = []
    result = _run(settings, published)
    assert not result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == CHECK_NAME and not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "stale: newest year 2019 < 2021" in evaluation.description
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    assert metadata["newest_year"] == 2019 and metadata["minimum_newest_year"] == 2021
    assert "| 2019 | 2 |" in metadata["rows_in_newest_years"]
    assert published == []  # nothing downstream ran


def test_a_fresh_source_passes(tmp_path):
    settings = settings_for(tmp_path)
    _warehouse(settings, range(2015, 2025))
    published: list = []
    result = _run(settings, published)
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.metadata["newest_year"].value == 2024
    assert published == [True]


def test_max_data_age_is_configurable(tmp_path):
    settings = settings_for(tmp_path, FACTORENMODEL_MAX_DATA_AGE_YEARS="6")
    _warehouse(settings, range(2012, 2019))  # 2018 >= 2024 - 6
    assert _run(settings, []).success


@pytest.mark.parametrize("source", ["gebiedswijzigingen"])
def test_event_like_sources_only_warn(tmp_path, source):
    settings = settings_for(tmp_path)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema raw")
        con.execute(f"create table raw.{source} as select 2016 as jaar")

    @dg.asset(key=dg.AssetKey(["raw", source]))
    def stand_in() -> None:
        return None

    defs = dg.Definitions(assets=[stand_in], asset_checks=[build_source_freshness_checks(settings, {source: "jaar"})])
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=dg.DagsterInstance.ephemeral())
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert result.success


def test_every_source_contract_gets_a_freshness_check(tmp_path):
    columns = active_source_year_columns(settings_for(tmp_path))
    assert {"cbs_kerncijfers", "ggd_monitor", "gemeente_registraties", "politie_jeugdverdachten"} <= set(columns)
    assert set(columns.values()) == {"jaar"}


def test_serving_freshness_fails_without_a_published_copy(tmp_path):
    settings = settings_for(tmp_path)

    @dg.asset(name="serving_copy")
    def serving_copy() -> None:
        return None

    defs = dg.Definitions(
        assets=[serving_copy], asset_checks=[build_serving_freshness_check(settings, dg.AssetKey("serving_copy"))]
    )
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and "no serving copy published yet" in evaluation.description
