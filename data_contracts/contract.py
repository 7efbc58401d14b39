"""Read a source contract (ODCS v3 YAML) into the small model the pipeline works with.

The YAML files in ``data_contracts/sources/`` are the single source of truth for every source
extract: column names, logical types, required columns, keys, ranges, patterns, cross-column
rules and the file format (delimiter, decimal mark, missing-value markers, encoding). The pandera
schema (``pandera_schema.py``), the raw DuckDB table and the dbt source documentation are all
derived from what this module reads, so they cannot drift apart.

ODCS fields used: ``schema[0].properties[*]`` (name, logicalType, required, primaryKey,
primaryKeyPosition, logicalTypeOptions.minimum/maximum/pattern, description) and
``schema[0].quality[*]`` with ``rule: columnLessOrEqual`` (``implementation: "a + b <= c"``).
Project-specific settings are ODCS ``customProperties`` (listed in ``data_contracts/README.md``).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from open_data_contract_standard.model import OpenDataContractStandard

SOURCES_DIR = Path(__file__).parent / "sources"

LOGICAL_TYPES = ("integer", "number", "string")
AREA_LEVELS = ("gemeente", "wijk", "buurt", "any")
AREA_CODE_PATTERNS = {
    "gemeente": r"^GM[0-9]{4}$",
    "wijk": r"^WK[0-9]{6}$",
    "buurt": r"^BU[0-9]{8}$",
    "any": r"^(GM[0-9]{4}|WK[0-9]{6}|BU[0-9]{8})$",
}


class ContractError(ValueError):
    """A contract file is malformed: names the file and what is wrong."""


@dataclass(frozen=True)
class ColumnSpec:
    """One contracted column of a source extract."""

    name: str
    logical_type: str
    required: bool
    description: str
    primary_key_position: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    area_code: str | None = None  # area level the column holds a code of, if any
    is_year: bool = False
    from_file_name: bool = False  # value comes from the file name, not from a column

    @property
    def is_primary_key(self) -> bool:
        return self.primary_key_position is not None


@dataclass(frozen=True)
class LessOrEqualRule:
    """Cross-column rule ``sum(left) <= sum(right)``, skipped where any operand is missing."""

    left: tuple[str, ...]
    right: tuple[str, ...]
    description: str

    @property
    def expression(self) -> str:
        return f"{' + '.join(self.left)} <= {' + '.join(self.right)}"


@dataclass(frozen=True)
class FileFormat:
    """How an extract file of this source is written."""

    file_name_pattern: str
    delimiter: str = ";"
    decimal: str = ","
    encoding: str = "utf-8"
    missing_markers: tuple[str, ...] = (".", "")
    extra_columns: str = "ignore"  # "ignore" (reported) or "fail"
    year_from_file_name: str | None = None  # regex with a named group "year"
    every_year: bool = True  # rows expected for every configured year (a year without any is reported)

    def matches(self, file_name: str) -> bool:
        """Whether a file is named as this source's extracts are: ``file_name_pattern``, in any case
        (``GGD_2023.csv`` is a ``ggd_*.csv``; Windows and many export tools do not keep case)."""
        return fnmatch.fnmatchcase(file_name.lower(), self.file_name_pattern.lower())


@dataclass(frozen=True)
class SourceContract:
    """Everything the pipeline needs to know about one source extract."""

    name: str
    version: str
    title: str
    description: str
    path: Path
    file_format: FileFormat
    columns: tuple[ColumnSpec, ...]
    rules: tuple[LessOrEqualRule, ...] = field(default_factory=tuple)
    area_level: str = "any"
    area_scope: str = "deployment"  # "deployment": codes must lie in the configured gemeenten

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def file_columns(self) -> list[ColumnSpec]:
        """Columns that must be present in the file (not derived from its name)."""
        return [c for c in self.columns if not c.from_file_name]

    @property
    def primary_key(self) -> list[str]:
        keyed = [c for c in self.columns if c.is_primary_key]
        return [c.name for c in sorted(keyed, key=lambda c: c.primary_key_position)]

    @property
    def year_column(self) -> str:
        years = [c.name for c in self.columns if c.is_year]
        if len(years) != 1:
            raise ContractError(f"{self.path}: exactly one column must have customProperty yearColumn")
        return years[0]

    @property
    def area_column(self) -> str:
        areas = [c.name for c in self.columns if c.area_code]
        if len(areas) != 1:
            raise ContractError(f"{self.path}: exactly one column must have customProperty areaCode")
        return areas[0]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _custom(props: list[Any] | None) -> dict[str, Any]:
    return {p.property: p.value for p in props or []}


def _parse_rule(implementation: str, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    match = re.fullmatch(r"\s*([\w\s+]+?)\s*<=\s*([\w\s+]+?)\s*", implementation or "")
    if not match:
        raise ContractError(f"{where}: rule must read 'a [+ b] <= c [+ d]', got {implementation!r}")
    left, right = (tuple(t.strip() for t in side.split("+")) for side in match.groups())
    return left, right


def _column(prop: Any, where: str) -> ColumnSpec:
    custom = _custom(prop.customProperties)
    options = prop.logicalTypeOptions or {}
    logical_type = prop.logicalType
    if logical_type not in LOGICAL_TYPES:
        raise ContractError(f"{where}: column {prop.name!r} has logicalType {logical_type!r}; allowed: {LOGICAL_TYPES}")
    area_code = custom.get("areaCode")
    if area_code is not None and area_code not in AREA_LEVELS:
        raise ContractError(f"{where}: column {prop.name!r} areaCode {area_code!r}; allowed: {AREA_LEVELS}")
    return ColumnSpec(
        name=prop.name,
        logical_type=logical_type,
        required=bool(prop.required),
        description=(prop.description or "").strip(),
        primary_key_position=prop.primaryKeyPosition if prop.primaryKey else None,
        minimum=options.get("minimum"),
        maximum=options.get("maximum"),
        pattern=options.get("pattern"),
        area_code=area_code,
        is_year=bool(custom.get("yearColumn", False)),
        from_file_name=custom.get("derived") == "fileName",
    )


def parse_contract(path: Path) -> SourceContract:
    """Parse and check one ODCS contract file."""
    try:
        odcs = OpenDataContractStandard.from_file(str(path))
    except Exception as exc:  # pydantic / yaml errors: keep their text, add the file
        raise ContractError(f"{path}: not a valid ODCS v3 contract: {exc}") from exc
    if not odcs.schema_ or len(odcs.schema_) != 1:
        raise ContractError(f"{path}: a source contract describes exactly one schema object")
    table = odcs.schema_[0]
    top = _custom(odcs.customProperties)
    table_custom = _custom(table.customProperties)
    where = f"{path}"
    if "fileNamePattern" not in top:
        raise ContractError(f"{where}: customProperty fileNamePattern is required")
    file_format = FileFormat(
        file_name_pattern=top["fileNamePattern"],
        delimiter=top.get("delimiter", ";"),
        decimal=top.get("decimal", ","),
        encoding=top.get("encoding", "utf-8"),
        missing_markers=tuple(top.get("missingMarkers", [".", ""])),
        extra_columns=top.get("extraColumns", "ignore"),
        year_from_file_name=top.get("yearFromFileName"),
        every_year=bool(top.get("everyYear", True)),
    )
    columns = tuple(_column(p, where) for p in table.properties or [])
    names = {c.name for c in columns}
    rules = []
    for quality in table.quality or []:
        if quality.rule != "columnLessOrEqual":
            raise ContractError(f"{where}: unknown quality rule {quality.rule!r}; allowed: columnLessOrEqual")
        left, right = _parse_rule(quality.implementation, where)
        unknown = [c for c in left + right if c not in names]
        if unknown:
            raise ContractError(f"{where}: rule {quality.implementation!r} names unknown columns {unknown}")
        rules.append(LessOrEqualRule(left, right, (quality.description or "").strip()))
    description = odcs.description
    purpose = getattr(description, "purpose", None) if description is not None else None
    contract = SourceContract(
        name=odcs.name or path.stem,
        version=odcs.version,
        title=table.businessName or table.name,
        description=" ".join((purpose or table.description or "").split()),
        path=path,
        file_format=file_format,
        columns=columns,
        rules=tuple(rules),
        area_level=table_custom.get("areaLevel", "any"),
        area_scope=table_custom.get("areaScope", "deployment"),
    )
    contract.year_column  # noqa: B018 - validates that the contract names one year column
    contract.area_column  # noqa: B018
    return contract


@cache
def load_contracts() -> dict[str, SourceContract]:
    """All source contracts in ``data_contracts/sources``, by source name."""
    contracts = [parse_contract(p) for p in sorted(SOURCES_DIR.glob("*.yaml"))]
    return {c.name: c for c in contracts}


def load_contract(name: str) -> SourceContract:
    contracts = load_contracts()
    if name not in contracts:
        raise ContractError(f"unknown source {name!r}; known sources: {sorted(contracts)}")
    return contracts[name]
