"""Fixtures shared by the test folders.

``demo_run``: the whole demo pipeline materialised once per test session into a temporary data
folder (real DuckDB, real dbt, real Dagster), shared by every test that only reads its results.
"""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.settings import Settings
from tests.pipeline.runs import materialize_all, settings_for


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> tuple[Settings, dg.ExecuteInProcessResult]:
    settings = settings_for(tmp_path_factory.mktemp("demo_data"))
    return settings, materialize_all(settings)
