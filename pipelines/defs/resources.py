"""Resources shared by the assets: the warehouse (one DuckDB file, one process at a time)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipelines.settings import Settings
from pipelines.warehouse_lock import warehouse_lock

_logger = logging.getLogger(__name__)


def _step_log() -> Callable[[str], None]:
    """The Dagster log of the step being executed (the UI shows the lines), else Python logging."""
    try:
        return dg.OpExecutionContext.get().log.info
    except dg.DagsterInvariantViolationError:
        return _logger.info


@contextmanager
def using_warehouse(warehouse_path: Path | str) -> Iterator[float]:
    """Hold the warehouse for a step (``pipelines.warehouse_lock``), logging to the step's log;
    every step in pool ``warehouse`` that opens the DuckDB file itself (dbt, the quality checks,
    the serving copy) wraps its work in it. Yields the seconds waited."""
    with warehouse_lock(warehouse_path, _step_log()) as waited:
        yield waited


class WarehouseResource(DuckDBResource):
    """DuckDBResource that holds the warehouse lock while connected and closes its connection
    when the asset fails.

    The lock (``using_warehouse``) makes a step of another run wait for the warehouse even when
    Dagster's pool let both steps start. dagster-duckdb's ``get_connection`` leaves the connection
    open when the body raises, which keeps the file locked for the rest of the process (a code
    server, a test session).
    """

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with using_warehouse(self.database), super().get_connection() as con:
            try:
                yield con
            finally:
                con.close()


def warehouse_resource(settings: Settings) -> WarehouseResource:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return WarehouseResource(database=str(settings.warehouse_path))
