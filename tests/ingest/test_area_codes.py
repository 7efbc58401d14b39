"""Area codes against the area division on arrival: real ingestion into real DuckDB files, and real
Dagster runs of the source assets, on the small synthetic Demostad (2019-2024).

A row whose area code the loaded division (``raw.gebiedsindeling``) knows in no year is quarantined
with file, row and a reason naming column, code and year (the rule of the marts' relationships test,
``pipelines/ingest/area_division.py``); the demo's codes, splits and merges included, all pass; a year
without a division is not checked, and a warning says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from data_contracts.contract import load_contracts
from data_contracts.pandera_schema import Scope
from pipelines.definitions import build_definitions
from pipelines.ingest import ingest_source
from pipelines.ingest.area_division import checks_area_codes, division_first
from tests.pipeline.runs import materialize_all, settings_for

CONTRACTS = load_contracts()
YEARS = list(range(2019, 2025))
SCOPE = Scope(gemeenten=frozenset({"GM9999"}), first_year=YEARS[0], last_year=YEARS[-1])
GGD_2021 = "ggd_gezondheidsmonitor_2021.csv"
GGD_2023 = "ggd_gezondheidsmonitor_2023.csv"
REGISTRATIES = "registraties_demostad_2019-2024.csv"
POLITIE = "politie_jeugdverdachten_demostad_2019-2024.csv"
NOT_CHECKED = "not checked against the area division"
NEVER_DELIVERED = "that this source has never delivered"


def set_cell(path: Path, line: int, column: str, value: str) -> str:
    """Write ``value`` into ``column`` of line ``line`` (the header is line 1); return the old value."""
    lines = path.read_text("utf-8").splitlines()
    position = lines[0].split(";").index(column)
    cells = lines[line - 1].split(";")
    old, cells[position] = cells[position], value
    lines[line - 1] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return old


def line_of(path: Path, prefix: str) -> int:
    """The line number of the first line that starts with ``prefix``."""
    return next(n for n, text in enumerate(path.read_text("utf-8").splitlines(), start=1) if text.startswith(prefix))


def drop_lines(path: Path, *prefixes: str, containing: str = "") -> None:
    """Remove the lines that start with one of ``prefixes`` (``""``: any) and contain ``containing``."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    kept = [lines[0]] + [line for line in lines[1:] if not (line.startswith(prefixes) and containing in line)]
    path.write_text("".join(kept), "utf-8")


def quarantined(con, source: str) -> list[tuple]:
    return con.execute(f"select _source_file, _source_row, _reason, _year from quarantine.{source} order by all").fetchall()


def test_a_row_with_an_unknown_wijk_or_buurt_code_is_quarantined_with_file_row_and_reason(extracts, tmp_path):
    set_cell(extracts / GGD_2021, 3, "wijkcode", "WK999988")
    buurt_line = line_of(extracts / REGISTRATIES, "2022;")
    set_cell(extracts / REGISTRATIES, buurt_line, "buurtcode", "BU99990199")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_source(CONTRACTS["gebiedsindeling"], extracts, con, SCOPE)

    ggd = ingest_source(CONTRACTS["ggd_monitor"], extracts, con, SCOPE)
    reason = "wijkcode: not in the area division (gebiedsindeling) of 2021 or of any other year (value 'WK999988')"
    assert quarantined(con, "ggd_monitor") == [(GGD_2021, 3, reason, 2021)]
    assert (ggd.rows_quarantined, ggd.rows_loaded) == (1, ggd.rows_in - 1) and ggd.accounted_for
    assert con.execute("select count(*) from raw.ggd_monitor").fetchone()[0] == ggd.rows_in - 1
    assert dict(ggd.reasons) == {"wijkcode: not in the area division (gebiedsindeling) of 2021 or of any other year": 1}
    assert ggd.unchecked_area_years == ()

    registraties = ingest_source(CONTRACTS["gemeente_registraties"], extracts, con, SCOPE)
    assert quarantined(con, "gemeente_registraties") == [(
        REGISTRATIES, buurt_line,
        "buurtcode: not in the area division (gebiedsindeling) of 2022 or of any other year (value 'BU99990199')", 2022,
    )]
    assert registraties.accounted_for and registraties.rows_loaded == registraties.rows_in - 1


