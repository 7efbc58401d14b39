"""Declarative automation: after a new extract is loaded, the automation sensor's conditions request
staging, the marts and the serving copy (and nothing else), without anyone launching a run. The
sources are partitioned by year: reloading one year partition is enough to trigger the rebuild."""

import shutil

import dagster as dg
import pytest
from dagster._core.instance import InstanceRef

from pipelines.definitions import build_definitions
from pipelines.defs.ops import AUTOMATION_SENSOR_NAME
from tests.pipeline.runs import settings_for

NEW_EXTRACT_SOURCE = dg.AssetKey(["raw", "ggd_monitor"])


def _requested(result) -> set[dg.AssetKey]:
    return {r.key for r in result.results if isinstance(r.key, dg.AssetKey) and r.true_subset.size > 0}


@pytest.mark.slow
def test_a_new_extract_flows_through_to_the_marts_and_the_serving_copy(demo_run, tmp_path):
    # the first full run, every year: a copy of the session's demo run, its data folder and the Dagster
    # instance it ran on (whose records the automation conditions read)
    demo_settings, first_run = demo_run
    assert first_run.success
    shutil.copytree(demo_settings.data_dir, tmp_path / "data", symlinks=True)
    shutil.copytree(first_run.instance_dir, tmp_path / "dagster_home")
    settings = settings_for(tmp_path / "data")
    defs = build_definitions(settings)
    repo = defs.get_repository_def()
    sensor = repo.get_sensor_def(AUTOMATION_SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    job = defs.resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path / "dagster_home")))
    assert instance.get_run_by_id(first_run.run_id).is_success

    settled = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert _requested(settled) == set()  # everything is up to date: nothing to do

    # a new GGD extract for 2024 arrives and that year is loaded (by the drop-folder sensor or a click on
    # raw/ggd_monitor, partition 2024)
    extract = settings.extract_dir / "ggd_gezondheidsmonitor_2024.csv"
    extract.write_bytes(extract.read_bytes())
    new_year = job.execute_in_process(instance=instance, asset_selection=[NEW_EXTRACT_SOURCE], partition_key="2024")
    assert new_year.success
    assert [e.partition for e in new_year.get_asset_materialization_events()] == ["2024"]  # that year only

    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
    requested = _requested(tick)
    graph = defs.resolve_asset_graph()
    downstream = dg.AssetSelection.assets(NEW_EXTRACT_SOURCE).downstream().resolve(graph) - {NEW_EXTRACT_SOURCE}
    assert requested == downstream  # exactly what depends on the new extract ...
    marts = {k for k in requested if k.path[0] == "marts"}
    assert {dg.AssetKey(["marts", "fct_indicator_value"]), dg.AssetKey(["marts", "mart_staat_van_de_jeugd"])} <= marts
    assert {dg.AssetKey("serving_copy"), dg.AssetKey(["staging", "stg_ggd_monitor"])} <= requested
    assert dg.AssetKey(["marts", "dim_factor"]) not in requested  # ... and nothing that does not
    assert not any(k.path[0] in ("raw", "factor_model") for k in requested)  # upstream is not reloaded

    # what the sensor's run does: materialise the requested assets (with their checks); to keep the
    # test short the ML stage (group ml and the ML marts after it) is left out of this rebuild
    ml_and_after = dg.AssetSelection.groups("ml").downstream().resolve(graph) - {dg.AssetKey("serving_copy")}
    rebuild_keys = sorted(requested - ml_and_after, key=str)
    rebuild = job.execute_in_process(instance=instance, asset_selection=rebuild_keys)
    assert rebuild.success
    assert all(instance.get_latest_materialization_event(k).run_id == rebuild.run_id for k in rebuild_keys)
    assert set(marts) - ml_and_after <= set(rebuild_keys)

    quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert _requested(quiet) <= ml_and_after  # and then it rests (bar the ML stage the test left out)
