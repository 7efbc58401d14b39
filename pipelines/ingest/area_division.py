"""Area codes against the area division: a row whose area code the division does not know is quarantined.

The rule is the one the marts apply. dbt's ``relationships`` test of ``marts.fct_indicator_value``
accepts an area code that ``marts.dim_area`` holds, and ``dim_area`` holds every code of the area
division (``raw.gebiedsindeling``, through ``stg_gebiedsindeling``) of *any* year; the code changes
(``gebiedswijzigingen``) only map those codes onto newer ones and add none. So a row passes when
its code is in the loaded division of some year, and is quarantined, with a reason naming the
column, the code and the row's year, when it is in none: exactly the codes the relationships test
would reject later (for the rows that reach the marts), now named by file and row on arrival.

A year whose division has no rows (no ``raw.gebiedsindeling`` yet, or the division not delivered
for that year) is not checked: its rows load as before and ``unchecked_years`` names the year, so
that the caller can warn. The sources that describe the division itself (``gebiedsindeling`` and
``gebiedswijzigingen``) are not checked against it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

from data_contracts.contract import AREA_CODE_PATTERNS, SourceContract, load_contract

AREA_DIVISION_SOURCE = "gebiedsindeling"
# The division and its code changes: their codes define the division, they are not checked against it.
DIVISION_SOURCES = frozenset({AREA_DIVISION_SOURCE, "gebiedswijzigingen"})


@dataclass(frozen=True)
class AreaDivision:
    """The codes of the loaded area division (of every year) and the years it has rows for."""

    codes: frozenset[str] = frozenset()
    years: frozenset[int] = frozenset()


def checks_area_codes(contract: SourceContract) -> bool:
    """Whether the source's area codes are checked against the division (and so must load after it)."""
    return contract.name not in DIVISION_SOURCES and any(c.area_code for c in contract.columns)


def read_area_division(con: duckdb.DuckDBPyConnection) -> AreaDivision:
    """The division as ``raw.gebiedsindeling`` holds it now; empty when the table does not exist."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = ?",
        [AREA_DIVISION_SOURCE],
    ).fetchone()[0]
    if not exists:
        return AreaDivision()
    division = load_contract(AREA_DIVISION_SOURCE)
    rows = con.execute(
        f'select distinct "{division.year_column}", "{division.area_column}" from raw."{AREA_DIVISION_SOURCE}"'
    ).fetchall()
    return AreaDivision(codes=frozenset(code for _, code in rows), years=frozenset(int(year) for year, _ in rows))


def unknown_code_reason(column: str, code: str, year: int) -> str:
    """The quarantine reason; like the contract's reasons it ends with the offending value."""
    return (f"{column}: not in the area division ({AREA_DIVISION_SOURCE}) of {year} or of any other year "
            f"(value {code!r})")


def unknown_area_code_reasons(
    codes: pd.Series, years: pd.Series, column: str, level: str, division: AreaDivision
) -> dict[int, str]:
    """Row index -> reason, for every well-formed code of a year the division has rows for that is not in it.

    ``codes``: the area column as parsed (CBS pads codes with spaces: stripped here, as staging does);
    ``years``: each row's year (<NA> when unreadable: that row is quarantined for its year already).
    A malformed code is left to the contract's pattern check.
    """
    code = codes.astype("string").str.strip()
    well_formed = code.str.fullmatch(AREA_CODE_PATTERNS[level]).fillna(False).astype(bool)
    checked_year = years.isin(list(division.years)).fillna(False).astype(bool)
    unknown = well_formed & checked_year & ~code.isin(list(division.codes)).fillna(False).astype(bool)
    return {index: unknown_code_reason(column, code[index], int(years[index])) for index in code.index[unknown]}


def unchecked_years(years: Iterable[object], division: AreaDivision) -> tuple[int, ...]:
    """The years of ``years`` (rows' years, <NA> skipped) that the division has no rows for."""
    present = {int(y) for y in years if not pd.isna(y)}
    return tuple(sorted(present - division.years))


def unchecked_warning(source: str, years: Collection[int]) -> str:
    """One sentence for the log: which years' area codes were not checked, and why."""
    shown = ", ".join(map(str, sorted(years)))
    one = len(years) == 1
    return (f"{source}: area codes of {shown} not checked against the area division: raw.{AREA_DIVISION_SOURCE} "
            f"has no rows for {'that year' if one else 'those years'} (not loaded yet, or not delivered). Load "
            f"raw/{AREA_DIVISION_SOURCE} for {'it' if one else 'them'} and reload {'this year' if one else 'these years'} "
            "to check them; until then an unknown code only shows in the dbt relationships test of the marts.")


def division_first(contracts: Iterable[SourceContract]) -> list[SourceContract]:
    """The contracts in an order to ingest them one after the other: the area division first."""
    return sorted(contracts, key=lambda c: c.name != AREA_DIVISION_SOURCE)