def test_a_code_known_in_another_years_division_passes_as_it_does_in_the_marts(extracts, tmp_path):
    """dim_area, which the relationships test of fct_indicator_value reads, holds the codes of every year:
    the split buurt's old code (BU99990102, until 2021) in a 2023 row is no unknown code."""
    line = line_of(extracts / REGISTRATIES, "2023;BU99990105;")
    set_cell(extracts / REGISTRATIES, line, "buurtcode", "BU99990102")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_source(CONTRACTS["gebiedsindeling"], extracts, con, SCOPE)
    assert con.execute("select max(jaar) from raw.gebiedsindeling where gebiedscode = 'BU99990102'").fetchone() == (2021,)
    result = ingest_source(CONTRACTS["gemeente_registraties"], extracts, con, SCOPE)
    assert result.rows_quarantined == 0 and result.unchecked_area_years == ()


def test_the_demo_extracts_pass_with_their_splits_and_merges(extracts, tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    checked = []
    for contract in division_first(CONTRACTS.values()):
        result = ingest_source(contract, extracts, con, SCOPE)
        assert result.rows_quarantined == 0, result.quarantine_preview.to_string()
        assert result.unchecked_area_years == ()  # every year was checked
        assert result.never_delivered_areas == {}  # every source delivers every area of the division
        if checks_area_codes(contract):
            checked.append(contract.name)
    assert checked == ["cbs_kerncijfers", "duo_onderwijs", "gemeente_registraties", "ggd_monitor", "politie_jeugdverdachten"]
    # the split (one old code, two new ones) and the merge (two old, one new): all six codes are in the loaded rows
    changed = con.execute(
        "select count(distinct buurtcode) from raw.gemeente_registraties where buurtcode in "
        "(select oude_code from raw.gebiedswijzigingen union select nieuwe_code from raw.gebiedswijzigingen)"
    ).fetchone()
    assert changed == (6,)


def test_a_year_without_area_division_rows_is_not_checked_and_a_warning_says_so(extracts, tmp_path, caplog):
    set_cell(extracts / GGD_2021, 3, "wijkcode", "WK999988")
    set_cell(extracts / GGD_2023, 3, "wijkcode", "WK999977")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_source(CONTRACTS["gebiedsindeling"], extracts, con, SCOPE)
    con.execute("delete from raw.gebiedsindeling where jaar = 2021")  # the division of 2021 was not delivered
    with caplog.at_level(logging.WARNING, logger="pipelines.ingest"):
        result = ingest_source(CONTRACTS["ggd_monitor"], extracts, con, SCOPE)
    assert result.unchecked_area_years == (2021,)
    assert [(row, year) for _, row, _, year in quarantined(con, "ggd_monitor")] == [(3, 2023)]  # 2023 is checked
    assert con.execute("select count(*) from raw.ggd_monitor where wijkcode = 'WK999988'").fetchone() == (1,)
    assert [r.getMessage() for r in caplog.records if NOT_CHECKED in r.getMessage()] == [
        "ggd_monitor: area codes of 2021 not checked against the area division: raw.gebiedsindeling has no rows for "
        "that year (not loaded yet, or not delivered). Load raw/gebiedsindeling for it and reload this year to check "
        "them; until then an unknown code only shows in the dbt relationships test of the marts."
    ]


def test_a_buurt_the_source_never_delivered_is_named_per_year_with_a_warning(extracts, tmp_path, caplog):
    """The marts expect only the buurten a source delivers in some year: a buurt it never delivers makes
    no wijk or gemeente sum incomplete, in silence. On arrival it is named, per year of the division
    that has it (a warning, not a quarantine: a buurt may have no residents). A buurt missing in one
    year only is left to the marts (its sums are withheld as incomplete) and not named here."""
    drop_lines(extracts / POLITIE, "", containing=";BU99990204;")  # never delivered
    drop_lines(extracts / POLITIE, "", containing=";BU99990106;")  # the split's new code (2022-2024), never delivered
    drop_lines(extracts / POLITIE, "2023;BU99990201;")  # missing in 2023 only
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_source(CONTRACTS["gebiedsindeling"], extracts, con, SCOPE)
    with caplog.at_level(logging.WARNING, logger="pipelines.ingest"):
        result = ingest_source(CONTRACTS["politie_jeugdverdachten"], extracts, con, SCOPE)
    assert result.never_delivered_areas == {
        **{year: ("BU99990204",) for year in (2019, 2020, 2021)},
        **{year: ("BU99990106", "BU99990204") for year in (2022, 2023, 2024)},
    }
    (warning,) = [r.getMessage() for r in caplog.records if NEVER_DELIVERED in r.getMessage()]
    assert warning.startswith(
        "politie_jeugdverdachten: 2 areas of the area division (raw.gebiedsindeling) that this source has never "
        "delivered, in no year, loaded or quarantined: BU99990106 (2022-2024), BU99990204 (2019-2024).")

    # a load of one year names that year only, counting what the other years delivered
    result = ingest_source(CONTRACTS["politie_jeugdverdachten"], extracts, con, SCOPE, years=[2023])
    assert result.never_delivered_areas == {2023: ("BU99990106", "BU99990204")}


def test_a_wijk_level_source_is_compared_with_the_wijken_only(extracts, tmp_path):
    """The GGD delivers wijken: the division's buurten are no gap of the GGD, a wijk it never delivers is."""
    for path in extracts.glob("ggd_*.csv"):
        drop_lines(path, "", containing=";WK999903;")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_source(CONTRACTS["gebiedsindeling"], extracts, con, SCOPE)
    result = ingest_source(CONTRACTS["ggd_monitor"], extracts, con, SCOPE)
    assert result.never_delivered_areas == {year: ("WK999903",) for year in YEARS}


def _deployment(extracts: Path, data_dir: Path):
    return settings_for(data_dir, FACTORENMODEL_EXTRACT_DIR=str(extracts), FACTORENMODEL_GEMEENTEN="GM9999",
                        FACTORENMODEL_FIRST_YEAR=str(YEARS[0]), FACTORENMODEL_LAST_YEAR=str(YEARS[-1]))


def _check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return evaluation


def _step_events(result: dg.ExecuteInProcessResult, kind: dg.DagsterEventType) -> dict[str, int]:
    return {e.step_key: i for i, e in enumerate(result.all_events) if e.event_type == kind}


def test_sources_with_area_codes_depend_on_the_area_division_year_by_year(tmp_path):
    graph = build_definitions(settings_for(tmp_path)).resolve_asset_graph()
    division = dg.AssetKey(["raw", "gebiedsindeling"])
    for name, contract in CONTRACTS.items():
        key = dg.AssetKey(["raw", name])
        assert (division in graph.get(key).parent_keys) == checks_area_codes(contract), name
        if checks_area_codes(contract):
            assert isinstance(graph.get_partition_mapping(key, division), dg.IdentityPartitionMapping)
    assert not checks_area_codes(CONTRACTS["gebiedsindeling"]) and not checks_area_codes(CONTRACTS["gebiedswijzigingen"])


def test_a_dagster_run_loads_the_division_first_and_the_contract_check_names_the_unknown_code(extracts, tmp_path):
    set_cell(extracts / GGD_2021, 3, "wijkcode", "WK999988")
    settings = _deployment(extracts, tmp_path / "data")
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_all(settings, "key:raw/ggd_monitor or key:raw/gebiedsindeling", instance=instance)
    # the reason is in the run log too (an adopter saw only "1 quarantined" on the command line)
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]
    assert any(w.startswith("ggd_monitor: 1 rows quarantined (wijkcode: not in the area division") and
               "table quarantine.ggd_monitor" in w for w in warnings), warnings
    # every file's counts in one message, a line each (one log event per file: 1.3 s for 350 files)
    (files,) = [e.user_message for e in instance.all_logs(result.run_id) if e.user_message.startswith("ggd_monitor: ")
                and e.level == logging.INFO]
    first, *lines = files.split("\n")
    assert first == f"ggd_monitor: {len(YEARS)} extract file(s) read:" and len(lines) == len(YEARS)
    assert any(line.startswith(f"{GGD_2021}: ") and line.endswith(" loaded, 1 quarantined") for line in lines), lines
    started, succeeded = (_step_events(result, kind) for kind in (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS))
    assert succeeded["raw__gebiedsindeling"] < started["raw__ggd_monitor"]

    contract = _check(result, "contract_ggd_monitor")
    assert not contract.passed and contract.severity == dg.AssetCheckSeverity.WARN
    assert contract.metadata["rows_quarantined"].value == 1
    kind = "wijkcode: not in the area division (gebiedsindeling) of 2021 or of any other year"
    assert f"| {kind} | 1 |" in contract.metadata["reasons"].value
    assert f"| {GGD_2021} | 3 | {kind} (value 'WK999988') |" in contract.metadata["first_quarantined_rows"].value
    assert contract.metadata["area_codes_not_checked"].value == "none"
    assert _check(result, "rows_accounted_ggd_monitor").passed
    assert _check(result, "contract_gebiedsindeling").passed
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert quarantined(con, "ggd_monitor") == [(GGD_2021, 3, f"{kind} (value 'WK999988')", 2021)]


