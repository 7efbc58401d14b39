"""The bad-input corpus: each case under ``corpus/<case>/`` is one small extract with one defect.

Every case pins its exact outcome: which rows are loaded, which are quarantined with which reason
(row numbers are line numbers in the file, the header being line 1), or the one clear error that
names the file and the problem, in which case nothing may be written to the warehouse.
"""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

import duckdb
import pytest

from data_contracts.contract import load_contracts
from data_contracts.pandera_schema import Scope
from pipelines.ingest import ExtractError, ingest_source, validate_source

CORPUS = Path(__file__).parent / "corpus"
SCOPE = Scope(gemeenten=frozenset({"GM9999"}), first_year=2000, last_year=2026)

# case -> (rows loaded, {row: reason}) for row-level problems
QUARANTINED = {
    "area_code_malformed": (1, {3: "wijkcode: does not match the pattern ^WK[0-9]{6}$ (value 'WK99990')"}),
    "area_code_other_gemeente": (
        1,
        {3: "buurtcode: area code outside the configured gemeente(n) GM9999 (value 'BU03630101')"},
    ),
    "ci_outside_estimate": (1, {3: "rule broken: ci_ondergrens <= percentage"}),
    "cross_column_rule": (1, {3: "rule broken: geweldsmisdrijven <= misdrijven_totaal"}),
    "dot_missing_optional": (2, {}),
    "dot_missing_required": (1, {3: "misdrijven_totaal: required value is missing"}),
    "duplicate_keys": (
        1,
        {
            3: "duplicate key (jaar=2023, buurtcode=BU99990102): also on row 4 of politie_2023.csv",
            4: "duplicate key (jaar=2023, buurtcode=BU99990102): also on row 3 of politie_2023.csv",
        },
    ),
    # an exact repeat of a line: one copy loads, the extra copy is quarantined; copies that differ stay
    # quarantined both (line 5 = line 6, which differs from line 7 in misdrijven_totaal)
    "exact_duplicate_line": (
        2,
        {
            4: "exact duplicate of line 3",
            5: "duplicate key (jaar=2023, buurtcode=BU99990103): also on row 7 of politie_2023.csv",
            6: "exact duplicate of line 5",
            7: "duplicate key (jaar=2023, buurtcode=BU99990103): also on row 5 of politie_2023.csv",
        },
    ),
    "english_decimal_mark": (
        1,
        {3: "percentage: uses '.' as decimal mark where this source writes ',' (value '12.5')"},
    ),
    "extra_column": (2, {}),
    "missing_optional_column": (1, {}),
    "negative_count": (1, {3: "verdachten_12_17: below the minimum 0 (value -3)"}),
    "percentage_above_100": (
        1,
        {3: "rule broken: percentage <= ci_bovengrens; percentage: above the maximum 100 (value 112.5)"},
    ),
    "quoted_delimiter": (1, {}),
    "truncated_file": (
        1,
        {
            3: "row has 4 fields where the header has 8 (truncated or mis-quoted row); "
            "misdrijven_totaal: required value is missing"
        },
    ),
    "suppression_mark": (  # a GGD export marking a withheld estimate '*': the message says what this source expects
        1,
        {3: "percentage: not a number; this source writes a missing or withheld figure as '.' or an empty cell "
            "(value '*')"},
    ),
    "thousands_separator": (  # 1.080 for 1080: the message says what it probably is
        1,
        {3: "misdrijven_totaal: not a whole number; it looks like '.' as a thousands separator, which this source "
            "does not use: write numbers without it (value '1.080')"},
    ),
    "utf8_bom_crlf": (1, {}),
    "wrong_type": (1, {3: "verdachten_12_17: not a whole number (value 'veel')"}),
    "year_out_of_range": (
        1,
        {3: "jaar: year outside 2000-2026 (value 2031)", 4: "jaar: year outside 2000-2026 (value 1899)"},
    ),
}

# case -> the problem the error message must state (it always starts with the file's path)
REFUSED = {
    "bsn_column": "column 'BSN' holds a citizen service number (BSN); personal identifiers are refused",
    "bsn_values_unnamed": "column 'kenmerk' holds values that look like citizen service numbers (BSN",
    "cbs_year_not_in_file_name": "the file name does not contain the reporting year",
    "duplicate_header": "has duplicate column names in the header: jaar",
    "empty_file": "is empty (no header, no rows)",
    "header_only": "has a header but no data rows",
    "latin1_encoding": "is not valid utf-8 (byte 0xE9 on line 2). It looks like Latin-1/Windows-1252",
    "missing_required_column": "misses required column(s) misdrijven_totaal",
    "person_name_column": "column 'Achternaam' holds a person's name",
    # an optional column renamed (it used to load as empty, with a warning): the error says which column it is
    "renamed_optional_column": ("has column 'Halt_Verwijzingen2' (line 1, column 5), which is not in the contract, "
                                "where the contract's optional column 'halt_verwijzingen' is missing: did you mean "
                                "'halt_verwijzingen'?"),
    "semicolon_vs_comma": "uses ',' as column delimiter, but this source's contract expects ';'",
    # Excel's 'Unicode text' export: it used to be called Latin-1
    "utf16_encoding": "is not valid utf-8 (byte 0xFF on line 1). It is UTF-16 (Excel's 'Unicode text' export",
}


