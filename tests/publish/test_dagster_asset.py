"""The serving_copy asset in Dagster: it publishes after its upstream checks pass, and not otherwise."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from pipelines.defs.publish.assets import SERVING_COPY_KEY, build_publish_asset, mart_asset_keys
from pipelines.defs.dbt.project import dbt_project
from pipelines.definitions import build_definitions
from pipelines.publish import current_release
from tests.pipeline.runs import settings_for
from tests.publish.marts import expected_rows, write_warehouse

MART_KEY = dg.AssetKey(["marts", "tiny_mart"])


def _pipeline(settings, version: int, check_passes: bool, separate_check: bool):
    """A tiny upstream 'mart' asset with a blocking check, and the publish asset downstream."""
    check_specs = [] if separate_check else [dg.AssetCheckSpec("mart_is_valid", asset=MART_KEY, blocking=True)]

    @dg.asset(key=MART_KEY, check_specs=check_specs)
    def tiny_mart():
        write_warehouse(settings.warehouse_path, version)
        if not separate_check:
            yield dg.AssetCheckResult(check_name="mart_is_valid", passed=check_passes)
        yield dg.MaterializeResult()

    @dg.asset_check(asset=MART_KEY, blocking=True)
    def mart_is_valid_separately():
        return dg.AssetCheckResult(passed=check_passes)

    assets = [tiny_mart, build_publish_asset(settings, deps=[MART_KEY])]
    return assets, [mart_is_valid_separately] if separate_check else []


def _materialize(settings, version, check_passes, separate_check, instance):
    assets, checks = _pipeline(settings, version, check_passes, separate_check)
    return dg.materialize([*assets, *checks], instance=instance, raise_on_error=False)


@pytest.mark.parametrize("separate_check", [False, True], ids=["check_in_asset", "separate_asset_check"])
def test_a_failed_blocking_check_stops_publishing(tmp_path, separate_check):
    settings = settings_for(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.ephemeral()

    good = _materialize(settings, 1, True, separate_check, instance)
    assert good.success
    assert SERVING_COPY_KEY in {e.asset_key for e in good.get_asset_materialization_events()}
    release = current_release(settings.serving_dir)

    bad = _materialize(settings, 2, False, separate_check, instance)
    assert not bad.success
    assert [e.passed for e in bad.get_asset_check_evaluations()] == [False]
    # Dagster fails the step that reported the blocking check and never starts serving_copy
    assert "serving_copy" not in {e.step_key for e in bad.all_events if e.is_step_start}
    assert SERVING_COPY_KEY not in {e.asset_key for e in bad.get_asset_materialization_events()}
    assert current_release(settings.serving_dir) == release
    with duckdb.connect(str(settings.serving_dir / "current" / "factorenmodel.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_area").fetchone()[0] == expected_rows(1)["dim_area"]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_area").fetchone()[0] == expected_rows(2)["dim_area"], (
            "the warehouse did get the failing run's rows; only the serving copy kept the old ones")


def test_the_materialisation_records_release_tables_rows_and_bytes(tmp_path):
    settings = settings_for(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    result = _materialize(settings, 4, True, False, dg.DagsterInstance.ephemeral())
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == SERVING_COPY_KEY]
    metadata = event.materialization.metadata
    assert metadata["release"].value == str(current_release(settings.serving_dir))
    assert metadata["rows"].value == sum(expected_rows(4).values())
    assert metadata["bytes"].value > 0 and metadata["duration_seconds"].value > 0
    assert "| `fct_indicator_value` | 128 |" in metadata["tables"].value
    assert result.run_id in metadata["release"].value


def test_serving_copy_depends_on_every_dbt_mart_in_the_code_location(tmp_path):
    graph = build_definitions(settings_for(tmp_path)).resolve_asset_graph()
    node = graph.get(SERVING_COPY_KEY)
    assert node.group_name == "publish" and node.pools == {"warehouse"}
    marts = set(mart_asset_keys(dbt_project.manifest_path))
    assert set(node.parent_keys) == marts
    assert all(graph.get(key).group_name in ("marts", "ml") for key in marts)  # ML marts sit with the ML stage
