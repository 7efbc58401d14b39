"""The drop-folder sensor end to end (issue 5): a real-municipality deployment configured by file,
with one source (DUO) switched off. Drop a valid file, a duplicate, a corrected version and a broken
file; evaluate the sensor against a Dagster instance, execute the runs it requests in process with
the real definitions on a temporary warehouse, and check the runs, the archive, the rejected folder
and the rows in the warehouse and the marts.

The extracts are the synthetic Demostad extracts (GM9999), used here as if a municipality had
delivered them. The police extract was delivered before up to 2023 (the baseline run); the export
up to 2024 arrives through the drop folder. The sources are partitioned by year: the sensor's runs
cover the years the dropped file changes, and a corrected file for one year reloads that year only.
"""

from __future__ import annotations

import json
import shutil

import dagster as dg
import duckdb
import pandas as pd
import pytest
import yaml

from pipelines.definitions import build_definitions
from pipelines.defs.landing import SENSOR_NAME, YEARS_TAG
from pipelines.defs.partitions import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, all_years_tags
from pipelines.demo.generator import generate_demo
from pipelines.landing import read_manifest
from pipelines.settings import load_settings

POLICE = "politie_jeugdverdachten_demostad_2015-2024.csv"
pytestmark = pytest.mark.slow


def run_requests(defs, instance, cursor):
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    result = sensor.evaluate_tick(context)
    return result.run_requests, result.cursor


def execute(defs, instance, request, ingestion_only: bool = False) -> dg.ExecuteInProcessResult:
    """Execute a run the sensor requested, as the run launcher would (in process); ``ingestion_only``
    executes only its source assets (what a drop changes), to keep a test short where a request
    through to the marts was already shown."""
    job = defs.resolve_implicit_global_asset_job_def()
    keys = [k for k in request.asset_selection if not ingestion_only or k.path[0] == "raw"]
    return job.execute_in_process(instance=instance, asset_selection=keys, tags=request.tags, raise_on_error=False)


def years_of(request) -> tuple[str, str]:
    return request.tags[ASSET_PARTITION_RANGE_START_TAG], request.tags[ASSET_PARTITION_RANGE_END_TAG]


def warehouse(settings, sql):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    root = tmp_path_factory.mktemp("municipality")
    demo = generate_demo(root / "delivered")
    extracts, landing = root / "extracts", root / "landing"
    shutil.copytree(demo.extract_dir, extracts)
    (extracts / POLICE).rename(root / POLICE)  # the new export, to be dropped
    lines = (root / POLICE).read_text("utf-8").splitlines(keepends=True)
    (extracts / POLICE).write_text("".join(line for line in lines if not line.startswith("2024;")), "utf-8")
    for duo in extracts.glob("duo_*.csv"):
        duo.unlink()  # DUO is switched off: its extract is not needed
    landing.mkdir()
    config = {
        "municipality": {"name": "Demostad (as a real deployment)", "gemeenten": ["GM9999"]},
        "years": {"first": 2015, "last": 2026},
        "sources": ["cbs_kerncijfers", "gebiedsindeling", "gebiedswijzigingen", "gemeente_registraties", "ggd_monitor",
                    "politie_jeugdverdachten"],
        "paths": {"data_dir": "data", "extract_dir": "extracts"},
        "landing": {"dir": "landing", "settle_seconds": 0},
    }
    (root / "factorenmodel.yaml").write_text(yaml.safe_dump(config), "utf-8")
    settings = load_settings({"FACTORENMODEL_CONFIG": str(root / "factorenmodel.yaml")})
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    # the deployment as it stood: the sources, staging and marts for every year, police figures up to
    # 2023 (the ML stage and the serving copy, which read only the marts, are left to the first drop's
    # run, which selects them: this saves a run of them that no assertion reads)
    assert settings.years == tuple(range(2015, 2027))
    graph = defs.resolve_asset_graph()
    up_to_marts = dg.AssetSelection.from_string("* and not group:ml and not group:publish").resolve(graph)
    baseline = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, asset_selection=list(up_to_marts), tags=all_years_tags(settings))
    assert baseline.success
    assert warehouse(settings, "select max(jaar) from raw.politie_jeugdverdachten") == [(2023,)]
    return root, settings, defs, instance


