"""Write one source's valid and quarantined rows to the warehouse in a single transaction.

``raw.<source>``: the contracted columns in their SQL types plus lineage (file, row number).
``quarantine.<source>``: the same columns as delivered text, the whole record, the reason, and the
year the row belongs to (``_year``, null when its year is unreadable or not a deployment year).
A load of every year replaces both tables as a whole; a load of some years (a yearly partition)
deletes those years' rows and inserts the new ones, and leaves every other year as it was. Either
way re-running the same extracts gives the same tables.
``meta.ingest_log`` keeps one row per file, year and run, for monitoring.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

import duckdb
import pandas as pd

from data_contracts.contract import SourceContract


class TableMismatchError(ValueError):
    """A yearly load found a raw or quarantine table whose columns are not the contract's."""

SQL_TYPES = {"integer": "BIGINT", "number": "DOUBLE", "string": "VARCHAR"}


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_quote = quote_identifier


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
        "_year INTEGER",
    ]
    return f"CREATE OR REPLACE TABLE quarantine.{_quote(contract.name)} ({', '.join(columns)})"


def _if_not_exists(ddl: str) -> str:
    return ddl.replace("CREATE OR REPLACE TABLE", "CREATE TABLE IF NOT EXISTS", 1)


INGEST_LOG_DDL = """
CREATE TABLE IF NOT EXISTS meta.ingest_log (
    source VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    rows_in BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    run_id VARCHAR,
    ingested_at TIMESTAMP NOT NULL,
    year INTEGER
)
"""
# warehouses written before yearly loads: their tables lack the year columns
MIGRATIONS = (
    "ALTER TABLE meta.ingest_log ADD COLUMN IF NOT EXISTS year INTEGER",
)


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()[0])


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, table],
    ).fetchall()
    return [r[0] for r in rows]


def _prepare_yearly(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> None:
    """Create the tables if missing; refuse a yearly load into tables of another shape."""
    name = _quote(contract.name)
    con.execute(_if_not_exists(raw_table_ddl(contract)))
    con.execute(_if_not_exists(quarantine_table_ddl(contract)))
    con.execute(f"ALTER TABLE quarantine.{name} ADD COLUMN IF NOT EXISTS _year INTEGER")
    expected = {
        "raw": [*contract.column_names, "_source_file", "_source_row", "_loaded_at"],
        "quarantine": [*contract.column_names, "_source_file", "_source_row", "_raw_record", "_reason", "_quarantined_at", "_year"],
    }
    for schema, columns in expected.items():
        found = _columns(con, schema, contract.name)
        if found != columns:
            raise TableMismatchError(
                f"{schema}.{contract.name} has the columns {found}, but contract {contract.path.name} "
                f"v{contract.version} gives {columns}: a load of some years cannot change a table's columns. "
                "Load every year once (a backfill of all year partitions, e.g. `dagster asset materialize "
                f"--select raw/{contract.name} --partition-range <first>...<last> -m pipelines.definitions`)"
            )


def write_source(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    loaded: pd.DataFrame,
    quarantined: pd.DataFrame,
    file_log: pd.DataFrame,
    years: Collection[int] | None = None,
    files_read: Sequence[str] = (),
) -> None:
    """Write raw.<source> and quarantine.<source> and append to meta.ingest_log, atomically.

    ``years`` None: replace both tables as a whole. Otherwise replace only the rows of those years
    (and, in quarantine, the rows without a year of the files in ``files_read``, which were read again).
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    name = _quote(contract.name)
    raw_columns = ", ".join(_quote(c) for c in contract.column_names)
    if "_year" not in quarantined.columns:
        quarantined = quarantined.assign(_year=pd.Series([None] * len(quarantined), index=quarantined.index, dtype="Int64"))
    if "year" not in file_log.columns:
        file_log = file_log.assign(year=pd.Series([None] * len(file_log), index=file_log.index, dtype="Int64"))
    con.execute("BEGIN TRANSACTION")
    try:
        for schema in ("raw", "quarantine", "meta"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(INGEST_LOG_DDL)
        for statement in MIGRATIONS:
            con.execute(statement)
        if years is None:
            con.execute(raw_table_ddl(contract))
            con.execute(quarantine_table_ddl(contract))
        else:
            _prepare_yearly(con, contract)
            year_list = sorted(int(y) for y in years)
            con.execute(f"DELETE FROM raw.{name} WHERE {_quote(contract.year_column)} IN (SELECT unnest(?::INTEGER[]))", [year_list])
            con.execute(
                f"DELETE FROM quarantine.{name} WHERE _year IN (SELECT unnest(?::INTEGER[])) "
                "OR (_year IS NULL AND _source_file IN (SELECT unnest(?::VARCHAR[])))",
                [year_list, list(files_read)],
            )
        con.register("_loaded_rows", loaded)
        con.execute(
            f"INSERT INTO raw.{name} SELECT {raw_columns}, _source_file, _source_row, ? FROM _loaded_rows",
            [now],
        )
        con.register("_quarantined_rows", quarantined)
        con.execute(
            f"INSERT INTO quarantine.{name} SELECT {raw_columns}, _source_file, _source_row, _raw_record, _reason, ?, "
            "_year FROM _quarantined_rows",
            [now],
        )
        con.register("_file_log", file_log)
        con.execute(
            "INSERT INTO meta.ingest_log (source, source_file, file_sha256, rows_in, rows_loaded, rows_quarantined, "
            "run_id, ingested_at, year) SELECT source, source_file, file_sha256, rows_in, rows_loaded, "
            "rows_quarantined, run_id, ?, year FROM _file_log",
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