def _case_file(case: str) -> Path:
    (path,) = (CORPUS / case).iterdir()
    return path


def _contract_for(path: Path):
    for contract in load_contracts().values():
        if fnmatch.fnmatch(path.name, contract.file_format.file_name_pattern):
            return contract
    return load_contracts()["cbs_kerncijfers"]  # a CBS file whose name lacks the year


def test_corpus_is_complete():
    """Every case on disk has a pinned outcome, and there are at least 15 kinds of bad input."""
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert on_disk == set(QUARANTINED) | set(REFUSED)
    assert len(on_disk) >= 15


@pytest.mark.parametrize("case", sorted(QUARANTINED))
def test_row_problems_are_quarantined_with_reason(case):
    path = _case_file(case)
    loaded, quarantined, result = validate_source(_contract_for(path), [path], SCOPE)
    expected_loaded, expected_reasons = QUARANTINED[case]
    assert len(loaded) == expected_loaded
    assert dict(zip(quarantined["_source_row"], quarantined["_reason"])) == expected_reasons
    assert set(quarantined["_source_file"]) <= {path.name}
    assert result.accounted_for
    assert result.rows_in == expected_loaded + len(expected_reasons)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_unreadable_files_fail_with_one_clear_message(case):
    path = _case_file(case)
    with pytest.raises(ExtractError) as error:
        validate_source(_contract_for(path), [path], SCOPE)
    message = str(error.value)
    assert message.startswith(str(path))
    assert REFUSED[case] in message


def test_utf16_without_a_byte_order_mark_is_named_too(tmp_path):
    """UTF-16 of plain ASCII without its mark decodes as UTF-8, with a NUL beside every character."""
    path = tmp_path / "politie_2023.csv"
    path.write_bytes(_case_file("wrong_type").read_text("utf-8").replace("veel", "7").encode("utf-16-le"))
    with pytest.raises(ExtractError) as error:
        validate_source(_contract_for(path), [path], SCOPE)
    assert "is not utf-8: it has a NUL byte beside every other character. It is UTF-16" in str(error.value)


@pytest.mark.parametrize("value, reason", [
    ("12.500", "verdachten_12_17: not a whole number; it looks like '.' as a thousands separator"),
    ("1 250", "verdachten_12_17: not a whole number; it looks like ' ' as a thousands separator"),
    ("12.5", "verdachten_12_17: not a whole number (value '12.5')"),  # not groups of three: no guess
])
def test_thousands_separators_are_named_only_where_the_digits_are_grouped_by_three(tmp_path, value, reason):
    path = tmp_path / "politie_2023.csv"
    path.write_text(f"{POLICE_HEADER}\n2023;BU99990101;{value};10;2;120;20;5\n", "utf-8")
    _, quarantined, _ = validate_source(_contract_for(path), [path], SCOPE)
    assert quarantined["_reason"].iloc[0].startswith(reason)


def test_extra_and_absent_optional_columns_are_reported():
    path = _case_file("extra_column")
    *_, result = validate_source(_contract_for(path), [path], SCOPE)
    assert result.files[0].ignored_columns
    path = _case_file("missing_optional_column")
    *_, result = validate_source(_contract_for(path), [path], SCOPE)
    assert result.files[0].absent_optional_columns


POLICE_HEADER = "jaar;buurtcode;verdachten_12_17;verdachten_18_24;halt_verwijzingen;misdrijven_totaal;geweldsmisdrijven;woninginbraken"


@pytest.mark.parametrize("found", ["HALT verwijzingen", "halt-Verwijzingen ", "Halt_Verwijzingen2", "halt_verwijzing"])
def test_an_unknown_column_named_almost_as_a_missing_contract_column_fails_the_file(tmp_path, found):
    """Equal once case, whitespace and punctuation are left out, or close to it (difflib ratio >= 0.85):
    the file names the column found and the contract column it probably is."""
    path = tmp_path / "politie_2023.csv"
    path.write_text(POLICE_HEADER.replace("halt_verwijzingen", found) + "\n2023;BU99990101;5;10;2;120;20;5\n", "utf-8")
    with pytest.raises(ExtractError) as error:
        validate_source(_contract_for(path), [path], SCOPE)
    assert str(error.value).startswith(f"{path}: has column {found.strip()!r} (line 1, column 5), which is not in the contract")
    assert "did you mean 'halt_verwijzingen'?" in str(error.value)


