"""Publishing the marts for BI tools: an immutable serving copy, swapped in atomically.

The warehouse has one writer at a time (DuckDB allows one writing process), so BI tools never read
it. After a run whose checks passed, ``publish_marts`` copies every table and view of schema
``marts`` of the warehouse into a new *release*::

    <serving dir>/
        current -> releases/20250101T120000123456Z_<run id>    (relative symlink)
        releases/<timestamp>_<run id>/
            factorenmodel.duckdb     schema marts (one table per mart) and meta.release
            parquet/<mart>.parquet   one Parquet file per mart, the same rows
            manifest.json            run id, time, tables, row counts, sizes, sha256
            README.txt               what the files are

A release is written under ``<name>.partial``, flushed to disk, renamed to its final name, and only
then made current by replacing the ``current`` symlink with ``os.replace`` (an atomic rename on
POSIX). Readers open ``current/factorenmodel.duckdb`` read-only (or ``current/parquet/*.parquet``):

- a reader never sees a half-written release: ``current`` points at a complete one or the previous
  one, never at anything in between; a release is never modified after it is made current;
- a publish that fails or is killed at any point leaves ``current`` and its release untouched; the
  next publish removes what the broken one left (``*.partial`` folders, releases never made
  current);
- readers never block publishing: a new release is a new file, so no lock is shared with readers.
  The oldest releases beyond ``keep`` are deleted after the swap (never the current one); a reader
  still holding a connection to a deleted release keeps reading it (POSIX keeps an open file alive).

The warehouse is attached READ_ONLY from a fresh in-memory connection, so publishing never writes
it; it must not be open for writing at the same time (in the Dagster run, publishing runs after dbt,
in the ``warehouse`` pool). One publish at a time per serving folder is enforced with a lock file.

No Dagster here: the asset in ``pipelines/defs/publish`` calls ``publish_marts``.
"""

from pipelines.publish.serving import (
    CURRENT,
    DATABASE_FILE,
    MARTS_SCHEMA,
    PublishError,
    PublishResult,
    PublishedTable,
    current_release,
    publish_marts,
)

__all__ = [
    "CURRENT",
    "DATABASE_FILE",
    "MARTS_SCHEMA",
    "PublishError",
    "PublishResult",
    "PublishedTable",
    "current_release",
    "publish_marts",
]
