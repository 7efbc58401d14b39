"""Resources shared by the assets: the warehouse (one DuckDB file, one writer at a time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster_duckdb import DuckDBResource

from pipelines.settings import Settings


class WarehouseResource(DuckDBResource):
    """DuckDBResource that also closes its connection when the asset fails.

    dagster-duckdb's ``get_connection`` leaves the connection open when the body raises, which keeps
    the file locked for the rest of the process (a code server, a test session).
    """

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as con:
            try:
                yield con
            finally:
                con.close()


def warehouse_resource(settings: Settings) -> WarehouseResource:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return WarehouseResource(database=str(settings.warehouse_path))
