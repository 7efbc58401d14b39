"""Versioned mapping files (``data_contracts/mappings/*.yaml``): which CBS column feeds which contract column.

A mapping file names its target contract and, per CBS table (one per year for the key-figures
tables), ``columns``: CBS key -> contract column. ``mode: extract`` writes the contract's extract
file from the table; every required contract column must be mapped and every optional one either
mapped or listed under ``unmapped``. ``mode: merge`` fills mapped columns of an extract that
another mapping wrote (the youth-care table fills the youth-care columns of the key figures).
``check`` compares a mapping with the table's live DataProperties and with the contract, and
fails with a message that names the table, the key and what to change in which file.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from data_contracts.contract import SourceContract, load_contract
from pipelines.cbs import odata
from pipelines.cbs.errors import CbsMappingError
from pipelines.cbs.metadata import TableMetadata

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "data_contracts" / "mappings"
MODES = ("extract", "merge")


@dataclass(frozen=True)
class TableMapping:
    table: str
    year: int | None  # the reporting year of a one-year table; None for a table with a time dimension
    columns: dict[str, str]  # CBS key -> contract column
    unmapped: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class MappingFile:
    path: Path
    name: str
    version: str
    contract: str
    mode: str
    tables: tuple[TableMapping, ...]
    output: str | None = None  # extract file name with {year}
    area_column: str | None = None  # merge: the contract column whose codes the table's regions join on

    def for_year(self, year: int) -> TableMapping:
        found = [t for t in self.tables if t.year == year]
        if not found:
            known = sorted(t.year for t in self.tables if t.year is not None)
            raise CbsMappingError(
                f"{self.path}: no CBS table for year {year}; mapped years: {known}. Add the year's table "
                f"(its identifier and CBS key -> contract column) under 'tables:' (see pipelines/cbs/README.md)"
            )
        return found[0]

    def for_table(self, table: str) -> TableMapping:
        for t in self.tables:
            if t.table == table:
                return t
        raise CbsMappingError(f"{self.path}: table {table!r} is not mapped; mapped tables: {[t.table for t in self.tables]}")

    def load_contract(self) -> SourceContract:
        return load_contract(self.contract)


def _fail(path: Path, problem: str) -> CbsMappingError:
    return CbsMappingError(f"{path}: {problem}")


def load_mapping(path_or_name: Path | str) -> MappingFile:
    path = Path(path_or_name)
    if not path.suffix:
        path = MAPPINGS_DIR / f"{path_or_name}.yaml"
    try:
        raw: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CbsMappingError(f"{path}: cannot read the mapping file: {exc}") from None
    for key in ("mapping", "version", "contract", "mode", "tables"):
        if key not in (raw or {}):
            raise _fail(path, f"key {key!r} is required (keys: mapping, version, contract, mode, tables)")
    if raw["mode"] not in MODES:
        raise _fail(path, f"mode {raw['mode']!r}; allowed: {MODES}")
    tables = []
    for i, entry in enumerate(raw["tables"]):
        try:
            odata.check_table_id(str(entry.get("table")))
        except ValueError as exc:
            raise _fail(path, f"tables[{i}]: {exc}") from None
        columns = entry.get("columns") or {}
        if not isinstance(columns, dict) or not columns:
            raise _fail(path, f"table {entry['table']}: 'columns' must map CBS keys to contract columns")
        targets = list(columns.values())
        doubles = sorted({t for t in targets if targets.count(t) > 1})
        if doubles:
            raise _fail(path, f"table {entry['table']}: contract column(s) {doubles} are fed by more than one CBS key")
        tables.append(
            TableMapping(
                table=entry["table"],
                year=int(entry["year"]) if entry.get("year") is not None else None,
                columns={str(k): str(v) for k, v in columns.items()},
                unmapped=tuple(entry.get("unmapped") or ()),
                title=entry.get("title", ""),
            )
        )
    years = [t.year for t in tables if t.year is not None]
    if len(years) != len(set(years)):
        raise _fail(path, "two tables are mapped for the same year")
    mapping = MappingFile(
        path=path, name=raw["mapping"], version=str(raw["version"]), contract=raw["contract"], mode=raw["mode"],
        tables=tuple(tables), output=raw.get("output"), area_column=raw.get("area_column"),
    )
    contract = mapping.load_contract()
    if mapping.mode == "extract":
        if not mapping.output or "{year}" not in mapping.output:
            raise _fail(path, "mode extract needs 'output', a file name with {year}")
        if not fnmatch.fnmatch(mapping.output.format(year=2000), contract.file_format.file_name_pattern):
            raise _fail(path, f"output {mapping.output!r} does not match the contract's fileNamePattern {contract.file_format.file_name_pattern!r}")
    elif mapping.area_column not in contract.column_names:
        raise _fail(path, f"mode merge needs 'area_column', a column of contract {contract.name} (e.g. {contract.area_column})")
    return mapping


def check(mapping: MappingFile, table: TableMapping, meta: TableMetadata, contract: SourceContract) -> None:
    """Fail with a clear message where the table's columns or the contract no longer fit the mapping."""
    where = f"CBS table {table.table}" + (f" ({meta.title})" if meta.title else "")
    contract_columns = {c.name: c for c in contract.file_columns}
    for key, column in table.columns.items():
        if key != "ID" and key not in meta.properties:
            raise CbsMappingError(
                f"{where} has no column {key!r}, which {mapping.path} maps to contract column {column!r}: CBS changed "
                f"the table's columns. Find the new key in {odata.entity_url(table.table, 'DataProperties')} and update "
                f"'columns:' of table {table.table} in {mapping.path} (or move {column!r} to 'unmapped:' if it is gone)."
            )
        if column not in contract_columns:
            raise CbsMappingError(
                f"{mapping.path}: table {table.table} maps {key!r} to {column!r}, which is not a column of contract "
                f"{contract.name} ({contract.path}); use one of the contract's columns."
            )
        spec, prop = contract_columns[column], meta.properties.get(key)
        if prop is not None and spec.logical_type in ("integer", "number") and prop.kind == "string":
            raise CbsMappingError(
                f"{where}: column {key!r} is {prop.datatype or prop.type} (text) but {mapping.path} maps it to the "
                f"{spec.logical_type} column {column!r} of contract {contract.name}; map a numeric key instead."
            )
    if mapping.mode != "extract":
        return
    mapped = set(table.columns.values())
    for spec in contract.file_columns:
        if spec.name in mapped:
            continue
        if spec.required:
            raise CbsMappingError(
                f"{mapping.path}: required column {spec.name!r} of contract {contract.name} is not mapped for CBS table "
                f"{table.table}; add the CBS key that holds it under 'columns:' of table {table.table}."
            )
        if spec.name not in table.unmapped:
            raise CbsMappingError(
                f"{mapping.path}: column {spec.name!r} of contract {contract.name} is neither mapped nor listed under "
                f"'unmapped:' for CBS table {table.table}; map the CBS key that holds it, or list it under 'unmapped:'."
            )
