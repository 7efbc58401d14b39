"""A corrected extract whose every row the contract quarantines must not cost the year its good rows.

A GGD file for 2023 dropped in the landing folder with every wijk code of another gemeente used to
replace the 2023 extract: the run succeeded, every row went to quarantine, raw.ggd_monitor had no
2023 rows left and the extract it replaced was archived as 'replaced'. (The guard against emptying
a year did not fire: it looks for years without any row, and quarantined rows are rows.) Now the
extract it replaced is restored and loaded again, the dropped file is archived as 'quarantined',
and the run log names the file and the reasons. A real sensor tick, a real Dagster run of the
ingestion asset, a real DuckDB file; the extracts are the small synthetic Demostad (2019-2024).
"""

from __future__ import annotations

import logging
import os
import shutil
import time

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import build_definitions
from pipelines.defs.landing import SENSOR_NAME
from pipelines.demo.generator import DemoConfig, generate_demo
from pipelines.landing import read_manifest
from tests.pipeline.runs import materialize_all, settings_for

GGD_2023 = "ggd_gezondheidsmonitor_2023.csv"
GGD = dg.AssetKey(["raw", "ggd_monitor"])


@pytest.fixture
def deployment(tmp_path):
    demo = generate_demo(tmp_path / "delivered", config=DemoConfig.small())
    extracts, landing = tmp_path / "extracts", tmp_path / "landing"
    shutil.copytree(demo.extract_dir, extracts)
    landing.mkdir()
    settings = settings_for(tmp_path / "data", FACTORENMODEL_EXTRACT_DIR=str(extracts), FACTORENMODEL_LANDING_DIR=str(landing),
                            FACTORENMODEL_FIRST_YEAR="2019", FACTORENMODEL_LAST_YEAR="2024")
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_all(settings, "key:raw/gebiedsindeling or key:raw/ggd_monitor", instance=instance).success
    return settings, instance


def _rows(settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _drop(settings, name: str, text: str) -> None:
    path = settings.landing_dir / name
    path.write_text(text, "utf-8")
    settled = time.time() - 3600  # older than the sensor's settle time
    os.utime(path, (settled, settled))


def _sensor_run(settings, instance) -> dg.ExecuteInProcessResult:
    defs = build_definitions(settings)
    tick = defs.resolve_sensor_def(SENSOR_NAME).evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
    (request,) = tick.run_requests
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(instance=instance, asset_selection=[GGD], tags=request.tags)


def test_a_drop_whose_rows_are_all_quarantined_leaves_the_year_its_rows(deployment):
    settings, instance = deployment
    extracts = settings.extract_dir
    before = _rows(settings, "select * exclude (_loaded_at) from raw.ggd_monitor where jaar = 2023 order by all")
    assert before
    delivered = (extracts / GGD_2023).read_text("utf-8")
    foreign = delivered.replace(";WK9999", ";WK0123")  # every wijk of another gemeente: every row quarantined
    _drop(settings, GGD_2023, foreign)

    result = _sensor_run(settings, instance)
    assert result.success
    assert _rows(settings, "select * exclude (_loaded_at) from raw.ggd_monitor where jaar = 2023 order by all") == before
    assert (extracts / GGD_2023).read_text("utf-8") == delivered  # the extract it replaced is back
    (entry,) = read_manifest(settings.landing_dir)  # no 'replaced' line: nothing was replaced
    assert (entry["file"], entry["status"], entry["rows_loaded"], entry["rows_quarantined"]) == (
        GGD_2023, "quarantined", 0, len(before))
    assert entry["restored"] == [GGD_2023]
    assert (settings.landing_dir / "archive" / entry["archived_as"]).read_text("utf-8") == foreign
    assert not list((settings.landing_dir / ".processing").iterdir())

    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]
    (warning,) = [w for w in warnings if w.startswith(f"Drop-folder file {GGD_2023}:")]
    assert f"all {len(before)} rows quarantined" in warning
    assert "wijkcode: area code outside the configured gemeente(n) GM9999" in warning
    assert f"the extract it replaced ({GGD_2023}) is restored and loaded again" in warning
    assert "archived as 'quarantined'" in warning
