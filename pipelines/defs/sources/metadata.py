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


def year_metadata(result: IngestResult, year: int) -> dict[str, Any]:
    """The counts of one year: the metadata of that year's partition (it overrides the run's totals)."""
    rows_in, loaded, quarantined = result.year_totals(year)
    files = sorted({c.file for c in result.by_year if c.year == year})
    return {
        "rows_in": rows_in,
        "rows_loaded": loaded,
        "rows_quarantined": quarantined,
        "dagster/row_count": loaded,
        "year": year,
        "year_files": ", ".join(files) or "-",
    }


def ingest_metadata(result: IngestResult, contract: SourceContract, years: list[int] | None = None) -> dict[str, Any]:
    """Run-level metadata; with ``years`` also a table of every loaded year's counts."""
    files = [
        {
            "file": f.file,
            "rows in": f.rows_in,
            "loaded": f.rows_loaded,
            "quarantined": f.rows_quarantined,
            "rows of other years": f.rows_other_years,
            "ignored columns": ", ".join(f.ignored_columns) or "-",
            "absent optional columns": ", ".join(f.absent_optional_columns) or "-",
        }
        for f in result.files
        if f.rows_in or result.load_years is None
    ]
    reasons = [{"reason": r, "rows": n} for r, n in result.reasons.most_common()]
    per_year = [dict(zip(("year", "rows in", "loaded", "quarantined"), (y, *result.year_totals(y)))) for y in years or []]
    no_year = result.year_totals(None)
    if no_year[0]:
        per_year.append(dict(zip(("year", "rows in", "loaded", "quarantined"), ("none (quarantined)", *no_year))))
    return {
        "rows_in": result.rows_in,
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "dagster/row_count": result.rows_loaded,
        "dagster/table_name": f"raw.{contract.name}",
        "dagster/column_schema": column_schema(contract),
        "quarantine_table": f"quarantine.{contract.name}",
        "years": ", ".join(str(y) for y in result.years),
        "run_years": "every year" if result.load_years is None else ", ".join(map(str, result.load_years)),
        "rows_per_year": dg.MetadataValue.md(markdown_table(per_year)),
        "rows_of_other_years": result.rows_other_years,
        "rows_without_year": no_year[0],
        "files": dg.MetadataValue.md(markdown_table(files)),
        "quarantine_reasons": dg.MetadataValue.md(markdown_table(reasons)),
        "quarantine_preview": dg.MetadataValue.md(markdown_table(result.quarantine_preview.to_dict("records"))),
        "contract": dg.MetadataValue.path(str(contract.path)),
    }
