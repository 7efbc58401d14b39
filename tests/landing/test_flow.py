"""The drop-folder flow in plain Python: recognising a file's source (name, then header), staging CSV,
XLSX and Parquet in the contract's CSV form, duplicates by content, rejection with a report,
corrected versions, and archiving after the ingestion loaded a file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from data_contracts.contract import load_contract, load_contracts
from data_contracts.pandera_schema import Scope
from pipelines.ingest import ingest_source
from pipelines.landing import LandingError, detect_source, fail_source, finish_source, ingest_staged, read_manifest, take_in
from pipelines.landing.flow import pending_files

POLICE_HEADER = "jaar;buurtcode;verdachten_12_17;verdachten_18_24;halt_verwijzingen;misdrijven_totaal;geweldsmisdrijven;woninginbraken\n"
POLICE_ROWS = "2023;BU99990101;3;5;4;130;23;3\n2023;BU99990102;3;4;1;87;14;4\n"
GGD_HEADER = ("jaar;wijkcode;doelgroep;indicator_code;indicator_omschrijving;percentage;ci_ondergrens;ci_bovengrens;"
              "aantal_respondenten\n")
GGD_ROW = "2024;WK999901;ouderen_65_plus;GZoud_adl_beperking;Beperkt in dagelijkse activiteiten;25,7;20,9;31,3;268\n"
SCOPE = Scope(gemeenten=frozenset({"GM9999"}), first_year=2015, last_year=2026)


@pytest.fixture
def dirs(tmp_path):
    landing, extracts = tmp_path / "landing", tmp_path / "extracts"
    landing.mkdir()
    extracts.mkdir()
    return landing, extracts


CONTRACTS = load_contracts()


def test_source_by_file_name_then_by_header(tmp_path):
    named = tmp_path / "politie_2023.xlsx"
    named.write_bytes(b"")  # the name decides; the content is not read
    assert detect_source(named, CONTRACTS) == "politie_jeugdverdachten"
    unnamed = tmp_path / "export_maart.csv"
    unnamed.write_text(GGD_HEADER + GGD_ROW, "utf-8")
    assert detect_source(unnamed, CONTRACTS) == "ggd_monitor"
    stranger = tmp_path / "export_april.csv"
    stranger.write_text("a;b;c\n1;2;3\n", "utf-8")
    with pytest.raises(LandingError, match=r"is not recognised as any active source: its name matches none of the patterns"):
        detect_source(stranger, CONTRACTS)
    with pytest.raises(LandingError, match=r"has extension '\.txt'"):
        detect_source(tmp_path / "notes.txt", CONTRACTS)


def test_csv_is_staged_and_archived_after_loading_and_a_duplicate_loads_once(dirs, tmp_path):
    landing, extracts = dirs
    (landing / "politie_2023.csv").write_text(POLICE_HEADER + POLICE_ROWS, "utf-8")
    intake = take_in(landing, extracts, CONTRACTS)
    assert list(intake.staged) == ["politie_jeugdverdachten"] and not intake.rejected and not intake.duplicates
    assert (extracts / "politie_2023.csv").read_text("utf-8") == POLICE_HEADER + POLICE_ROWS
    assert not (landing / "politie_2023.csv").exists()  # parked in .processing until loaded

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        result = ingest_source(load_contract("politie_jeugdverdachten"), extracts, con, SCOPE, run_id="r1")
    entries = finish_source(landing, "politie_jeugdverdachten", result.files, "r1")
    assert [(e["file"], e["rows_loaded"], e["rows_quarantined"], e["status"]) for e in entries] == [("politie_2023.csv", 2, 0, "loaded")]
    assert not list((landing / ".processing").iterdir())
    archived = landing / "archive" / f"{entries[0]['sha256'][:12]}_politie_2023.csv"
    assert archived.read_text("utf-8") == POLICE_HEADER + POLICE_ROWS

    (landing / "copy_of_politie.csv").write_text(POLICE_HEADER + POLICE_ROWS, "utf-8")  # same bytes, other name
    again = take_in(landing, extracts, CONTRACTS)
    assert again.staged == {} and len(again.duplicates) == 1
    assert [e["status"] for e in read_manifest(landing)] == ["loaded", "duplicate"]
    assert read_manifest(landing)[1]["duplicate_of"] == archived.name


def test_xlsx_and_parquet_are_written_in_the_contract_csv_form(dirs):
    landing, extracts = dirs
    frame = pd.DataFrame({
        "jaar": [2024], "wijkcode": ["WK999901"], "doelgroep": ["ouderen_65_plus"], "indicator_code": ["GZoud_adl_beperking"],
        "indicator_omschrijving": ["Beperkt in dagelijkse activiteiten"], "percentage": [25.7], "ci_ondergrens": [20.9],
        "ci_bovengrens": [31.3], "aantal_respondenten": [268],
    })
    frame.to_excel(landing / "ggd_2024.xlsx", index=False)
    with duckdb.connect() as con:
        con.register("f", frame.assign(jaar=2023))
        con.execute(f"COPY f TO '{landing / 'monitor_export.parquet'}' (FORMAT parquet)")  # recognised by its header
    intake = take_in(landing, extracts, CONTRACTS)
    assert not intake.rejected and sorted(p.original for p in intake.staged["ggd_monitor"]) == ["ggd_2024.xlsx", "monitor_export.parquet"]
    assert (extracts / "ggd_2024.csv").read_text("utf-8") == GGD_HEADER + GGD_ROW
    assert (extracts / "ggd_monitor_export.csv").read_text("utf-8") == GGD_HEADER + GGD_ROW.replace("2024;", "2023;", 1)


def test_xlsx_percentages_are_written_as_the_percentages_excel_shows(dirs):
    """Excel stores a cell shown as 25.7% as 0.257; written as stored, the GGD's percentages loaded
    100 times too small without a warning (an adopter's review). Columns whose numbers are all
    formatted as percentages are written as shown; other numbers as stored."""
    from openpyxl import Workbook

    landing, extracts = dirs
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(GGD_HEADER.strip().split(";"))
    sheet.append([2024, "WK999901", "ouderen_65_plus", "GZoud_adl_beperking", "Beperkt in dagelijkse activiteiten",
                  0.257, 0.209, 0.313, 268])
    for column in "FGH":
        sheet[f"{column}2"].number_format = "0.0%"
    workbook.save(landing / "ggd_2024.xlsx")
    intake = take_in(landing, extracts, CONTRACTS)
    assert not intake.rejected
    assert (extracts / "ggd_2024.csv").read_text("utf-8") == GGD_HEADER + GGD_ROW


def test_broken_file_is_rejected_with_a_report_and_nothing_is_staged(dirs):
    landing, extracts = dirs
    (landing / "politie_2023.csv").write_text(POLICE_HEADER.replace(";", ",") + POLICE_ROWS.replace(";", ","), "utf-8")
    intake = take_in(landing, extracts, CONTRACTS)
    assert intake.staged == {} and len(intake.rejected) == 1
    report = intake.rejected[0].read_text("utf-8")
    assert "Source:   politie_jeugdverdachten" in report and "uses ',' as column delimiter" in report
    assert intake.rejected[0].name.endswith("_politie_2023.csv.error.txt") and intake.rejected[0].with_name(intake.rejected[0].name.removesuffix(".error.txt")).exists()
    assert list(extracts.iterdir()) == []


def test_corrected_version_replaces_the_extract_and_is_restored_if_the_load_rejects_it(dirs):
    landing, extracts = dirs
    (extracts / "politie_2023.csv").write_text(POLICE_HEADER + POLICE_ROWS, "utf-8")  # loaded before
    corrected = POLICE_HEADER + POLICE_ROWS.replace(";130;", ";131;")
    (landing / "politie_2023.csv").write_text(corrected, "utf-8")
    intake = take_in(landing, extracts, CONTRACTS)
    assert (extracts / "politie_2023.csv").read_text("utf-8") == corrected
    # the ingestion rejects it after all (as if a file-level check failed in the run): old extract back
    report = fail_source(landing, "politie_jeugdverdachten", extracts / "politie_2023.csv", "is broken")
    assert report is not None and "was staged as politie_2023.csv and is broken" in report.read_text("utf-8")
    assert (extracts / "politie_2023.csv").read_text("utf-8") == POLICE_HEADER + POLICE_ROWS
    assert intake.staged["politie_jeugdverdachten"][0].previous is not None


def test_a_dropped_file_with_a_renamed_optional_column_is_rejected_saying_which(dirs):
    """It used to be staged and loaded with halt_verwijzingen empty for every row, with a warning."""
    landing, extracts = dirs
    (landing / "politie_2023.csv").write_text(POLICE_HEADER.replace("halt_verwijzingen", "Halt_Verwijzingen2") + POLICE_ROWS, "utf-8")
    intake = take_in(landing, extracts, CONTRACTS)
    assert intake.staged == {} and len(intake.rejected) == 1
    report = intake.rejected[0].read_text("utf-8")
    assert ("has column 'Halt_Verwijzingen2' (line 1, column 5), which is not in the contract, where the contract's "
            "optional column 'halt_verwijzingen' is missing: did you mean 'halt_verwijzingen'?") in report
    assert list(extracts.iterdir()) == []


def test_files_still_being_written_wait(dirs):
    landing, extracts = dirs
    (landing / "politie_2023.csv").write_text(POLICE_HEADER + POLICE_ROWS, "utf-8")
    (landing / "politie_2024.csv.part").write_text("jaar;", "utf-8")
    assert take_in(landing, extracts, CONTRACTS, settle_seconds=3600).staged == {}
    assert list(take_in(landing, extracts, CONTRACTS, settle_seconds=0).staged) == ["politie_jeugdverdachten"]
    assert (landing / "politie_2024.csv.part").exists()
    pending = json.loads(next((landing / ".processing").glob("*/pending.json")).read_text())
    assert pending["source"] == "politie_jeugdverdachten" and pending["original"] == "politie_2023.csv"


def test_a_staged_file_records_the_years_it_changes(dirs):
    """The years of the dropped file, and of the extract it replaces (the rows of those years change)."""
    landing, extracts = dirs
    (extracts / "politie_export.csv").write_text(POLICE_HEADER + POLICE_ROWS.replace("2023;", "2021;"), "utf-8")
    (landing / "politie_export.csv").write_text(
        POLICE_HEADER + POLICE_ROWS + POLICE_ROWS.replace("2023;", "2024;").replace("BU99990101", "BU99990103"), "utf-8")
    (landing / "ggd_2024.csv").write_text(GGD_HEADER + GGD_ROW, "utf-8")
    intake = take_in(landing, extracts, CONTRACTS)
    assert [p.years for p in intake.staged["politie_jeugdverdachten"]] == [(2021, 2023, 2024)]
    assert [p.years for p in intake.staged["ggd_monitor"]] == [(2024,)]
    assert [p.years for p in pending_files(landing, "ggd_monitor")] == [(2024,)]  # kept in pending.json


GGD_2023_ROWS = "".join(
    f"2023;WK99990{w};jeugd_12_18;GZjeugd_{code};{label};{pct};{lo};{hi};{n}\n"
    for w, (code, label, pct, lo, hi, n) in enumerate([
        ("alcohol", "Ooit alcohol", "40,1", "35,0", "45,2", "310"),
        ("roken", "Ooit gerookt", "20,3", "16,0", "24,6", "305"),
        ("sport", "Sport wekelijks", "65,0", "60,1", "69,9", "298"),
    ], start=1)
)


def _load_and_finish(landing, extracts, tmp_path, source, run_id):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        result = ingest_source(load_contract(source), extracts, con, SCOPE, run_id=run_id)
        raw = con.execute(f"select * exclude (_loaded_at) from raw.{source} order by all").fetchall()
    return finish_source(landing, source, result.files, run_id), result, raw


def test_a_correction_under_another_name_replaces_the_extract_of_the_same_keys(dirs, tmp_path):
    """The README's own example: a corrected ggd_2023.csv beside ggd_gezondheidsmonitor_2023.csv. It used to be
    staged next to it, every 2023 row became a duplicate key and was quarantined twice (0 loaded, archived as
    'loaded'). Now it replaces that extract, which is archived (status 'replaced') after the run."""
    landing, extracts = dirs
    (extracts / "ggd_gezondheidsmonitor_2023.csv").write_text(GGD_HEADER + GGD_2023_ROWS, "utf-8")
    (extracts / "ggd_gezondheidsmonitor_2024.csv").write_text(GGD_HEADER + GGD_ROW, "utf-8")  # other keys: stays
    corrected = GGD_HEADER + GGD_2023_ROWS.replace(";298\n", ";299\n")
    (landing / "ggd_2023.csv").write_text(corrected, "utf-8")
    intake = take_in(landing, extracts, CONTRACTS)
    (pending,) = intake.staged["ggd_monitor"]
    assert pending.years == (2023,) and [Path(r).name for r in pending.replaced] == ["ggd_gezondheidsmonitor_2023.csv"]
    assert sorted(p.name for p in extracts.iterdir()) == ["ggd_2023.csv", "ggd_gezondheidsmonitor_2024.csv"]

    entries, result, raw = _load_and_finish(landing, extracts, tmp_path, "ggd_monitor", "r1")
    assert (result.rows_loaded, result.rows_quarantined) == (4, 0)
    assert sorted(r[8] for r in raw if r[0] == 2023) == [299, 305, 310]
    manifest = read_manifest(landing)
    assert [(m["file"], m["status"], m["rows_loaded"]) for m in manifest] == [
        ("ggd_2023.csv", "loaded", 3), ("ggd_gezondheidsmonitor_2023.csv", "replaced", 0)]
    assert manifest[1]["replaced_by"] == "ggd_2023.csv"
    assert (landing / "archive" / manifest[1]["archived_as"]).read_text("utf-8") == GGD_HEADER + GGD_2023_ROWS
    assert not list((landing / ".processing").iterdir())

    # the old version dropped again (a roll-back) is taken in, not called a duplicate, and replaces ggd_2023.csv
    (landing / "ggd_gezondheidsmonitor_2023.csv").write_text(GGD_HEADER + GGD_2023_ROWS, "utf-8")
    again = take_in(landing, extracts, CONTRACTS, seen={manifest[1]["sha256"]})
    assert not again.duplicates and [Path(r).name for r in again.staged["ggd_monitor"][0].replaced] == ["ggd_2023.csv"]
    assert sorted(p.name for p in extracts.iterdir()) == ["ggd_gezondheidsmonitor_2023.csv", "ggd_gezondheidsmonitor_2024.csv"]


def test_a_file_that_cannot_replace_an_extract_with_its_keys_is_rejected_naming_it(dirs):
    """The dropped 2023 file shares keys with a multi-year extract that also holds 2022: replacing it would empty
    2022, loading both would quarantine every shared key. Rejected, the report names the extract and the year."""
    landing, extracts = dirs
    export = POLICE_HEADER + POLICE_ROWS + POLICE_ROWS.replace("2023;", "2022;")
    (extracts / "politie_export.csv").write_text(export, "utf-8")
    (landing / "politie_2023.csv").write_text(POLICE_HEADER + POLICE_ROWS.replace(";130;", ";131;"), "utf-8")
    intake = take_in(landing, extracts, CONTRACTS)
    assert intake.staged == {} and len(intake.rejected) == 1
    report = intake.rejected[0].read_text("utf-8")
    assert ("holds rows of the same keys (jaar, buurtcode) as the extract politie_export.csv in the extract folder, "
            "which also holds rows of 2022 that this file lacks") in report
    assert "Drop the corrected version under the name politie_export.csv" in report
    assert [p.name for p in extracts.iterdir()] == ["politie_export.csv"]
    assert (extracts / "politie_export.csv").read_text("utf-8") == export
    assert not list((landing / ".processing").iterdir())


def test_a_rejected_replacement_puts_the_extract_it_replaced_back(dirs):
    landing, extracts = dirs
    (extracts / "politie_2023_v1.csv").write_text(POLICE_HEADER + POLICE_ROWS, "utf-8")
    (landing / "politie_2023_v2.csv").write_text(POLICE_HEADER + POLICE_ROWS.replace(";130;", ";131;"), "utf-8")
    take_in(landing, extracts, CONTRACTS)
    assert [p.name for p in extracts.iterdir()] == ["politie_2023_v2.csv"]
    assert fail_source(landing, "politie_jeugdverdachten", extracts / "politie_2023_v2.csv", "is broken") is not None
    assert [p.name for p in extracts.iterdir()] == ["politie_2023_v1.csv"]
    assert (extracts / "politie_2023_v1.csv").read_text("utf-8") == POLICE_HEADER + POLICE_ROWS


def test_a_file_whose_rows_were_all_quarantined_is_not_recorded_as_loaded_nor_a_duplicate_later(dirs, tmp_path):
    landing, extracts = dirs
    foreign = POLICE_HEADER + POLICE_ROWS.replace("BU9999", "BU0123")  # outside GM9999: every row quarantined
    (landing / "politie_2023.csv").write_text(foreign, "utf-8")
    first = take_in(landing, extracts, CONTRACTS)
    digest = first.staged["politie_jeugdverdachten"][0].sha256
    entries, result, _ = _load_and_finish(landing, extracts, tmp_path, "politie_jeugdverdachten", "r1")
    assert (result.rows_loaded, result.rows_quarantined) == (0, 2)
    assert [(e["file"], e["status"], e["rows_loaded"], e["rows_quarantined"]) for e in entries] == [
        ("politie_2023.csv", "quarantined", 0, 2)]
    # the same content again (the sensor's cursor remembers its hash): taken in again, not archived as a duplicate
    (landing / "politie_2023_opnieuw.csv").write_text(foreign, "utf-8")
    again = take_in(landing, extracts, CONTRACTS, seen={digest})
    assert not again.duplicates and [p.sha256 for p in again.staged["politie_jeugdverdachten"]] == [digest]


@pytest.mark.parametrize("dropped", ["politie_2023.csv", "politie_2023_v2.csv"], ids=["same name", "other name"])
def test_a_correction_whose_rows_are_all_quarantined_gives_back_the_extract_it_replaced(dirs, tmp_path, dropped):
    """It used to replace the extract: every 2023 row quarantined, raw left without 2023, the good extract
    archived as 'replaced'. Now the extract is put back and loaded, nothing of the dropped file is written,
    and its manifest line says what was restored and why its rows were refused."""
    landing, extracts = dirs
    contract = load_contract("politie_jeugdverdachten")
    (extracts / "politie_2023.csv").write_text(POLICE_HEADER + POLICE_ROWS, "utf-8")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ingest_source(contract, extracts, con, SCOPE, run_id="r0")
    negative = POLICE_HEADER + POLICE_ROWS.replace(";3;", ";-3;")  # same keys, every row below a minimum
    (landing / dropped).write_text(negative, "utf-8")
    take_in(landing, extracts, CONTRACTS)

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        result, withdrawn = ingest_staged(contract, extracts, con, landing, SCOPE, run_id="r1", years=[2023])
        raw = con.execute("select buurtcode, misdrijven_totaal, _source_file from raw.politie_jeugdverdachten order by 1").fetchall()
        quarantined = con.execute("select count(*) from quarantine.politie_jeugdverdachten").fetchone()
    assert raw == [("BU99990101", 130, "politie_2023.csv"), ("BU99990102", 87, "politie_2023.csv")]
    assert quarantined == (0,) and (result.rows_loaded, result.rows_quarantined) == (2, 0)
    assert [p.name for p in extracts.iterdir()] == ["politie_2023.csv"]
    assert (extracts / "politie_2023.csv").read_text("utf-8") == POLICE_HEADER + POLICE_ROWS
    reason = "verdachten_12_17: below the minimum 0"
    assert [(e["file"], e["status"], e["rows_quarantined"], e["restored"], e["reasons"]) for e in withdrawn] == [
        (dropped, "quarantined", 2, ["politie_2023.csv"], {reason: 2})]
    (entry,) = read_manifest(landing)  # no 'replaced' line: it replaced nothing in the end
    assert entry["status"] == "quarantined" and entry["archived_as"] == withdrawn[0]["archived_as"]
    assert (landing / "archive" / entry["archived_as"]).read_text("utf-8") == negative
    assert not list((landing / ".processing").iterdir())
    assert finish_source(landing, "politie_jeugdverdachten", result.files, "r1") == []
