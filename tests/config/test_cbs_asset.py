"""The CBS connector wired as the Dagster asset cbs_statline_extracts, in replay mode (recorded
responses, no network): configured by file, it writes the 2023 key-figures extract that
raw/cbs_kerncijfers then loads; a request without a recorded response (a gemeente the recordings do not
hold) fails without retries. Both assets are partitioned by year: a run fetches and loads the tables
of its years only."""

from __future__ import annotations

import dagster as dg
import duckdb
import yaml

from pipelines.definitions import build_definitions
from pipelines.defs.partitions import all_years_tags, year_range_tags
from pipelines.settings import PROJECT_DIR, load_settings

FIXTURES = PROJECT_DIR / "tests" / "cbs" / "fixtures"


def settings_with(tmp_path, years, gemeenten=("GM0599",)):
    (tmp_path / "extracts").mkdir(exist_ok=True)
    config = {
        "municipality": {"gemeenten": list(gemeenten)},
        "years": {"first": 2020, "last": 2024},
        "paths": {"data_dir": "data", "extract_dir": "extracts"},
        "cbs": {"mode": "replay", "tables": ["kerncijfers"], "years": years, "fixtures": str(FIXTURES)},
    }
    (tmp_path / "factorenmodel.yaml").write_text(yaml.safe_dump(config), "utf-8")
    return load_settings({"FACTORENMODEL_CONFIG": str(tmp_path / "factorenmodel.yaml")})


def run(settings, keys, years=None):
    """One run of ``keys`` for every year, or for the years ``first``-``last`` of ``years``."""
    defs = build_definitions(settings)
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=[dg.AssetKey.from_user_string(k) for k in keys],
        tags=all_years_tags(settings) if years is None else year_range_tags(*years), raise_on_error=False,
    )


def test_replayed_cbs_extract_is_fetched_and_ingested(tmp_path):
    settings = settings_with(tmp_path, [2023])
    result = run(settings, ["cbs_statline_extracts", "raw/cbs_kerncijfers"])
    assert result.success
    assert (settings.extract_dir / "kerncijfers_wijken_en_buurten_2023.csv").is_file()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        got = con.execute('select count(*), max("AantalInwoners_5") from raw.cbs_kerncijfers where jaar = 2023').fetchone()
    assert got == (6, 664311)
    materialization = result.asset_materializations_for_node("cbs_statline_extracts")[0]
    assert materialization.metadata["requests_made"].value == 5  # metadata + three pages, from the replay


def test_a_year_partition_fetches_only_its_own_table(tmp_path):
    settings = settings_with(tmp_path, [2023])
    other = run(settings, ["cbs_statline_extracts"], years=(2021, 2022))
    assert other.success  # 2021 and 2022 are not asked of CBS (cbs.years): nothing fetched, nothing failed
    assert not (settings.extract_dir / "kerncijfers_wijken_en_buurten_2023.csv").exists()
    assert sorted(m.partition for m in other.get_asset_materialization_events()) == ["2021", "2022"]
    own = run(settings, ["cbs_statline_extracts"], years=(2023, 2023))
    assert own.success and (settings.extract_dir / "kerncijfers_wijken_en_buurten_2023.csv").is_file()


def test_request_without_a_recorded_response_fails_fast_with_the_connectors_message(tmp_path):
    # the table's metadata is recorded, its rows for Amsterdam (GM0363) are not: the replay says so
    result = run(settings_with(tmp_path, [2023], gemeenten=["GM0363"]), ["cbs_statline_extracts"])
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    error = str(failure.event_specific_data.error)
    assert "CBS StatLine" in error and "has no recorded response for" in error and "no request went to CBS" in error
