"""Asset metadata for ingestion results: counts the UI plots over time and readable tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg

from data_contracts.contract import SourceContract
from pipelines.ingest import IngestResult

DAGSTER_TYPES = {"integer": "int", "number": "float", "string": "string"}


def markdown_table(rows: Iterable[Mapping[str, Any]]) -> str:
    rows = list(rows)
    if not rows:
        return "_none_"
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(str(row[h]).replace("|", "\\|") for h in header) + " |")
    return "\n".join(lines)


def column_schema(contract: SourceContract) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=DAGSTER_TYPES[c.logical_type],
                description=c.description,
                constraints=dg.TableColumnConstraints(nullable=not c.required),
            )
            for c in contract.columns
        ]
    )


def ingest_metadata(result: IngestResult, contract: SourceContract) -> dict[str, Any]:
    files = [
        {
            "file": f.file,
            "rows in": f.rows_in,
            "loaded": f.rows_loaded,
            "quarantined": f.rows_quarantined,
            "ignored columns": ", ".join(f.ignored_columns) or "-",
            "absent optional columns": ", ".join(f.absent_optional_columns) or "-",
        }
        for f in result.files
    ]
    reasons = [{"reason": r, "rows": n} for r, n in result.reasons.most_common()]
    return {
        "rows_in": result.rows_in,
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "dagster/row_count": result.rows_loaded,
        "dagster/table_name": f"raw.{contract.name}",
        "dagster/column_schema": column_schema(contract),
        "quarantine_table": f"quarantine.{contract.name}",
        "years": ", ".join(str(y) for y in result.years),
        "files": dg.MetadataValue.md(markdown_table(files)),
        "quarantine_reasons": dg.MetadataValue.md(markdown_table(reasons)),
        "quarantine_preview": dg.MetadataValue.md(markdown_table(result.quarantine_preview.to_dict("records"))),
        "contract": dg.MetadataValue.path(str(contract.path)),
    }