def test_drop_folder_sensor_end_to_end(deployment):
    root, settings, defs, instance = deployment
    landing = settings.landing_dir
    original = (root / POLICE).read_text("utf-8")
    assert warehouse(settings, "select count(*) from raw.duo_onderwijs") == [(0,)]  # switched off: empty, but there

    # 1. a valid file
    (landing / POLICE).write_text(original, "utf-8")
    requests, cursor = run_requests(defs, instance, None)
    assert len(requests) == 1
    first = requests[0]
    selected = {k.to_user_string() for k in first.asset_selection}
    assert "raw/politie_jeugdverdachten" in selected and "marts/fct_indicator_value" in selected
    assert "raw/ggd_monitor" not in selected and first.run_key == json.loads(cursor)["seen"][0]
    assert {"ml/factor_ranking", "marts/mart_factor_ranking", "serving_copy"} <= selected  # and on to the end
    assert years_of(first) == ("2015", "2024")  # the years of the file (2015-2024) and of the extract it replaced
    assert first.tags[YEARS_TAG] == ",".join(map(str, range(2015, 2025)))
    result = execute(defs, instance, first)
    assert result.success
    rows = warehouse(settings, "select count(*), sum(misdrijven_totaal) from raw.politie_jeugdverdachten")[0]
    assert rows[0] == len(original.strip().splitlines()) - 1
    assert warehouse(settings, "select max(jaar) from raw.politie_jeugdverdachten") == [(2024,)]
    manifest = read_manifest(landing)
    assert [(m["file"], m["status"], m["rows_loaded"], m["rows_quarantined"]) for m in manifest] == [
        (POLICE, "loaded", rows[0], 0), (POLICE, "replaced", 0, 0)]  # the extract up to 2023 it replaced, kept
    assert (landing / "archive" / manifest[0]["archived_as"]).read_text("utf-8") == original
    assert (landing / "archive" / manifest[1]["archived_as"]).read_text("utf-8") == "".join(
        line for line in original.splitlines(keepends=True) if not line.startswith("2024;"))
    police_2024 = warehouse(settings, "select count(*) from marts.fct_indicator_value where year = 2024 and source = 'politie_jeugdverdachten'")
    assert police_2024[0][0] > 0  # the new years reached the marts

    # 2. nothing new: no run
    requests, cursor = run_requests(defs, instance, cursor)
    assert requests == []

    # 3. a duplicate (same bytes, other name), a corrected version (Parquet, same name) with one bad row,
    #    and a broken file (comma-delimited) in one look
    (landing / "kopie_politie.csv").write_text(original, "utf-8")
    corrected = pd.read_csv(root / POLICE, sep=";")
    corrected.loc[0, "misdrijven_totaal"] += 1000
    corrected.loc[1, "buurtcode"] = "BU01230101"  # not in GM9999: quarantined
    with duckdb.connect() as con:
        con.register("corrected", corrected)
        con.execute(f"COPY corrected TO '{landing / POLICE.replace('.csv', '.parquet')}' (FORMAT parquet)")
    (landing / "politie_broken.csv").write_text(original.replace(";", ","), "utf-8")
    requests, cursor = run_requests(defs, instance, cursor)
    assert len(requests) == 1 and requests[0].run_key != first.run_key
    assert requests[0].tags["factorenmodel/landing_files"] == POLICE.replace(".csv", ".parquet")
    assert set(requests[0].asset_selection) == set(first.asset_selection)  # again through to the marts
    result = execute(defs, instance, requests[0], ingestion_only=True)  # the marts' part was shown in 1.
    assert result.success

    statuses = {(m["file"], m["status"]) for m in read_manifest(landing)}
    assert statuses == {(POLICE, "loaded"), ("kopie_politie.csv", "duplicate"), (POLICE.replace(".csv", ".parquet"), "loaded"),
                        (POLICE, "replaced")}
    latest = [m for m in read_manifest(landing) if m["status"] == "loaded"][-1]
    assert latest["rows_loaded"] == rows[0] - 1 and latest["rows_quarantined"] == 1 and latest["staged_as"] == POLICE
    rejected = sorted(p.name for p in (landing / "rejected").iterdir())
    assert len(rejected) == 2 and rejected[0].endswith("_politie_broken.csv") and rejected[1].endswith(".error.txt")
    assert "uses ',' as column delimiter" in (landing / "rejected" / rejected[1]).read_text("utf-8")
    assert sorted(p.name for p in landing.iterdir()) == [".processing", "archive", "rejected"]

    # the warehouse holds the corrected version only: the same file loaded once, the correction replaced it
    after = warehouse(settings, "select count(*), sum(misdrijven_totaal) from raw.politie_jeugdverdachten")[0]
    assert after == (rows[0] - 1, rows[1] + 1000 - int(corrected.loc[1, "misdrijven_totaal"]))
    assert warehouse(settings, "select count(*) from quarantine.politie_jeugdverdachten") == [(1,)]
    files = warehouse(settings, "select distinct _source_file from raw.politie_jeugdverdachten")
    assert files == [(POLICE,)]

    # 4. the same broken file again is rejected again; the duplicate again is archived again; no run
    requests, cursor = run_requests(defs, instance, cursor)
    assert requests == []


