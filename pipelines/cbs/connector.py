"""Fetch CBS tables into contract extract files: the functions a pipeline (or a person) calls.

    client = CbsClient(cache_dir=Path("data/cbs_cache"))
    fetch_kerncijfers(client, 2024, ["GM0599"], Path("data/extracts"))   # kerncijfers_wijken_en_buurten_2024.csv
    fetch_jeugdzorg(client, [2024], ["GM0599"], Path("data/extracts"))    # fills the youth-care columns of it

No Dagster here; the files then go through ``pipelines.ingest.ingest_source`` like any extract.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.cbs.client import CbsClient
from pipelines.cbs.extract import MergeReport, merge_into_extract, write_extract
from pipelines.cbs.mapping import MappingFile, check, load_mapping
from pipelines.cbs.metadata import TableMetadata

KERNCIJFERS_MAPPING = "cbs_kerncijfers"
JEUGDZORG_MAPPING = "cbs_jeugdzorg"


@dataclass(frozen=True)
class ExtractReport:
    table: str
    year: int
    path: Path
    rows: int
    columns_left_out: tuple[str, ...]  # optional contract columns the table does not give (mapping 'unmapped')
    metadata: TableMetadata


def _mapping(mapping: MappingFile | Path | str) -> MappingFile:
    return mapping if isinstance(mapping, MappingFile) else load_mapping(mapping)


def fetch_kerncijfers(
    client: CbsClient, year: int, gemeenten: list[str], extract_dir: Path, mapping: MappingFile | Path | str = KERNCIJFERS_MAPPING
) -> ExtractReport:
    """Fetch the key-figures table of ``year`` for the gemeenten and their wijken and buurten; write its extract."""
    mapping = _mapping(mapping)
    contract = mapping.load_contract()
    table = mapping.for_year(year)
    meta = client.metadata(table.table)
    check(mapping, table, meta, contract)
    select = [k for k in table.columns if k != "ID" and meta.properties[k].type == "Topic"]
    rows = client.typed_dataset(table.table, meta, gemeenten=gemeenten, select=select)
    path = write_extract(rows, meta, mapping, table, contract, year, extract_dir)
    return ExtractReport(table.table, year, path, len(rows), table.unmapped, meta)


def fetch_jeugdzorg(
    client: CbsClient, years: list[int], gemeenten: list[str], extract_dir: Path,
    mapping: MappingFile | Path | str = JEUGDZORG_MAPPING, target: MappingFile | Path | str = KERNCIJFERS_MAPPING,
) -> MergeReport:
    """Fetch the youth-care table for the gemeenten and years; fill the youth-care columns of the key-figures extracts."""
    mapping = _mapping(mapping)
    target = _mapping(target)
    contract = mapping.load_contract()
    if target.contract != mapping.contract:
        raise ValueError(f"{mapping.path} fills contract {mapping.contract}, {target.path} writes {target.contract}")
    report = None
    for table in mapping.tables:
        meta = client.metadata(table.table)
        check(mapping, table, meta, contract)
        rows = client.typed_dataset(table.table, meta, gemeenten=gemeenten, years=years, select=list(table.columns))
        report = merge_into_extract(rows, meta, mapping, table, contract, extract_dir, target.output, report or MergeReport(table.table))
    return report
