"""Which source is a dropped file? Its contract's file name pattern first, then its header.

A file named like a contract's ``fileNamePattern`` (the extension may be .csv, .xlsx or .parquet)
is that source. Otherwise the file's header is compared with every active contract: the sources
whose required columns all appear qualify, and the one sharing the most columns with the header
wins; a tie or no candidate is an error that says what was compared.
"""

from __future__ import annotations

import csv
import fnmatch
import io
from collections.abc import Mapping
from pathlib import Path

import duckdb

from data_contracts.contract import SourceContract
from pipelines.landing.errors import LandingError

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise LandingError(f"has extension {path.suffix!r}; the drop folder takes {', '.join(FORMATS)}")
    return fmt


def csv_name(path: Path) -> str:
    """The file's name with a .csv extension (the form in which it is staged)."""
    return path.stem + ".csv"


def match_by_name(path: Path, contracts: Mapping[str, SourceContract]) -> list[str]:
    name = csv_name(path).lower()
    return [n for n, c in contracts.items() if fnmatch.fnmatch(name, c.file_format.file_name_pattern.lower())]


def read_header(path: Path) -> list[str]:
    fmt = file_format(path)
    if fmt == "csv":
        data = path.read_bytes()[:65536]
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        text = data.decode("utf-8", errors="replace")
        first = text.split("\n", 1)[0].rstrip("\r")
        delimiter = max((";", ",", "\t", "|"), key=first.count)
        return [h.strip() for h in next(csv.reader(io.StringIO(first), delimiter=delimiter), [])]
    if fmt == "xlsx":
        import pandas as pd

        try:
            return [str(c).strip() for c in pd.read_excel(path, sheet_name=0, nrows=0, engine="openpyxl").columns]
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook
            raise LandingError(f"cannot be read as an Excel workbook: {exc}") from None
    try:
        with duckdb.connect() as con:
            rows = con.execute("DESCRIBE SELECT * FROM read_parquet($1)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise LandingError(f"cannot be read as a Parquet file: {exc}") from None
    return [r[0] for r in rows]


def detect_source(path: Path, contracts: Mapping[str, SourceContract]) -> str:
    """The name of the source this file belongs to; LandingError when it cannot be told."""
    file_format(path)
    by_name = match_by_name(path, contracts)
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise LandingError(f"matches the file name patterns of several sources: {', '.join(sorted(by_name))}")
    header = read_header(path)
    present = set(header)
    scored = []
    closest = None
    for name, contract in contracts.items():
        required = [c.name for c in contract.file_columns if c.required]
        missing = [c for c in required if c not in present]
        shared = len(present & {c.name for c in contract.file_columns})
        if not missing:
            scored.append((shared, name))
        elif closest is None or len(missing) < len(closest[1]):
            closest = (name, missing)
    if not scored:
        patterns = ", ".join(f"{c.file_format.file_name_pattern} ({n})" for n, c in sorted(contracts.items()))
        hint = f" The closest is {closest[0]}, which misses {', '.join(closest[1][:8])}." if closest else ""
        raise LandingError(
            f"is not recognised as any active source: its name matches none of the patterns {patterns}, and its "
            f"header ({', '.join(header[:12])}) lacks required columns of every contract.{hint} Rename the file to "
            "its source's pattern or export it with the contract's column names."
        )
    scored.sort(reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        tied = [n for s, n in scored if s == scored[0][0]]
        raise LandingError(f"has a header that fits several sources equally ({', '.join(tied)}); rename it to its source's file name pattern")
    return scored[0][1]