def test_a_corrected_file_for_one_year_reloads_that_year_only(deployment):
    """A corrected GGD 2023 file: the sensor asks for partition 2023 only (and what is downstream); 2023's rows
    change, every other year's rows (and their load times and ingest log) stay exactly as they were. To keep
    the test short only the ingestion of the requested run is executed (the first test runs a whole request)."""
    root, settings, defs, instance = deployment
    landing = settings.landing_dir
    name = "ggd_gezondheidsmonitor_2023.csv"
    untimed = "select * exclude (_loaded_at) from raw.ggd_monitor"
    before = {year: warehouse(settings, f"select *, _loaded_at from raw.ggd_monitor where jaar = {year} order by all")
              for year in settings.years}
    log_before = warehouse(settings, "select * from meta.ingest_log where source = 'ggd_monitor' and year <> 2023 order by all")
    corrected = pd.read_csv(settings.extract_dir / name, sep=";", dtype=str, keep_default_na=False)
    corrected.loc[0, "aantal_respondenten"] = str(int(corrected.loc[0, "aantal_respondenten"]) + 7)
    corrected.to_csv(landing / name, sep=";", index=False)

    requests, _ = run_requests(defs, instance, json.dumps({"seen": []}))
    (request,) = requests
    assert years_of(request) == ("2023", "2023") and request.tags[YEARS_TAG] == "2023"
    assert "marts/fct_indicator_value" in {k.to_user_string() for k in request.asset_selection}
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, asset_selection=[dg.AssetKey(["raw", "ggd_monitor"])], tags=request.tags)
    assert result.success
    ingested = [e.partition for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["raw", "ggd_monitor"])]
    assert ingested == ["2023"]

    for year in settings.years:
        after = warehouse(settings, f"select *, _loaded_at from raw.ggd_monitor where jaar = {year} order by all")
        if year != 2023:
            assert after == before[year], year  # untouched, load time included
    assert warehouse(settings, "select * from meta.ingest_log where source = 'ggd_monitor' and year <> 2023 order by all") == log_before
    changed = warehouse(settings, f"{untimed} where jaar = 2023 and aantal_respondenten = {corrected.loc[0, 'aantal_respondenten']} "
                                  f"and wijkcode = '{corrected.loc[0, 'wijkcode']}' and indicator_code = '{corrected.loc[0, 'indicator_code']}'")
    assert len(changed) == 1
    assert len(warehouse(settings, "select * from raw.ggd_monitor where jaar = 2023")) == len(before[2023])
    (entry,) = [m for m in read_manifest(landing) if m["file"] == name and m["status"] != "replaced"]
    assert entry["status"] == "loaded" and entry["rows_loaded"] == len(corrected) and entry["rows_quarantined"] == 0


