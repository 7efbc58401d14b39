"""CBS StatLine connector (OData v3), plain Python: fetch tables with paging, retries and a cache,
type them by their DataProperties, map their columns to a contract through a mapping file in
``data_contracts/mappings/`` and write contract extract files. See README.md in this folder."""

from pipelines.cbs.client import CbsClient
from pipelines.cbs.connector import ExtractReport, fetch_jeugdzorg, fetch_kerncijfers
from pipelines.cbs.errors import (
    CbsError, CbsHttpError, CbsMappingError, CbsNotRecordedError, CbsResponseError, CbsUnavailableError,
)
from pipelines.cbs.mapping import load_mapping
from pipelines.cbs.metadata import TableMetadata, parse_data_properties
from pipelines.cbs.transport import RecordingTransport, ReplayTransport, Transport, UrllibTransport

__all__ = [
    "CbsClient", "CbsError", "CbsHttpError", "CbsMappingError", "CbsNotRecordedError", "CbsResponseError", "CbsUnavailableError", "ExtractReport",
    "RecordingTransport", "ReplayTransport", "TableMetadata", "Transport", "UrllibTransport", "fetch_jeugdzorg",
    "fetch_kerncijfers", "load_mapping", "parse_data_properties",
]
