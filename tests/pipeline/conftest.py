"""Fixtures for whole-pipeline tests: a real DuckDB file, real dbt, real Dagster materialisations.

The demo pipeline is materialised once per test session into a temporary data folder, so tests
that only read its results share one run.
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
