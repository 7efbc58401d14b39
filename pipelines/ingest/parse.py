"""Turn the text of extract files into typed columns, as the contract says, cell by cell.

Missing markers ('.' and empty cells in CBS style) become nulls; numbers are read with the
source's decimal mark. A cell that cannot be read gets a reason naming the column and the value;
its row is later quarantined. Each distinct value of a column is read once (``by_distinct_value``):
a column of a national extract holds far fewer distinct values than rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

from data_contracts.contract import ColumnSpec, SourceContract
from data_contracts.pandera_schema import PANDAS_DTYPES
from pipelines.ingest.read import FileRecords

LINEAGE_COLUMNS = ["_source_file", "_source_row", "_raw_record"]


@dataclass
class ParsedExtract:
    """All rows of a source's files: the text as delivered and stripped, the typed values, and cell problems."""

    text: pd.DataFrame  # contracted columns as text, plus LINEAGE_COLUMNS (as text, but _source_row: int64)
    stripped: pd.DataFrame  # contracted columns as text without surrounding whitespace (<NA> where text has it), same index
    typed: pd.DataFrame  # contracted columns in their pandas dtypes, same index
    cell_problems: dict[tuple[int, str], str]  # (row index, column) -> reason
    row_problems: dict[int, str]  # row index -> reason (e.g. truncated row)


def records_to_text_frame(files: list[FileRecords], contract: SourceContract) -> tuple[pd.DataFrame, dict[int, str]]:
    """Stack the files' rows into one text frame with the contracted columns and lineage."""
    frames = []
    row_problems: dict[int, str] = {}
    offset = 0
    delimiter = contract.file_format.delimiter
    for records in files:
        frame = pd.DataFrame(records.rows, columns=records.header, dtype="string")
        frame = frame.reindex(columns=[c.name for c in contract.file_columns])
        for column in contract.columns:
            if column.from_file_name:
                frame[column.name] = str(records.year_from_name)
        frame["_source_file"] = records.path.name
        frame["_source_row"] = records.line_numbers
        frame["_raw_record"] = [delimiter.join(r) for r in records.rows]
        frames.append(frame)
        row_problems.update({offset + i: reason for i, reason in records.row_problems.items()})
        offset += len(frame)
    text = pd.concat(frames, ignore_index=True)[[*contract.column_names, *LINEAGE_COLUMNS]]
    return text.astype({column: "string" for column in text.columns if column != "_source_row"}), row_problems


def _number_problem(value: str, column: ColumnSpec, decimal: str, missing_markers: tuple[str, ...] = ()) -> str:
    """Why a cell cannot be read; the offending value always comes last, as ``(value '...')``. A
    value of symbols only (a suppression mark such as '*' or '-') names the markers this source
    uses for a missing or withheld figure."""
    other = "." if decimal == "," else ","
    if missing_markers and value and not any(ch.isalnum() for ch in value):
        markers = " or ".join("an empty cell" if m == "" else repr(m) for m in missing_markers)
        return (f"{column.name}: not a number; this source writes a missing or withheld figure as {markers} "
                f"(value {value!r})")
    thousands = _thousands_separator(value, decimal)
    if column.logical_type == "integer":
        if thousands:
            return (f"{column.name}: not a whole number; it looks like {thousands!r} as a thousands separator, "
                    f"which this source does not use: write numbers without it (value {value!r})")
        return f"{column.name}: not a whole number (value {value!r})"
    if other in value and value.lstrip("-").replace(other, "", 1).isdigit():
        also = " (or as a thousands separator, which this source does not use)" if thousands else ""
        return f"{column.name}: uses {other!r} as decimal mark{also} where this source writes {decimal!r} (value {value!r})"
    if thousands:
        return (f"{column.name}: not a number; it looks like {thousands!r} as a thousands separator, which this "
                f"source does not use: write numbers without it (value {value!r})")
    return f"{column.name}: not a number (value {value!r})"


def _thousands_separator(value: str, decimal: str) -> str | None:
    """The thousands separator a value seems to use (``1.080``, ``12 500``, ``1.234.567,5`` where the
    decimal mark is ','), or None: groups of exactly three digits after a 1-3 digit lead."""
    for sep in (".", ",", " ", "\u00a0"):
        if sep == decimal:
            continue
        if re.fullmatch(rf"-?\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+(?:{re.escape(decimal)}\d+)?", value):
            return sep
    return None


Result = TypeVar("Result", pd.Series, pd.DataFrame)


def by_distinct_value(text: pd.Series, function: Callable[[pd.Series], Result]) -> Result:
    """``function(text)`` for an element-wise ``function`` of a "string" Series, computed on the distinct
    values of ``text`` (and <NA>) only and then repeated for every row: the same result, with the same
    index, at the cost of the distinct values."""
    codes, distinct = pd.factorize(text.array)  # <NA> is coded -1: the last of the values below
    values = pd.Series(pd.array([*distinct, pd.NA], dtype="string"))
    result = function(values).take(codes)
    result.index = text.index
    return result


def _parse_column(column: ColumnSpec, decimal: str, missing: tuple[str, ...]) -> Callable[[pd.Series], pd.DataFrame]:
    """The parser of a column's text: a frame of the stripped text, the typed values and the mask of
    unreadable cells (columns ``stripped``, ``typed``, ``unreadable``)."""

    def parse(text: pd.Series) -> pd.DataFrame:
        stripped = text.str.strip()
        is_missing = stripped.isna() | stripped.isin(missing)
        if column.logical_type == "string":
            typed, unreadable = stripped.mask(is_missing), pd.Series(False, index=text.index)
        else:
            if column.logical_type == "integer":
                readable = stripped.str.fullmatch(r"-?\d+").fillna(False).astype(bool)
                numbers = pd.to_numeric(stripped.where(readable & ~is_missing), errors="coerce")
            else:
                escaped = "\\" + decimal
                readable = stripped.str.fullmatch(rf"-?\d+({escaped}\d+)?").fillna(False).astype(bool)
                normalised = stripped.where(readable & ~is_missing).str.replace(decimal, ".", regex=False)
                numbers = pd.to_numeric(normalised, errors="coerce")
            typed, unreadable = numbers, ~is_missing & ~readable
        typed = typed.astype(PANDAS_DTYPES[column.logical_type])
        return pd.DataFrame({"stripped": stripped, "typed": typed, "unreadable": unreadable})

    return parse


def parse_extract(files: list[FileRecords], contract: SourceContract) -> ParsedExtract:
    """Parse every contracted column of every file of one source."""
    text, row_problems = records_to_text_frame(files, contract)
    fmt = contract.file_format
    stripped, typed = {}, {}
    cell_problems: dict[tuple[int, str], str] = {}
    for column in contract.columns:
        parsed = by_distinct_value(text[column.name], _parse_column(column, fmt.decimal, fmt.missing_markers))
        stripped[column.name], typed[column.name] = parsed["stripped"], parsed["typed"]
        unreadable = parsed["unreadable"]
        for index in unreadable[unreadable].index:
            cell_problems[(index, column.name)] = _number_problem(str(text.at[index, column.name]).strip(), column, fmt.decimal,
                                                                   fmt.missing_markers)
    return ParsedExtract(text=text, stripped=pd.DataFrame(stripped, index=text.index),
                         typed=pd.DataFrame(typed, index=text.index), cell_problems=cell_problems, row_problems=row_problems)
