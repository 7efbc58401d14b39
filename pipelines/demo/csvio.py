"""Write extract files the way the contracts say: ';' delimiter, ',' decimals, '.' for missing, UTF-8.

Rows are dicts keyed by contract column; the column order is the contract's, and a row that
misses a contracted column or has an extra key is a programming error (raises).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from data_contracts.contract import load_contract

MISSING = "."


def fmt_int(value: float | int | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return str(int(round(value)))


def fmt_dec(value: float | None, decimals: int = 1) -> str:
    if value is None or math.isnan(value):
        return MISSING
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace(".", ",")


def contract_file_columns(source: str) -> list[str]:
    return [c.name for c in load_contract(source).file_columns]


def write_extract(path: Path, source: str, rows: list[dict[str, str]]) -> int:
    """Write one extract file with exactly the contract's file columns; return the number of data rows."""
    columns = contract_file_columns(source)
    for row in rows:
        if set(row) != set(columns):
            raise ValueError(f"{path.name}: row keys {sorted(set(row) ^ set(columns))} differ from the contract")
    return write_table(path, columns, [[row[c] for c in columns] for row in rows], delimiter=";")


def write_table(path: Path, columns: list[str], rows: list[list[str]], delimiter: str = ",") -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return len(rows)


def write_buurt_counts(world, counts: dict[str, np.ndarray], source: str, path: Path) -> int:
    """Write per-buurt counts (atoms x years arrays summed to each year's buurt codes) as one extract."""
    return write_extract(path, source, buurt_count_rows(world, counts))


def buurt_count_rows(world, counts: dict[str, np.ndarray]) -> list[dict[str, str]]:
    """Rows (jaar, buurtcode, counts...) of every buurt code of every year, sorted by year and code."""
    rows = []
    for t, year in enumerate(world.years):
        division = world.geo.division(year)
        n = len(division.codes)
        sums = {k: np.bincount(division.code_of_atom, weights=arr[:, t], minlength=n).round().astype(np.int64).tolist()
                for k, arr in counts.items()}
        for i, code in enumerate(division.codes):
            row = {"jaar": str(year), "buurtcode": code}
            row.update({k: str(v[i]) for k, v in sums.items()})
            rows.append(row)
    return rows
