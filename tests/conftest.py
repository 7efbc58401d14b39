"""Shared fixtures: the whole demo pipeline, materialised once per test session.

A real DuckDB file in a temporary data folder, real dbt, real Dagster materialisations; tests that
only read its results share this one run (see tests/pipeline/runs.py for the helpers).
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
