"""Loads of some years (the yearly partitions of the source assets), on real DuckDB files.

A load of some years replaces exactly those years' rows in raw and quarantine, leaves every other
year (rows, load times, ingest log) as it was, and loading every year one at a time gives the same
tables as one load of all years. Rows without a usable year are quarantined, once, by every load
that reads their file. The extracts are the small synthetic Demostad (2019-2024).
"""

from __future__ import annotations

import random

import duckdb
import pytest

from data_contracts.contract import load_contracts
from data_contracts.pandera_schema import Scope
from pipelines.ingest import ExtractError, extract_years, ingest_source
from pipelines.ingest.load import TableMismatchError

CONTRACTS = load_contracts()
YEARS = list(range(2019, 2025))
SCOPE = Scope(gemeenten=frozenset({"GM9999"}), first_year=YEARS[0], last_year=YEARS[-1])
UNTIMED = "columns(lambda c: c not in ('_loaded_at', '_quarantined_at', 'ingested_at', 'run_id'))"


def rows(con, table: str, where: str = "true") -> list[tuple]:
    return con.execute(f"select {UNTIMED} from {table} where {where} order by all").fetchall()


def with_times(con, table: str, where: str) -> list[tuple]:
    return con.execute(f"select * from {table} where {where} order by all").fetchall()


@pytest.mark.parametrize("source", sorted(CONTRACTS))
def test_loading_year_by_year_equals_one_load_of_every_year(source, extracts, tmp_path):
    contract = CONTRACTS[source]
    whole = duckdb.connect(str(tmp_path / "whole.duckdb"))
    ingest_source(contract, extracts, whole, SCOPE)
    yearly = duckdb.connect(str(tmp_path / "yearly.duckdb"))
    order = YEARS.copy()
    random.Random(source).shuffle(order)
    for year in order:
        result = ingest_source(contract, extracts, yearly, SCOPE, years=[year])
        assert result.load_years == (year,) and result.accounted_for
    for table in (f"raw.{source}", f"quarantine.{source}"):
        assert rows(yearly, table) == rows(whole, table), table
    per_year = f"select year, sum(rows_in), sum(rows_loaded), sum(rows_quarantined) from meta.ingest_log group by 1 order by 1"
    assert yearly.execute(per_year).fetchall() == whole.execute(per_year).fetchall()
    # and a load of every year given as years is a load of every year: the tables replaced as a whole
    assert ingest_source(contract, extracts, yearly, SCOPE, years=YEARS).load_years is None
    assert rows(yearly, f"raw.{source}") == rows(whole, f"raw.{source}")


def test_a_corrected_file_for_one_year_changes_that_year_only(extracts, tmp_path):
    contract = CONTRACTS["ggd_monitor"]
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_source(contract, extracts, con, SCOPE, run_id="all-years")
    before = {y: with_times(con, "raw.ggd_monitor", f"jaar = {y}") for y in YEARS}
    log_before = con.execute("select * from meta.ingest_log order by all").fetchall()

    path = next(p for p in extracts.glob("ggd_*.csv") if extract_years(p, contract) == [2023])
    lines = path.read_text("utf-8").splitlines()
    header = lines[0].split(";")
    first = lines[1].split(";")
    respondents = header.index("aantal_respondenten")
    first[respondents] = str(int(first[respondents]) + 7)  # a corrected figure
    bad = lines[2].split(";")
    bad[header.index("percentage")] = "130,0"  # and a row that breaks the contract
    path.write_text("\n".join([lines[0], ";".join(first), ";".join(bad), *lines[3:]]) + "\n", "utf-8")

    result = ingest_source(contract, extracts, con, SCOPE, run_id="2023-only", years=[2023])
    assert result.load_years == (2023,) and result.accounted_for
    assert (result.rows_loaded, result.rows_quarantined) == (len(before[2023]) - 1, 1)
    assert result.rows_other_years == sum(len(before[y]) for y in YEARS if y != 2023)
    for year in YEARS:
        if year != 2023:
            assert with_times(con, "raw.ggd_monitor", f"jaar = {year}") == before[year], year  # load times too
    assert con.execute("select count(*) from raw.ggd_monitor where jaar = 2023 and aantal_respondenten = ?",
                       [int(first[respondents])]).fetchone()[0] >= 1
    ((year, reason),) = con.execute("select _year, _reason from quarantine.ggd_monitor").fetchall()
    assert year == 2023 and "percentage: above the maximum 100 (value 130.0)" in reason
    log = con.execute("select * from meta.ingest_log order by all").fetchall()
    assert [r for r in log if r[6] == "all-years"] == [r for r in log_before]  # the earlier log is untouched
    assert con.execute("select year, rows_in, rows_loaded, rows_quarantined from meta.ingest_log where run_id = '2023-only'"
                       ).fetchall() == [(2023, len(before[2023]), len(before[2023]) - 1, 1)]


