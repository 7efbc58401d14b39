"""Resources shared by the assets: the warehouse (one DuckDB file, one writer at a time)."""

from __future__ import annotations

from dagster_duckdb import DuckDBResource

from pipelines.settings import Settings


def warehouse_resource(settings: Settings) -> DuckDBResource:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(database=str(settings.warehouse_path))
