"""Write a dropped file in its contract's CSV form, so the contract-checked ingestion reads it.

CSV files are copied byte for byte (their delimiter, decimal mark and encoding are checked by the
ingestion, which names what is wrong). XLSX (first sheet, via openpyxl) and Parquet (DuckDB's
``read_parquet``) are written as CSV with the contract's delimiter and decimal mark, UTF-8, an
empty field for a missing value; whole numbers without decimals. An XLSX column whose numbers are
all formatted as percentages (Excel stores 23.9% as 0.239) is written as the percentage Excel shows
(23.9): the contracts' percentages run from 0 to 100, and 0.239 would have loaded as 0.239%.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from data_contracts.contract import SourceContract
from pipelines.landing.detect import file_format
from pipelines.landing.errors import LandingError


def _text(value: object, decimal: str) -> str:
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        text = np.format_float_positional(float(value), trim="-")
        return text.replace(".", decimal)
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp)):
        return value.isoformat()
    return str(value).strip()


def percent_columns(path: Path) -> list[int]:
    """The positions of the first sheet's columns whose numbers (below the header) are all formatted
    as percentages in Excel (a number format with '%'); columns without numbers are not."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        sheet = workbook.worksheets[0]
        numeric: dict[int, bool] = {}
        for row in sheet.iter_rows(min_row=2):
            for j, cell in enumerate(row):
                if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    numeric[j] = numeric.get(j, True) and "%" in (cell.number_format or "")
        return sorted(j for j, percent in numeric.items() if percent)
    finally:
        workbook.close()


def read_table(path: Path) -> pd.DataFrame:
    """The first sheet of an XLSX file or the table of a Parquet file, values as Python objects;
    XLSX columns formatted as percentages as the percentages Excel shows (``percent_columns``)."""
    fmt = file_format(path)
    if fmt == "xlsx":
        try:
            frame = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")
            for j in percent_columns(path):
                frame.iloc[:, j] = [round(v * 100, 10) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                                    for v in frame.iloc[:, j]]
            return frame
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook
            raise LandingError(f"cannot be read as an Excel workbook: {exc}") from None
    try:
        with duckdb.connect() as con:
            return con.execute("SELECT * FROM read_parquet($1)", [str(path)]).df()
    except duckdb.Error as exc:
        raise LandingError(f"cannot be read as a Parquet file: {exc}") from None


def to_contract_csv(path: Path, contract: SourceContract, target: Path) -> Path:
    """Write ``path`` as ``target`` in the contract's CSV form; return ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    if file_format(path) == "csv":
        shutil.copyfile(path, tmp)
    else:
        frame = read_table(path)
        fmt = contract.file_format
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=fmt.delimiter, lineterminator="\n")
            writer.writerow([str(c).strip() for c in frame.columns])
            for row in frame.itertuples(index=False, name=None):
                writer.writerow([_text(v, fmt.decimal) for v in row])
    tmp.replace(target)  # atomic: the ingestion never sees half a file
    return target
