"""The drop folder for municipal extracts (CSV, XLSX, Parquet), plain Python: recognise each file's
source by its contract, stage it into the extract folder in the contract's CSV form, and archive it
with a manifest after loading or reject it with an error report. See ``flow.py`` for the layout;
the Dagster sensor is in ``pipelines/defs/landing/``."""

from pipelines.landing.detect import detect_source
from pipelines.landing.errors import LandingError
from pipelines.landing.flow import (
    DroppedFile,
    Intake,
    Pending,
    archived_hashes,
    fail_source,
    finish_source,
    ingest_staged,
    pending_files,
    read_manifest,
    reject,
    scan,
    stage,
    take_in,
    withdraw_quarantined,
)

__all__ = [
    "DroppedFile", "Intake", "LandingError", "Pending", "archived_hashes", "detect_source", "fail_source", "finish_source",
    "ingest_staged", "pending_files", "read_manifest", "reject", "scan", "stage", "take_in", "withdraw_quarantined",
]
