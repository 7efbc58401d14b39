"""Shared fixtures: the whole demo pipeline, materialised once per test session.

A real DuckDB file in a temporary data folder, real dbt, real Dagster materialisations; tests that
only read its results share this one run (see tests/pipeline/runs.py for the helpers). Under
pytest-xdist the run is built once for all workers: the first worker that needs it executes it
(on a persistent Dagster instance beside the data) while the others wait on a file lock, and every
worker then reads the run's record from that instance (``tests/recorded_run.py``). The tests
that use it only read its data folder, or copy it first.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest
from filelock import FileLock

from pipelines.definitions import build_definitions
from pipelines.settings import Settings
from tests.pipeline.runs import materialize_all, settings_for
from tests.recorded_run import RecordedRun


def shared_folder(tmp_path_factory) -> Path:
    """The session's temporary folder that every pytest-xdist worker of this run sees (the workers'
    own folders are its subfolders ``popen-gw<N>``); the session's own without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> tuple[Settings, RecordedRun]:
    root = shared_folder(tmp_path_factory) / "demo_run"
    root.mkdir(exist_ok=True)
    settings = settings_for(root / "data")
    instance_dir, done = root / "dagster_home", root / "run_id"
    with FileLock(str(root / "build.lock")):
        if not done.exists():
            instance_dir.mkdir(exist_ok=True)
            with dg.DagsterInstance.local_temp(str(instance_dir)) as instance:
                result = materialize_all(settings, instance=instance)
            done.write_text(result.run_id, "utf-8")
    return settings, RecordedRun(instance_dir, done.read_text("utf-8"), lambda: build_definitions(settings))


LONGEST_FIRST = (
    "tests/ml/test_known_answer.py",  # 50 generated datasets (about 5 minutes on a loaded machine)
    "tests/marts/test_dbt_guards.py",  # builds the demo run first, then dbt builds of broken copies
    "tests/landing/test_sensor.py",
    "tests/ops/test_ui_browser.py",
    "tests/quality/test_broken_marts.py",
    "tests/publish/test_full_runs.py",
    "tests/pipeline/test_partitions.py",
)
"""Test files that take longest, in the order the workers start them (``make test`` passes
``--no-loadscope-reorder``: pytest-xdist would otherwise start the files with the most tests first
and these, with few tests each, last, where each one alone made the end of the run)."""


def pytest_collection_modifyitems(config, items):
    """The longest test files first (``LONGEST_FIRST``), then the other files with a ``slow`` test,
    then the rest; the order of the tests within a file is kept."""
    def file_of(item) -> str:
        return item.nodeid.split("::")[0]

    rank: dict[str, tuple[int, int]] = {}
    for item in items:
        path = file_of(item)
        if path in LONGEST_FIRST:
            weight = (0, LONGEST_FIRST.index(path))
        else:
            weight = (1, 0) if item.get_closest_marker("slow") else (2, 0)
        rank[path] = min(rank.get(path, weight), weight)
    position = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (rank[file_of(item)], position[id(item)]))
