"""Write CBS rows as a contract's extract file (';' delimiter, ',' decimals, '.' for missing or
secret values, area codes padded as CBS pads them), and merge a second table into such a file."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_contracts.contract import ColumnSpec, SourceContract
from pipelines.cbs.errors import CbsMappingError
from pipelines.cbs.mapping import MappingFile, TableMapping
from pipelines.cbs.metadata import Property, TableMetadata

MISSING = "."


def format_value(value: Any, spec: ColumnSpec, prop: Property | None, decimal: str = ",") -> str:
    """One cell as the contract's files write it. Text keeps CBS's padding; numbers get CBS's decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, str):
        return value
    if spec.logical_type == "integer" and float(value).is_integer():
        return str(int(value))
    decimals = prop.decimals if prop is not None and prop.decimals else None
    if decimals is None:
        text = repr(float(value)) if not float(value).is_integer() else str(int(value))
    else:
        text = f"{float(value):.{decimals}f}"
    return text.replace(".", decimal)


def write_extract(
    rows: list[dict[str, Any]], meta: TableMetadata, mapping: MappingFile, table: TableMapping, contract: SourceContract,
    year: int, extract_dir: Path,
) -> Path:
    """Write the rows of one key-figures table to ``<extract_dir>/<mapping.output>``; return the path."""
    fmt = contract.file_format
    mapped = {column: key for key, column in table.columns.items()}
    columns = [c for c in contract.file_columns if c.name in mapped]  # contract order; unmapped optional columns left out
    out_rows = []
    for row in rows:
        out_rows.append([format_value(row.get(mapped[c.name]), c, meta.properties.get(mapped[c.name]), fmt.decimal) for c in columns])
    path = Path(extract_dir) / mapping.output.format(year=year)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding=fmt.encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=fmt.delimiter, lineterminator="\n")
        writer.writerow([c.name for c in columns])
        writer.writerows(out_rows)
    tmp.replace(path)
    return path


@dataclass
class MergeReport:
    table: str
    files: list[Path] = field(default_factory=list)
    cells_filled: int = 0
    cells_kept: int = 0  # the extract already had a value: kept
    regions_not_in_extract: list[str] = field(default_factory=list)


def merge_into_extract(
    rows: list[dict[str, Any]], meta: TableMetadata, mapping: MappingFile, table: TableMapping, contract: SourceContract,
    extract_dir: Path, target_output: str, report: MergeReport,
) -> MergeReport:
    """Fill the mapped columns of the contract's extract of each row's year, where the extract has no value."""
    fmt = contract.file_format
    region, period = meta.region_key, meta.period_key
    by_year: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        year = table.year if table.year is not None else int(str(row[period])[:4])
        by_year.setdefault(year, []).append(row)
    for year, year_rows in sorted(by_year.items()):
        path = Path(extract_dir) / target_output.format(year=year)
        if not path.exists():
            raise CbsMappingError(
                f"{mapping.path}: table {table.table} fills columns of {path.name}, which does not exist; "
                f"fetch the key figures of {year} into {extract_dir} first"
            )
        with path.open(encoding=fmt.encoding, newline="") as fh:
            records = list(csv.reader(fh, delimiter=fmt.delimiter))
        header, body = records[0], records[1:]
        for column in table.columns.values():
            if column not in header:
                header.append(column)
                for record in body:
                    record.append(MISSING)
        area = header.index(mapping.area_column)
        index = {record[area].strip(): record for record in body}
        for row in year_rows:
            code = str(row[region]).strip()
            record = index.get(code)
            if record is None:
                report.regions_not_in_extract.append(f"{year}:{code}")
                continue
            for key, column in table.columns.items():
                if key == region or key == period:
                    continue
                position = header.index(column)
                if record[position].strip() not in fmt.missing_markers:
                    report.cells_kept += 1
                    continue
                spec = contract.column(column)
                record[position] = format_value(row[key], spec, meta.properties.get(key), fmt.decimal)
                report.cells_filled += record[position] != MISSING
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=fmt.delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(body)
        path.write_text(buffer.getvalue(), encoding=fmt.encoding)
        report.files.append(path)
    return report