@pytest.mark.parametrize("header", [
    POLICE_HEADER.replace("halt_verwijzingen", "opmerking"),  # not like any contract column: ignored, a warning
    POLICE_HEADER + ";halt_verwijzingen_2",  # like a contract column that is there: ignored
], ids=["unlike any column", "like a present column"])
def test_other_unknown_columns_are_still_ignored(tmp_path, header):
    path = tmp_path / "politie_2023.csv"
    row = "2023;BU99990101;5;10;2;120;20;5" + (";7" if header.count(";") == 8 else "")
    path.write_text(header + "\n" + row + "\n", "utf-8")
    loaded, _, result = validate_source(_contract_for(path), [path], SCOPE)
    assert len(loaded) == 1 and result.files[0].ignored_columns


def _tables(con) -> dict[str, list]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables order by 1"
    ).fetchall()
    untimed = "columns(lambda c: c not in ('_loaded_at', '_quarantined_at'))"  # load times differ per run
    return {
        name: con.execute(f"select {untimed} from {name} order by all").fetchall()
        for (name,) in rows
        if not name.startswith("meta.")
    }


@pytest.mark.parametrize("case", ["bsn_column", "missing_required_column", "semicolon_vs_comma", "empty_file"])
def test_a_refused_file_writes_nothing(tmp_path, case):
    """A good load, then a folder with one refused file: the warehouse is exactly as before."""
    contract = load_contracts()["politie_jeugdverdachten"]
    folder = tmp_path / "extracts"
    folder.mkdir()
    shutil.copy(_case_file("dot_missing_optional"), folder / "politie_2022.csv")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_source(contract, folder, con, SCOPE)
    before = _tables(con)
    log_before = con.execute("select count(*) from meta.ingest_log").fetchone()
    assert before["raw.politie_jeugdverdachten"], "the good file must have loaded rows"

    shutil.copy(_case_file(case), folder / "politie_2023.csv")
    with pytest.raises(ExtractError):
        ingest_source(contract, folder, con, SCOPE)
    assert _tables(con) == before
    assert con.execute("select count(*) from meta.ingest_log").fetchone() == log_before


def _police_extract(tmp_path, case: str):
    """The police contract, an extract folder holding corpus case ``case`` as politie_2023.csv, and a
    warehouse connection."""
    folder = tmp_path / "extracts"
    folder.mkdir()
    shutil.copy(_case_file(case), folder / "politie_2023.csv")
    return load_contracts()["politie_jeugdverdachten"], folder, duckdb.connect(str(tmp_path / "warehouse.duckdb"))


def test_re_running_the_same_extract_is_idempotent(tmp_path):
    contract, folder, con = _police_extract(tmp_path, "duplicate_keys")
    first = ingest_source(contract, folder, con, SCOPE)
    once = _tables(con)
    second = ingest_source(contract, folder, con, SCOPE)
    assert _tables(con) == once
    assert (first.rows_loaded, first.rows_quarantined) == (second.rows_loaded, second.rows_quarantined) == (1, 2)
    assert con.execute("select count(*) from raw.politie_jeugdverdachten").fetchone() == (1,)
    assert con.execute("select count(*) from quarantine.politie_jeugdverdachten").fetchone() == (2,)


def test_an_exact_duplicate_line_keeps_one_copy_in_the_warehouse(tmp_path):
    """A line delivered twice, identical in every column: its buurt is loaded once (it used to vanish
    for that year, both copies quarantined as a duplicate key), the extra copy is in quarantine with
    the line it repeats. A repeat that differs in any value stays quarantined with its twin."""
    contract, folder, con = _police_extract(tmp_path, "exact_duplicate_line")
    result = ingest_source(contract, folder, con, SCOPE)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (6, 2, 4)
    assert con.execute("select buurtcode, _source_row, misdrijven_totaal from raw.politie_jeugdverdachten order by 1").fetchall() == [
        ("BU99990101", 2, 120), ("BU99990102", 3, 80)]
    quarantined = con.execute("select buurtcode, _source_row, _reason from quarantine.politie_jeugdverdachten order by 2").fetchall()
    assert quarantined[0] == ("BU99990102", 4, "exact duplicate of line 3")
    assert [(b, r) for b, r, _ in quarantined] == [("BU99990102", 4), ("BU99990103", 5), ("BU99990103", 6), ("BU99990103", 7)]
    # across files: the same line in a second file of the source is an extra copy too, named with its file
    lines = _case_file("dot_missing_optional").read_text("utf-8").replace("2023;", "2022;")
    (folder / "politie_2022.csv").write_text(lines, "utf-8")
    (folder / "politie_2022_kopie.csv").write_text(lines, "utf-8")
    again = ingest_source(contract, folder, con, SCOPE)
    reasons = con.execute("select _source_file, _source_row, _reason from quarantine.politie_jeugdverdachten "
                          "where _source_file = 'politie_2022_kopie.csv' order by 2").fetchall()
    assert reasons == [("politie_2022_kopie.csv", 2, "exact duplicate of line 2 of politie_2022.csv"),
                       ("politie_2022_kopie.csv", 3, "exact duplicate of line 3 of politie_2022.csv")]
    assert again.accounted_for and again.rows_loaded == 4
