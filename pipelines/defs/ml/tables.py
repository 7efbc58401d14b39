"""Read the warehouse and write ML result tables (schema ``ml``) with run id and method version,
and describe them in Dagster with the columns of the mart that publishes each."""

from __future__ import annotations

import functools
import json
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


# ml.<table> -> the dbt mart that publishes it (dbt_project/models/marts/ml), whose YAML documents
# every column; BI tools read the mart (schema marts, and the serving copy), not the ml table
PUBLISHED_AS = {
    "association_local": "fct_association_local", "chain_strength": "fct_chain_strength",
    "effect_merged": "fct_effect_merged", "factor_ranking": "mart_factor_ranking",
    "factor_ranking_area": "mart_factor_ranking_area", "model_comparison": "mart_model_comparison",
}


@functools.cache
def _manifest_columns() -> dict[str, list[dict]]:
    from pipelines.defs.dbt.project import dbt_project

    path = dbt_project.manifest_path
    if not path.is_file():
        return {}
    nodes = json.loads(path.read_text(encoding="utf-8")).get("nodes", {}).values()
    return {n["name"]: list(n.get("columns", {}).values()) for n in nodes if n.get("resource_type") == "model"}


def table_metadata(name: str) -> dict[str, object]:
    """Definition metadata of the asset writing ``ml.<name>``: its table and, where a mart publishes
    it, that mart's documented columns (run_id and computed_at included) as the column schema."""
    meta: dict[str, object] = {"dagster/table_name": f"{ML_SCHEMA}.{name}"}
    mart = PUBLISHED_AS.get(name)
    columns = _manifest_columns().get(mart or "", [])
    if mart:
        meta["published_as"] = f"marts.{mart}"
    if columns:
        meta["dagster/column_schema"] = dg.TableSchema(columns=[
            dg.TableColumn(c["name"], c.get("data_type") or "unknown", description=c.get("description") or None)
            for c in columns])
    return meta


def published_note(name: str) -> str:
    """The sentence every ML asset's description ends with: where its table is and what BI reads."""
    mart = PUBLISHED_AS.get(name)
    where = f" Writes `{ML_SCHEMA}.{name}`"
    return where + (f"; BI tools read it as `marts.{mart}` (contract, checks, serving copy)." if mart else
                    " (internal; not published).")