def test_a_dagster_run_without_an_area_division_quarantines_nothing_for_it_and_warns(extracts, tmp_path):
    set_cell(extracts / GGD_2021, 3, "wijkcode", "WK999988")
    settings = _deployment(extracts, tmp_path / "data")
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_all(settings, "key:raw/ggd_monitor", instance=instance)  # a fresh warehouse: no division
    contract = _check(result, "contract_ggd_monitor")
    assert contract.passed and contract.metadata["rows_quarantined"].value == 0
    assert contract.metadata["area_codes_not_checked"].value.startswith("2019, 2020, 2021, 2022, 2023, 2024 ")
    warnings = [e.user_message for e in instance.all_logs(result.run_id)
                if e.level == logging.WARNING and NOT_CHECKED in (e.user_message or "")]
    assert len(warnings) == 1 and "ggd_monitor: area codes of 2019, 2020, 2021, 2022, 2023, 2024" in warnings[0]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from raw.ggd_monitor where wijkcode = 'WK999988'").fetchone() == (1,)


@pytest.mark.parametrize("source", ["gebiedsindeling", "gebiedswijzigingen"])
def test_the_area_division_and_its_changes_are_not_checked_against_it(source, extracts, tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = ingest_source(CONTRACTS[source], extracts, con, SCOPE)  # no division loaded: nothing to warn about
    assert result.rows_quarantined == 0 and result.unchecked_area_years == ()


def test_a_dagster_run_warns_of_a_never_delivered_buurt_in_the_log_and_the_contract_check(extracts, tmp_path):
    drop_lines(extracts / POLITIE, "", containing=";BU99990204;")
    settings = _deployment(extracts, tmp_path / "data")
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_all(settings, "key:raw/politie_jeugdverdachten or key:raw/gebiedsindeling", instance=instance)
    contract = _check(result, "contract_politie_jeugdverdachten")
    assert contract.passed  # a warning, not a failure: a buurt may have no residents
    table = contract.metadata["areas_never_delivered"].value
    assert "| 2019 | BU99990204 |" in table and "| 2024 | BU99990204 |" in table
    assert _check(result, "contract_gebiedsindeling").metadata["areas_never_delivered"].value == "not applicable"
    warnings = [e.user_message for e in instance.all_logs(result.run_id)
                if e.level == logging.WARNING and NEVER_DELIVERED in (e.user_message or "")]
    assert len(warnings) == 1 and "BU99990204 (2019-2024)" in warnings[0]
