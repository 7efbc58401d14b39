"""Contract-checked ingestion of source extracts into the DuckDB warehouse.

Plain Python, no Dagster: ``ingest_source`` reads every extract file of a source, checks it
against the source's contract and writes ``raw.<source>`` (valid rows) and
``quarantine.<source>`` (invalid rows with file, row number and reason) in one transaction.
A file that cannot be read as the source at all raises ``ExtractError`` and nothing is written.
``ingest_source(..., years=[2023])`` loads one year (a yearly partition) and leaves the others.
"""

from pipelines.ingest.errors import ExtractError, MissingExtractError
from pipelines.ingest.ingest import IngestResult, extract_years, ingest_source, validate_source

__all__ = ["ExtractError", "MissingExtractError", "IngestResult", "extract_years", "ingest_source", "validate_source"]