def test_rows_without_a_usable_year_are_quarantined_once_by_every_load_of_their_file(extracts, tmp_path):
    contract = CONTRACTS["politie_jeugdverdachten"]
    path = next(extracts.glob("politie_*.csv"))
    lines = path.read_text("utf-8").splitlines()
    unreadable = lines[1].replace(lines[1].split(";")[0], "20x3", 1)
    too_old = lines[2].replace(lines[2].split(";")[0], "1999", 1)
    path.write_text("\n".join([*lines, unreadable, too_old]) + "\n", "utf-8")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for years in ([2023], [2022], [2023], None):
        result = ingest_source(contract, extracts, con, SCOPE, years=years)
        assert result.accounted_for and result.year_totals(None) == (2, 0, 2)
        quarantined = con.execute("select jaar, _year, _source_row from quarantine.politie_jeugdverdachten order by 1").fetchall()
        assert quarantined == [("1999", None, len(lines) + 2), ("20x3", None, len(lines) + 1)], years  # line numbers


def test_a_load_of_one_year_reads_only_that_years_key_figures_file(extracts, tmp_path):
    contract = CONTRACTS["cbs_kerncijfers"]
    broken = extracts / "kerncijfers_wijken_en_buurten_2020.csv"
    broken.write_text("jaar;WijkenEnBuurten;BSN\n2020;GM9999;123456782\n", "utf-8")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = ingest_source(contract, extracts, con, SCOPE, years=[2023])
    assert [f.file for f in result.files] == ["kerncijfers_wijken_en_buurten_2023.csv"] and result.rows_loaded > 0
    with pytest.raises(ExtractError, match="kerncijfers_wijken_en_buurten_2020.csv"):
        ingest_source(contract, extracts, con, SCOPE, years=[2020])
    with pytest.raises(ExtractError):
        ingest_source(contract, extracts, con, SCOPE)  # every year reads the broken file too
    assert con.execute("select distinct jaar from raw.cbs_kerncijfers").fetchall() == [(2023,)]  # nothing else written


def test_years_outside_the_deployment_are_refused(extracts, tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    with pytest.raises(ValueError, match=r"cannot load years \[2030\]: the deployment's years are 2019-2024"):
        ingest_source(CONTRACTS["ggd_monitor"], extracts, con, SCOPE, years=[2024, 2030])


def test_a_year_load_into_a_table_of_other_columns_says_to_load_every_year(extracts, tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema raw; create table raw.duo_onderwijs (jaar integer, old_column varchar)")
    with pytest.raises(TableMismatchError, match="Load every year once .*--partition-range"):
        ingest_source(CONTRACTS["duo_onderwijs"], extracts, con, SCOPE, years=[2023])
    assert con.execute("select count(*) from raw.duo_onderwijs").fetchone() == (0,)  # rolled back
    ingest_source(CONTRACTS["duo_onderwijs"], extracts, con, SCOPE)  # every year: the table is rebuilt
    ingest_source(CONTRACTS["duo_onderwijs"], extracts, con, SCOPE, years=[2023])
    assert con.execute("select count(distinct jaar) from raw.duo_onderwijs").fetchone() == (len(YEARS),)


def test_a_warehouse_from_before_yearly_loads_takes_a_year_load(extracts, tmp_path):
    """Tables written before the year columns existed: quarantine gets _year, ingest_log gets year."""
    contract = CONTRACTS["gemeente_registraties"]
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_source(contract, extracts, con, SCOPE)
    con.execute("alter table quarantine.gemeente_registraties drop column _year")
    con.execute("alter table meta.ingest_log drop column year")
    ingest_source(contract, extracts, con, SCOPE, years=[2024])
    assert con.execute("select count(*) from meta.ingest_log where year = 2024").fetchone() == (1,)
    assert "_year" in [r[0] for r in con.execute("describe quarantine.gemeente_registraties").fetchall()]
