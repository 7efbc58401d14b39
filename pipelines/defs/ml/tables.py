"""Read the warehouse and write ML result tables (schema ``ml``) with run id and method version,
and describe them in Dagster with the columns of the mart that publishes each."""

from __future__ import annotations

import functools
import time

import dagster as dg
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


def read_table_if_exists(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame | None:
    """``read_table``, or None where ``ml.<name>`` does not exist (a warehouse written before the table was)."""
    found = con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                        [ML_SCHEMA, name]).fetchone()[0]
    return read_table(con, name) if found else None


@functools.cache
def _ml_marts() -> dict[str, dict]:
    """``ml.<table>`` -> the manifest node of the dbt mart that publishes it (a model under
    models/marts/ml reading ``source('ml', table)``), whose YAML documents every column; BI tools
    read the mart (schema marts, and the serving copy), not the ml table. Empty without a manifest."""
    from dagster_dbt.dbt_manifest import read_manifest_path  # cached: the dbt assets parse the same file

    from pipelines.defs.dbt.project import dbt_project

    if not dbt_project.manifest_path.is_file():
        return {}
    manifest = read_manifest_path(dbt_project.manifest_path)
    sources = {k: n["name"] for k, n in manifest.get("sources", {}).items() if n.get("source_name") == ML_SCHEMA}
    return {sources[dep]: node for node in manifest.get("nodes", {}).values()
            if node.get("resource_type") == "model" and node.get("original_file_path", "").startswith("models/marts/ml/")
            for dep in node["depends_on"]["nodes"] if dep in sources}


def table_metadata(name: str) -> dict[str, object]:
    """Definition metadata of the asset writing ``ml.<name>``: its table and, where a mart publishes
    it, that mart's documented columns (run_id and computed_at included) as the column schema."""
    meta: dict[str, object] = {"dagster/table_name": f"{ML_SCHEMA}.{name}"}
    node = _ml_marts().get(name)
    columns = list(node.get("columns", {}).values()) if node else []
    if node:
        meta["published_as"] = f"marts.{node['name']}"
    if columns:
        meta["dagster/column_schema"] = dg.TableSchema(columns=[
            dg.TableColumn(c["name"], c.get("data_type") or "unknown", description=c.get("description") or None)
            for c in columns])
    return meta


def published_note(name: str) -> str:
    """The sentence every ML asset's description ends with: where its table is and what BI reads."""
    node = _ml_marts().get(name)
    where = f" Writes `{ML_SCHEMA}.{name}`"
    return where + (f"; BI tools read it as `marts.{node['name']}` (contract, checks, serving copy)." if node else
                    " (internal; not published).")
