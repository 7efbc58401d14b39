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

**Areas never delivered.** The marts expect, under a wijk or gemeente, the child areas of that year's
division that the source delivers at all (a row, loaded or quarantined, in any year), so that a
source that never reports a buurt does not withhold every sum above it. The price: a buurt a source
has never delivered makes no sum incomplete, in silence. ``never_delivered_areas`` names them after a
load, per year: the division's areas of a level (and gemeente) that the source delivers that year, that
the source has delivered in no year. A warning, not a quarantine: a buurt may have no residents.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd

from data_contracts.contract import AREA_CODE_PATTERNS, SourceContract, load_contract
from pipelines.ingest.load import quote_identifier, table_exists
from pipelines.ingest.parse import by_distinct_value

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
    if not table_exists(con, "raw", AREA_DIVISION_SOURCE):
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
    code = by_distinct_value(codes.astype("string"), lambda values: values.str.strip())
    pattern = AREA_CODE_PATTERNS[level]
    well_formed = by_distinct_value(code, lambda values: values.str.fullmatch(pattern).fillna(False).astype(bool))
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


def never_delivered_areas(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, years: Collection[int] | None
) -> dict[int, tuple[str, ...]]:
    """Year -> the division's codes of that year that ``raw``/``quarantine.<source>`` hold in no year, as the
    tables are now (after a load), for ``years`` (None: every year).

    Only codes of a level and gemeente (the code's four digits after GM, WK or BU) that the source delivers
    that year count: a source of wijk figures is not short of buurten, nor of another gemeente's areas."""
    if not checks_area_codes(contract) or not table_exists(con, "raw", AREA_DIVISION_SOURCE):
        return {}
    division = load_contract(AREA_DIVISION_SOURCE)
    source, area, year = (quote_identifier(n) for n in (contract.name, contract.area_column, contract.year_column))
    wanted = "" if years is None else "where year in (select unnest(?::INTEGER[]))"
    rows = con.execute(
        f"""
        with delivered as (
            select trim({area}) as code, {year} as year from raw.{source}
            union all select trim({area}), _year from quarantine.{source}
        ), present as (
            select distinct year, left(code, 2) as level, substr(code, 3, 4) as gemeente from delivered {wanted}
        )
        select d.{quote_identifier(division.year_column)}, list(d.code order by d.code)
        from (select {quote_identifier(division.year_column)}, {quote_identifier(division.area_column)} as code
              from raw.{AREA_DIVISION_SOURCE}) d
        join present p on p.year = d.{quote_identifier(division.year_column)} and p.level = left(d.code, 2)
            and p.gemeente = substr(d.code, 3, 4)
        where d.code not in (select code from delivered where code is not null)
        group by 1 order by 1
        """,
        [] if years is None else [sorted(years)],
    ).fetchall()
    return {int(y): tuple(codes) for y, codes in rows}


def year_spans(years: Iterable[int]) -> str:
    """``2019-2021, 2023``: years as runs of consecutive years."""
    spans: list[list[int]] = []
    for year in sorted(set(years)):
        if spans and year == spans[-1][-1] + 1:
            spans[-1].append(year)
        else:
            spans.append([year])
    return ", ".join(f"{s[0]}-{s[-1]}" if len(s) > 1 else str(s[0]) for s in spans)


def never_delivered_warning(source: str, missing: Mapping[int, Collection[str]]) -> str:
    """One sentence for the log: each never-delivered code with the years of the division that have it."""
    years_of: dict[str, list[int]] = {}
    for year, codes in missing.items():
        for code in codes:
            years_of.setdefault(code, []).append(year)
    listed = ", ".join(f"{code} ({year_spans(years)})" for code, years in sorted(years_of.items()))
    return (f"{source}: {len(years_of)} area{'s' if len(years_of) != 1 else ''} of the area division (raw.{AREA_DIVISION_SOURCE}) "
            f"that this source has never delivered, in no year, loaded or quarantined: {listed}. The marts do not expect "
            "them, so this source's wijk and gemeente sums are published as complete without them: right for an area "
            "without residents; otherwise ask the supplier for their rows.")


def division_first(contracts: Iterable[SourceContract]) -> list[SourceContract]:
    """The contracts in an order to ingest them one after the other: the area division first."""
    return sorted(contracts, key=lambda c: c.name != AREA_DIVISION_SOURCE)
