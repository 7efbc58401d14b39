"""Fixtures of the ML tests: the demo run's warehouse (``demo_run``, tests/conftest.py), read-only."""

from __future__ import annotations

import duckdb
import pytest


@pytest.fixture(scope="module")
def con(demo_run):
    """A read-only connection to the warehouse of the session's demo run."""
    settings, result = demo_run
    assert result.success
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        yield connection
