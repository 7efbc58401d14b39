"""Read the warehouse and write ML result tables (schema ``ml``) with run id and method version."""

from __future__ import annotations

import time

import duckdb
import pandas as pd

ML_SCHEMA = "ml"


def write_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, run_id: str) -> int:
    """Replace ``ml.<name>`` with ``frame`` plus ``run_id`` and ``computed_at``; return the row count."""
    out = frame.copy()
    out["run_id"] = run_id
    out["computed_at"] = pd.Timestamp(time.time(), unit="s", tz="UTC").tz_localize(None)
    con.execute(f"create schema if not exists {ML_SCHEMA}")
    con.register("_ml_frame", out)
    try:
        con.execute(f"create or replace table {ML_SCHEMA}.{name} as select * from _ml_frame")
    finally:
        con.unregister("_ml_frame")
    return len(out)


def read_table(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    return con.execute(f"select * exclude (run_id, computed_at) from {ML_SCHEMA}.{name}").df()
