"""Write one source's valid and quarantined rows to the warehouse in a single transaction.

``raw.<source>``: the contracted columns in their SQL types plus lineage (file, row number).
``quarantine.<source>``: the same columns as delivered text, the whole record, and the reason.
Both tables are replaced as a whole, so re-running the same extracts gives the same tables.
``meta.ingest_log`` keeps one row per file and run, for monitoring.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from data_contracts.contract import SourceContract

SQL_TYPES = {"integer": "BIGINT", "number": "DOUBLE", "string": "VARCHAR"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def raw_table_ddl(contract: SourceContract) -> str:
    columns = [f"{_quote(c.name)} {SQL_TYPES[c.logical_type]}" for c in contract.columns]
    columns += ["_source_file VARCHAR NOT NULL", "_source_row INTEGER NOT NULL", "_loaded_at TIMESTAMP NOT NULL"]
    return f"CREATE OR REPLACE TABLE raw.{_quote(contract.name)} ({', '.join(columns)})"


def quarantine_table_ddl(contract: SourceContract) -> str:
    columns = [f"{_quote(c.name)} VARCHAR" for c in contract.columns]
    columns += [
        "_source_file VARCHAR NOT NULL",
        "_source_row INTEGER NOT NULL",
        "_raw_record VARCHAR",
        "_reason VARCHAR NOT NULL",
        "_quarantined_at TIMESTAMP NOT NULL",
    ]
    return f"CREATE OR REPLACE TABLE quarantine.{_quote(contract.name)} ({', '.join(columns)})"


INGEST_LOG_DDL = """
CREATE TABLE IF NOT EXISTS meta.ingest_log (
    source VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    rows_in BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    run_id VARCHAR,
    ingested_at TIMESTAMP NOT NULL
)
"""


def write_source(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    loaded: pd.DataFrame,
    quarantined: pd.DataFrame,
    file_log: pd.DataFrame,
) -> None:
    """Replace raw.<source> and quarantine.<source> and append to meta.ingest_log, atomically."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    name = _quote(contract.name)
    raw_columns = ", ".join(_quote(c) for c in contract.column_names)
    con.execute("BEGIN TRANSACTION")
    try:
        for schema in ("raw", "quarantine", "meta"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(raw_table_ddl(contract))
        con.execute(quarantine_table_ddl(contract))
        con.execute(INGEST_LOG_DDL)
        con.register("_loaded_rows", loaded)
        con.execute(
            f"INSERT INTO raw.{name} SELECT {raw_columns}, _source_file, _source_row, ? FROM _loaded_rows",
            [now],
        )
        con.register("_quarantined_rows", quarantined)
        con.execute(
            f"INSERT INTO quarantine.{name} SELECT {raw_columns}, _source_file, _source_row, _raw_record, _reason, ? "
            "FROM _quarantined_rows",
            [now],
        )
        con.register("_file_log", file_log)
        con.execute(
            "INSERT INTO meta.ingest_log SELECT source, source_file, file_sha256, rows_in, rows_loaded, "
            "rows_quarantined, run_id, ? FROM _file_log",
            [now],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for view in ("_loaded_rows", "_quarantined_rows", "_file_log"):
            try:
                con.unregister(view)
            except Exception:  # noqa: BLE001 - view may not have been registered
                pass
