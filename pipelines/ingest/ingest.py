"""Ingest one source: find its extract files, read, parse and validate them, then load.

Every row of every file ends up either in ``raw.<source>`` or in ``quarantine.<source>`` with a
reason; ``IngestResult`` counts them per file so that rows in = rows loaded + rows quarantined
can be checked. Any file-level problem raises ``ExtractError`` before anything is written.

**Years.** A load can be limited to some years (a yearly partition, or a range of them): then only
the rows of those years are validated into ``raw`` / ``quarantine`` and replace the earlier rows
of those years; the other years stay exactly as they were. A row belongs to the year in its year
column. A row whose year cannot be read or lies outside the deployment's years belongs to no year:
it is quarantined by every load that reads its file (so it is never lost). Files whose name gives
the year (CBS key figures) are only read for their own year.

**Area codes.** ``ingest_source`` also checks every row's area code against the area division
loaded in ``raw.gebiedsindeling`` (``area_division.py``): a code the division knows in no year is
quarantined, as the marts' relationships test would reject it; a year without a division is not
checked and is named in ``IngestResult.unchecked_area_years``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from data_contracts.contract import SourceContract, load_contracts
from data_contracts.pandera_schema import Scope
from pipelines.ingest.area_division import (
    AreaDivision,
    checks_area_codes,
    never_delivered_areas,
    never_delivered_warning,
    read_area_division,
    unchecked_warning,
    unchecked_years,
    unknown_area_code_reasons,
)
from pipelines.ingest.errors import ExtractError, MissingExtractError
from pipelines.ingest.load import quote_identifier, table_exists, write_source
from pipelines.ingest.parse import LINEAGE_COLUMNS, ParsedExtract, by_distinct_value, parse_extract
from pipelines.ingest.read import letters_and_digits, read_extract_file, year_from_name
from pipelines.ingest.validate import row_reasons

LOG = logging.getLogger(__name__)
YEAR_COLUMN = "_year"  # quarantine: the year (partition) a rejected row belongs to; null when it has none


@dataclass(frozen=True)
class FileSummary:
    file: str
    sha256: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    ignored_columns: tuple[str, ...] = ()
    absent_optional_columns: tuple[str, ...] = ()
    rows_other_years: int = 0  # rows of years this load did not cover: left as they were
    reasons: tuple[tuple[str, int], ...] = ()  # why its rows were quarantined: reason kind and rows, most frequent first


@dataclass(frozen=True)
class YearCount:
    """Rows of one file and one year (``year`` None: rows without a readable year within the deployment's)."""

    file: str
    year: int | None
    rows_in: int
    rows_loaded: int
    rows_quarantined: int


@dataclass
class IngestResult:
    """What happened to every row of a source's extracts (of the years loaded)."""

    source: str
    files: list[FileSummary]
    reasons: Counter = field(default_factory=Counter)  # reason kind -> rows
    quarantine_preview: pd.DataFrame = field(default_factory=pd.DataFrame)
    years: list[int] = field(default_factory=list)  # years with loaded rows
    load_years: tuple[int, ...] | None = None  # the years this load replaced; None: every year (whole tables)
    by_year: list[YearCount] = field(default_factory=list)
    unchecked_area_years: tuple[int, ...] = ()  # years whose area codes the loaded division could not check
    near_misses: tuple[str, ...] = ()  # files in the folder named almost like this source's extracts (not read)
    never_delivered_areas: dict[int, tuple[str, ...]] = field(default_factory=dict)  # year -> division codes never delivered

    @property
    def rows_other_years(self) -> int:
        return sum(f.rows_other_years for f in self.files)

    def year_totals(self, year: int | None) -> tuple[int, int, int]:
        """(rows in, loaded, quarantined) of one year over all files."""
        counts = [c for c in self.by_year if c.year == year]
        return (sum(c.rows_in for c in counts), sum(c.rows_loaded for c in counts),
                sum(c.rows_quarantined for c in counts))

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def accounted_for(self) -> bool:
        return self.rows_in == self.rows_loaded + self.rows_quarantined


def find_extract_files(contract: SourceContract, extract_dir: Path) -> list[Path]:
    """The files of this source in a folder, by the contract's file name pattern (in any case)."""
    if not extract_dir.is_dir():
        raise ExtractError(extract_dir, "the extract folder does not exist")
    pattern = contract.file_format.file_name_pattern
    files = sorted(p for p in extract_dir.iterdir() if p.is_file() and contract.file_format.matches(p.name))
    if not files:
        near = near_misses(contract, extract_dir)
        hint = f"; not read, though named almost so: {', '.join(near)}" if near else ""
        raise ExtractError(extract_dir, f"holds no extract of source {contract.name!r} (files named {pattern!r}, in any case){hint}")
    return files


def near_misses(contract: SourceContract, extract_dir: Path, years: Collection[int] = ()) -> tuple[str, ...]:
    """Files in the folder that no source's pattern matches but that look like this source's extracts:
    their name holds the pattern's fixed start (``ggd`` of ``ggd_*.csv``, ignoring case and separators)
    or one of ``years``. A renamed or mistyped extract is not read; these names say where it went."""
    if not extract_dir.is_dir():
        return ()
    contracts = [*load_contracts().values(), contract]
    prefix = letters_and_digits(contract.file_format.file_name_pattern.split("*", 1)[0])
    found = []
    for path in sorted(extract_dir.iterdir()):
        if not path.is_file() or any(c.file_format.matches(path.name) for c in contracts):
            continue
        if (prefix and prefix in letters_and_digits(path.name)) or any(str(y) in path.name for y in years):
            found.append(path.name)
    return tuple(found)


def files_for_years(
    contract: SourceContract, files: list[Path], years: Collection[int] | None, all_years: Collection[int]
) -> list[Path]:
    """The files a load of ``years`` must read: all of them, except that a file whose name gives its
    year (CBS key figures) is skipped when that year is one of the deployment's years but not loaded."""
    pattern = contract.file_format.year_from_file_name
    if years is None or not pattern:
        return files
    kept = []
    for path in files:
        try:
            year = year_from_name(path, pattern)
        except ExtractError:
            kept.append(path)  # read it, so that the load fails with the file's problem
            continue
        if year in years or year not in all_years:
            kept.append(path)
    return kept


def row_years(stripped: pd.Series, all_years: Collection[int]) -> pd.Series:
    """The year of every row from its year column as delivered, without surrounding whitespace
    (``ParsedExtract.stripped``); <NA> when unreadable or not a deployment year."""

    def year(values: pd.Series) -> pd.Series:
        readable = values.str.fullmatch(r"\d{1,4}").fillna(False).astype(bool)
        years = pd.to_numeric(values.where(readable), errors="coerce").astype("Int64")
        return years.where(years.isin(list(all_years)))

    return by_distinct_value(stripped, year)


def extract_years(path: Path, contract: SourceContract) -> list[int]:
    """The years an extract file holds rows of (readable years of its year column, or of its name)."""
    records = read_extract_file(path, contract)
    if records.year_from_name is not None:
        return [records.year_from_name] if records.rows else []
    position = {name: i for i, name in enumerate(records.header)}.get(contract.year_column)
    if position is None:
        return []
    years = {row[position].strip() for row in records.rows if len(row) > position}
    return sorted(int(y) for y in years if re.fullmatch(r"\d{1,4}", y))


def _reason_kind(reason: str) -> str:
    """A reason without the offending value, to count reasons by kind."""
    return re.sub(r" \(value .*\)$", "", reason)


def _load_years(years: Collection[int] | None, scope: Scope) -> tuple[frozenset[int] | None, frozenset[int]]:
    """(years to load, or None for every year; every year of the deployment)."""
    first, last = scope.year_range
    all_years = frozenset(range(first, last + 1))
    if years is None:
        return None, all_years
    wanted = frozenset(int(y) for y in years)
    outside = sorted(wanted - all_years)
    if outside:
        raise ValueError(f"cannot load years {outside}: the deployment's years are {first}-{last}")
    return (None if wanted == all_years else wanted), all_years


def _add_area_code_reasons(
    reasons: dict[int, list[str]], parsed: ParsedExtract, contract: SourceContract, year: pd.Series, division: AreaDivision
) -> None:
    """Add the reason of every row whose area code the division does not know, unless the code has a
    problem already (a malformed code, or one outside the configured gemeenten, says enough)."""
    column = contract.area_column
    unknown = unknown_area_code_reasons(parsed.typed[column], year, column, contract.column(column).area_code, division)
    for index, reason in unknown.items():
        if not any(r.startswith(f"{column}: ") for r in reasons.get(index, [])):
            reasons.setdefault(index, []).append(reason)


def validate_source(
    contract: SourceContract, files: list[Path], scope: Scope = Scope(), years: Collection[int] | None = None,
    division: AreaDivision | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, IngestResult]:
    """Split the rows of the given files into loadable and quarantined rows; write nothing.

    ``years``: keep only the rows of these years (and the rows that belong to no year); None: all rows.
    ``division``: the area division to check area codes against (``area_division.py``); None: not checked.
    The quarantined rows carry the year they belong to in ``_year``.
    """
    load_years, all_years = _load_years(years, scope)
    records = [read_extract_file(path, contract) for path in files]
    parsed = parse_extract(records, contract)
    reasons = row_reasons(parsed, contract, scope)
    year = row_years(parsed.stripped[contract.year_column], all_years)
    if load_years is None:
        ours = pd.Series(True, index=parsed.text.index)
    else:  # this load's years, and rows of no year (quarantined by every load that reads their file)
        ours = (year.isna() | year.isin(list(load_years))).astype(bool)
    checked = division is not None and checks_area_codes(contract)
    if checked:
        _add_area_code_reasons(reasons, parsed, contract, year, division)
    bad = pd.Series(parsed.text.index.isin(list(reasons)), index=parsed.text.index)

    keep = ours & ~bad
    loaded = parsed.typed[keep].copy()
    loaded["_source_file"] = parsed.text.loc[keep, "_source_file"]
    loaded["_source_row"] = parsed.text.loc[keep, "_source_row"]
    rejected = ours & bad
    quarantined = parsed.text[rejected].copy()
    quarantined["_reason"] = ["; ".join(reasons[i]) for i in quarantined.index]
    quarantined[YEAR_COLUMN] = year[rejected]

    flags = pd.DataFrame({"in": ours, "loaded": keep, "quarantined": rejected, "other_years": ~ours})
    per_file = flags.groupby(parsed.text["_source_file"], sort=False).sum()  # rows of each file
    quarantined_rows: dict[str, list[int]] = defaultdict(list)  # of each file
    for index, file in zip(quarantined.index, quarantined["_source_file"]):
        quarantined_rows[file].append(index)
    summaries = []
    kinds: Counter = Counter()  # over all files: the files' counts added up, in row order like theirs
    for rec in records:
        rows = per_file.loc[rec.path.name]
        file_kinds = Counter(_reason_kind(r) for i in quarantined_rows[rec.path.name] for r in reasons[i])
        kinds.update(file_kinds)
        summaries.append(
            FileSummary(
                file=rec.path.name,
                sha256=hashlib.sha256(rec.path.read_bytes()).hexdigest(),
                rows_in=int(rows["in"]),
                rows_loaded=int(rows["loaded"]),
                rows_quarantined=int(rows["quarantined"]),
                ignored_columns=tuple(rec.ignored_columns),
                absent_optional_columns=tuple(rec.absent_optional_columns),
                rows_other_years=int(rows["other_years"]),
                reasons=tuple(file_kinds.most_common()),
            )
        )
    counts = pd.DataFrame({"file": parsed.text["_source_file"], "year": year, "loaded": keep, "quarantined": rejected})[ours]
    by_year = [
        YearCount(file=str(file), year=None if pd.isna(y) else int(y), rows_in=int(len(group)),
                  rows_loaded=int(group["loaded"].sum()), rows_quarantined=int(group["quarantined"].sum()))
        for (file, y), group in counts.groupby(["file", "year"], dropna=False, sort=True)
    ]
    preview_columns = ["_source_file", "_source_row", "_reason"]
    result = IngestResult(
        source=contract.name,
        files=summaries,
        reasons=kinds,
        quarantine_preview=quarantined[preview_columns].head(20).reset_index(drop=True),
        years=sorted(int(y) for y in loaded[contract.year_column].dropna().unique()),
        load_years=None if load_years is None else tuple(sorted(load_years)),
        by_year=by_year,
        unchecked_area_years=unchecked_years(year[ours], division) if checked else (),
    )
    return loaded[[*contract.column_names, "_source_file", "_source_row"]], quarantined[
        [*contract.column_names, *LINEAGE_COLUMNS, "_reason", YEAR_COLUMN]
    ], result


def emptied_years(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, result: IngestResult, years: Collection[int], found: Collection[str]
) -> dict[int, tuple[int, list[str]]]:
    """The years of ``years`` this load has no row of while ``raw.<source>`` holds rows of them that came
    from files no longer among ``found`` (file names): year -> (rows now in raw, the files they came from)."""
    empty = sorted(y for y in years if result.year_totals(y)[0] == 0)
    if not empty or not table_exists(con, "raw", contract.name):
        return {}
    year = quote_identifier(contract.year_column)
    rows = con.execute(
        f"select {year}, count(*), list(distinct _source_file order by _source_file) from raw.{quote_identifier(contract.name)} "
        f"where {year} in (select unnest(?::INTEGER[])) group by 1 order by 1", [empty],
    ).fetchall()
    present = {name.lower() for name in found}
    return {int(y): (int(n), list(files)) for y, n, files in rows if not any(f.lower() in present for f in files)}


def missing_extract_problem(contract: SourceContract, emptied: dict[int, tuple[int, list[str]]], near: Collection[str]) -> str:
    """Why a load that would empty years is refused: what is gone, what was looked for, what was found instead."""
    years = ", ".join(map(str, emptied))
    had = "; ".join(f"{y}: {n} rows from {', '.join(files)}" for y, (n, files) in emptied.items())
    hint = (f" Not read, though named almost so: {', '.join(near)}; rename the file to the pattern."
            if near else " No file in the folder is named almost so either.")
    return (
        f"has no rows of {years} for source {contract.name!r}: no file named {contract.file_format.file_name_pattern!r} "
        f"(in any case) holds them, while raw.{contract.name} does ({had}) and no file of that name is in the folder now."
        f"{hint} Refused rather than emptying the year(s); nothing was written. To withdraw a year's data on purpose, "
        f"run raw/{contract.name} with the config allow_empty_years: [{years}]; to stop loading the source, switch it off "
        "in the configuration (sources)."
    )


@dataclass
class SourceLoad:
    """A source's extracts validated for a load and not yet written (``prepare_source``): the rows to
    load and to quarantine, what happened to them, and what ``write_load`` needs. Kept apart so that
    a caller can look at the outcome (a dropped file whose every row is quarantined) before anything
    is replaced."""

    contract: SourceContract
    loaded: pd.DataFrame
    quarantined: pd.DataFrame
    result: IngestResult
    files_read: list[str]
    years: frozenset[int] | None  # None: every year (whole tables)
    emptied: dict[int, tuple[int, list[str]]]  # years emptied on purpose (allow_empty_years): rows and files before


def prepare_source(
    contract: SourceContract,
    extract_dir: Path,
    con: duckdb.DuckDBPyConnection,
    scope: Scope = Scope(),
    years: Collection[int] | None = None,
    allow_empty_years: Collection[int] = (),
) -> SourceLoad:
    """Find, read and validate the source's extract files for a load of ``years``; write nothing.
    ``MissingExtractError`` when the load would empty a year whose file is gone (see ``ingest_source``)."""
    load_years, all_years = _load_years(years, scope)
    found = find_extract_files(contract, extract_dir)
    files = files_for_years(contract, found, load_years, all_years)
    division = read_area_division(con) if checks_area_codes(contract) else None
    loaded, quarantined, result = validate_source(contract, files, scope, load_years, division)
    empty = [y for y in (load_years or all_years) if result.year_totals(y)[0] == 0]
    result.near_misses = near_misses(contract, extract_dir, empty) if empty else ()
    emptied = emptied_years(con, contract, result, empty, [p.name for p in found])
    refused = {y: had for y, had in emptied.items() if y not in set(allow_empty_years)}
    if refused:
        raise MissingExtractError(extract_dir, missing_extract_problem(contract, refused, result.near_misses), tuple(refused))
    return SourceLoad(contract, loaded, quarantined, result, [p.name for p in files], load_years, emptied)


def _file_log(load: SourceLoad, run_id: str | None) -> pd.DataFrame:
    """The lines of ``meta.ingest_log``: one per file and year of the load."""
    sha = {f.file: f.sha256 for f in load.result.files}
    columns = ["source", "source_file", "file_sha256", "rows_in", "rows_loaded", "rows_quarantined", "run_id", "year"]
    file_log = pd.DataFrame(
        [(load.contract.name, c.file, sha[c.file], c.rows_in, c.rows_loaded, c.rows_quarantined, run_id, c.year)
         for c in load.result.by_year],
        columns=columns,
    )
    file_log["year"] = file_log["year"].astype("Int64")
    return file_log


def write_load(con: duckdb.DuckDBPyConnection, load: SourceLoad, run_id: str | None = None) -> IngestResult:
    """Write a prepared load (one transaction) and warn about what it leaves unchecked or empties on purpose."""
    name = load.contract.name
    for year, (rows, files_before) in load.emptied.items():
        LOG.warning(f"{name}: {year} emptied on purpose (allow_empty_years): {rows} rows of {', '.join(files_before)} removed")
    if load.result.unchecked_area_years:
        LOG.warning(unchecked_warning(name, load.result.unchecked_area_years))
    write_source(con, load.contract, load.loaded, load.quarantined, _file_log(load, run_id), years=load.years,
                 files_read=load.files_read)
    load.result.never_delivered_areas = never_delivered_areas(con, load.contract, load.years)
    if load.result.never_delivered_areas:
        LOG.warning(never_delivered_warning(name, load.result.never_delivered_areas))
    return load.result


def ingest_source(
    contract: SourceContract,
    extract_dir: Path,
    con: duckdb.DuckDBPyConnection,
    scope: Scope = Scope(),
    run_id: str | None = None,
    years: Collection[int] | None = None,
    allow_empty_years: Collection[int] = (),
) -> IngestResult:
    """Validate the extract files of a source and load them; raise ExtractError and write nothing on a bad file.

    ``years`` None (or every year of ``scope``): ``raw`` and ``quarantine`` are replaced as a whole.
    Otherwise only those years are loaded: their rows replace the earlier rows of those years, in one
    transaction, and every other year is left as it was. Area codes are checked against the division in
    ``raw.gebiedsindeling`` as it is now (load that first); a year it has no rows for is not checked (a warning).

    A year that had rows in ``raw`` and would have none, because the files they came from are no longer
    in the folder (renamed, misnamed, deleted), is refused with ``MissingExtractError`` (nothing written),
    unless it is in ``allow_empty_years``. (A year whose new rows are all quarantined is not refused here:
    the drop folder restores the extract such a file replaced, ``pipelines/landing``.)
    """
    return write_load(con, prepare_source(contract, extract_dir, con, scope, years, allow_empty_years), run_id)


def completeness_problems(result: IngestResult, every_year: bool, years: list[int]) -> list[str]:
    """What loaded without an error but is probably incomplete, one sentence each: a file that lacks
    optional contract columns while it has columns the contract does not know (a renamed column
    loads as empty), and, for a source expected every year, a year of ``years`` without any row
    (a missing file)."""
    problems = [
        f"{f.file}: contract column(s) {', '.join(f.absent_optional_columns)} absent while column(s) "
        f"{', '.join(f.ignored_columns)} are not in the contract: renamed? The absent column(s) stay empty "
        "for this file's rows."
        for f in result.files if f.absent_optional_columns and f.ignored_columns
    ]
    if every_year:
        empty = [y for y in years if result.year_totals(y)[0] == 0]
        if empty:
            near = f"; not read, though named almost so: {', '.join(result.near_misses)}" if result.near_misses else ""
            problems.append(f"no rows at all for {', '.join(map(str, empty))}: is that year's file missing? "
                            f"(files: {', '.join(f.file for f in result.files) or 'none'}{near})")
    return problems
