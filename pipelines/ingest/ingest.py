"""Ingest one source: find its extract files, read, parse and validate them, then load.

Every row of every file ends up either in ``raw.<source>`` or in ``quarantine.<source>`` with a
reason; ``IngestResult`` counts them per file so that rows in = rows loaded + rows quarantined
can be checked. Any file-level problem raises ``ExtractError`` before anything is written.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from data_contracts.contract import SourceContract
from data_contracts.pandera_schema import Scope
from pipelines.ingest.errors import ExtractError
from pipelines.ingest.load import write_source
from pipelines.ingest.parse import LINEAGE_COLUMNS, parse_extract
from pipelines.ingest.read import read_extract_file
from pipelines.ingest.validate import row_reasons


@dataclass(frozen=True)
class FileSummary:
    file: str
    sha256: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    ignored_columns: tuple[str, ...] = ()
    absent_optional_columns: tuple[str, ...] = ()


@dataclass
class IngestResult:
    """What happened to every row of a source's extracts."""

    source: str
    files: list[FileSummary]
    reasons: Counter = field(default_factory=Counter)  # reason kind -> rows
    quarantine_preview: pd.DataFrame = field(default_factory=pd.DataFrame)
    years: list[int] = field(default_factory=list)

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
    """The files of this source in a folder, by the contract's file name pattern."""
    if not extract_dir.is_dir():
        raise ExtractError(extract_dir, "the extract folder does not exist")
    pattern = contract.file_format.file_name_pattern
    files = sorted(p for p in extract_dir.iterdir() if p.is_file() and fnmatch.fnmatch(p.name, pattern))
    if not files:
        raise ExtractError(extract_dir, f"holds no extract of source {contract.name!r} (files named {pattern!r})")
    return files


def _reason_kind(reason: str) -> str:
    """A reason without the offending value, to count reasons by kind."""
    return re.sub(r" \(value .*\)$", "", reason)


def validate_source(
    contract: SourceContract, files: list[Path], scope: Scope = Scope()
) -> tuple[pd.DataFrame, pd.DataFrame, IngestResult]:
    """Split the rows of the given files into loadable and quarantined rows; write nothing."""
    records = [read_extract_file(path, contract) for path in files]
    parsed = parse_extract(records, contract)
    reasons = row_reasons(parsed, contract, scope)
    bad = pd.Series(parsed.text.index.isin(list(reasons)), index=parsed.text.index)

    loaded = parsed.typed[~bad].copy()
    loaded["_source_file"] = parsed.text.loc[~bad, "_source_file"]
    loaded["_source_row"] = parsed.text.loc[~bad, "_source_row"].astype("int64")
    quarantined = parsed.text[bad].copy()
    quarantined["_source_row"] = quarantined["_source_row"].astype("int64")
    quarantined["_reason"] = ["; ".join(reasons[i]) for i in quarantined.index]

    summaries = []
    for rec in records:
        in_file = parsed.text["_source_file"] == rec.path.name
        summaries.append(
            FileSummary(
                file=rec.path.name,
                sha256=hashlib.sha256(rec.path.read_bytes()).hexdigest(),
                rows_in=len(rec.rows),
                rows_loaded=int((in_file & ~bad).sum()),
                rows_quarantined=int((in_file & bad).sum()),
                ignored_columns=tuple(rec.ignored_columns),
                absent_optional_columns=tuple(rec.absent_optional_columns),
            )
        )
    kinds = Counter(_reason_kind(r) for rs in reasons.values() for r in rs)
    preview_columns = ["_source_file", "_source_row", "_reason"]
    result = IngestResult(
        source=contract.name,
        files=summaries,
        reasons=kinds,
        quarantine_preview=quarantined[preview_columns].head(20).reset_index(drop=True),
        years=sorted(int(y) for y in loaded[contract.year_column].dropna().unique()),
    )
    return loaded[[*contract.column_names, "_source_file", "_source_row"]], quarantined[
        [*contract.column_names, *LINEAGE_COLUMNS, "_reason"]
    ], result


def ingest_source(
    contract: SourceContract,
    extract_dir: Path,
    con: duckdb.DuckDBPyConnection,
    scope: Scope = Scope(),
    run_id: str | None = None,
) -> IngestResult:
    """Validate every extract file of a source and load it; raise ExtractError and write nothing on a bad file."""
    files = find_extract_files(contract, extract_dir)
    loaded, quarantined, result = validate_source(contract, files, scope)
    file_log = pd.DataFrame(
        [
            {
                "source": contract.name,
                "source_file": f.file,
                "file_sha256": f.sha256,
                "rows_in": f.rows_in,
                "rows_loaded": f.rows_loaded,
                "rows_quarantined": f.rows_quarantined,
                "run_id": run_id,
            }
            for f in result.files
        ]
    )
    write_source(con, contract, loaded, quarantined, file_log)
    return result