def test_a_correction_dropped_under_another_name_replaces_the_extract(deployment):
    """The reviewer's run of the README's example: a corrected ggd_2023.csv (one value changed) while the extract
    folder holds ggd_gezondheidsmonitor_2023.csv. It used to be staged beside it: all 2023 rows were quarantined
    twice, 0 loaded, the run succeeded and the manifest said 'loaded'; the same content under the right name
    was then a 'duplicate' and never loaded. Now it replaces that extract (archived, in the manifest), and
    content whose rows were all quarantined, or that was replaced, is taken in again when dropped again."""
    root, settings, defs, instance = deployment
    landing, extracts = settings.landing_dir, settings.extract_dir
    job = defs.resolve_implicit_global_asset_job_def()
    ggd = [dg.AssetKey(["raw", "ggd_monitor"])]
    old_name = "ggd_gezondheidsmonitor_2023.csv"
    count_2023 = "select count(*) from {}.ggd_monitor where {} = 2023"
    rows_2023 = warehouse(settings, count_2023.format("raw", "jaar"))[0][0]
    old = (extracts / old_name).read_text("utf-8")
    frame = pd.read_csv(extracts / old_name, sep=";", dtype=str, keep_default_na=False)
    frame.loc[0, "aantal_respondenten"] = str(int(frame.loc[0, "aantal_respondenten"]) + 11)
    frame.to_csv(landing / "ggd_2023.csv", sep=";", index=False)
    corrected = (landing / "ggd_2023.csv").read_text("utf-8")

    def drop_and_run(cursor):
        (request,), cursor = run_requests(defs, instance, cursor)
        assert years_of(request) == ("2023", "2023")
        assert job.execute_in_process(instance=instance, asset_selection=ggd, tags=request.tags).success
        return cursor

    cursor = drop_and_run(json.dumps({"seen": []}))
    assert not (extracts / old_name).exists() and (extracts / "ggd_2023.csv").read_text("utf-8") == corrected
    assert warehouse(settings, count_2023.format("raw", "jaar")) == [(rows_2023,)]
    assert warehouse(settings, count_2023.format("quarantine", "_year")) == [(0,)]
    assert warehouse(settings, "select count(*) from raw.ggd_monitor where jaar = 2023 and aantal_respondenten = "
                               f"{frame.loc[0, 'aantal_respondenten']} and wijkcode = '{frame.loc[0, 'wijkcode']}'") == [(1,)]
    loaded, replaced = read_manifest(landing)[-2:]
    assert (loaded["file"], loaded["status"], loaded["rows_loaded"], loaded["rows_quarantined"]) == ("ggd_2023.csv", "loaded", rows_2023, 0)
    assert (replaced["file"], replaced["status"], replaced["replaced_by"]) == (old_name, "replaced", "ggd_2023.csv")
    assert (landing / "archive" / replaced["archived_as"]).read_text("utf-8") == old

    # a version whose every row is quarantined (wijken of another gemeente): archived as 'quarantined', not 'loaded',
    # and the good version it replaced is restored and loaded again (2023 used to be left without any row)
    (landing / "ggd_2023.csv").write_text(corrected.replace("WK9999", "WK0123"), "utf-8")
    cursor = drop_and_run(cursor)
    assert warehouse(settings, count_2023.format("raw", "jaar")) == [(rows_2023,)]
    assert (extracts / "ggd_2023.csv").read_text("utf-8") == corrected
    entry = read_manifest(landing)[-1]
    assert (entry["status"], entry["rows_loaded"], entry["rows_quarantined"], entry["restored"]) == (
        "quarantined", 0, rows_2023, ["ggd_2023.csv"])
    # the same bad version dropped again is taken in again (its rows were never loaded); the good version
    # dropped again is what is loaded: a duplicate, no run
    (landing / "ggd_2023.csv").write_text(corrected.replace("WK9999", "WK0123"), "utf-8")
    cursor = drop_and_run(cursor)
    assert read_manifest(landing)[-1]["status"] == "quarantined"
    (landing / "ggd_2023.csv").write_text(corrected, "utf-8")
    requests, cursor = run_requests(defs, instance, cursor)
    assert requests == [] and read_manifest(landing)[-1]["status"] == "duplicate"
    assert warehouse(settings, count_2023.format("raw", "jaar")) == [(rows_2023,)]
