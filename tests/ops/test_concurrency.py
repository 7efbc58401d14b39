"""One writer, enforced by Dagster: two runs launched at the same moment both succeed, one step after
the other, with the project's own ``.dagster_home/dagster.yaml`` (pool ``warehouse``, limit 1)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml
from dagster._core.events import DagsterEventType

from pipelines.demo.generator import generate_demo
from pipelines.instance import prepare_instance
from pipelines.settings import DEFAULT_DEMO_SEED, PROJECT_DIR
from tests.ops.helpers import DEMO_YEARS, PROJECT_DAGSTER_YAML, VENV_BIN, dagster_home, instance_at, subprocess_env

SOURCES = ["raw/cbs_kerncijfers", "raw/gebiedsindeling", "raw/gemeente_registraties", "raw/ggd_monitor"]


def test_project_instance_config_queues_runs_and_limits_the_warehouse_pool(tmp_path):
    config = yaml.safe_load(PROJECT_DAGSTER_YAML.read_text())
    assert config["concurrency"]["pools"] == {"granularity": "op", "default_limit": 1}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    instance = instance_at(dagster_home(tmp_path))
    try:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        pool_config = instance.get_concurrency_config().pool_config
        assert pool_config.default_pool_limit == 1
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    finally:
        instance.dispose()


def test_prepare_instance_allocates_the_one_warehouse_slot_once(tmp_path):
    """On a fresh instance the pool has no slot until something asks for one; preparing it
    allocates exactly the configured one, and preparing again changes nothing."""
    instance = instance_at(dagster_home(tmp_path))
    try:
        assert instance.event_log_storage.get_concurrency_info("warehouse").slot_count == 0
        assert prepare_instance(instance) == 1
        assert prepare_instance(instance) == 1
    finally:
        instance.dispose()


def _intervals(instance, run_id: str) -> dict[str, tuple[float, float]]:
    starts, ends = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[entry.step_key] = entry.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            ends[entry.step_key] = entry.timestamp
    return {k: (starts[k], ends[k]) for k in starts if k in ends}


@pytest.mark.slow
def test_two_runs_launched_at_once_both_succeed_one_writer_at_a_time(tmp_path):
    home = dagster_home(tmp_path)
    data_dir = tmp_path / "data"
    generate_demo(data_dir / "demo", seed=DEFAULT_DEMO_SEED)  # the extracts both runs ingest
    env = subprocess_env(home, data_dir)
    command = [
        str(VENV_BIN / "dagster"), "asset", "materialize", "-m", "pipelines.definitions", "--select", ",".join(SOURCES),
        "--partition-range", DEMO_YEARS,  # the sources are partitioned by year: every year
    ]
    # prepare the instance once, as `make run` / `make ui` / `make backfill` do before any run
    # (pipelines/instance.py): two processes creating a fresh SQLite run storage at the same instant
    # race on CREATE TABLE, and two runs allocating the pool's slot lazily at the same instant can
    # both add one (seen once under load: two writers overlapped)
    instance = instance_at(home)
    try:
        assert prepare_instance(instance) == 1
    finally:
        instance.dispose()
    started = time.monotonic()
    procs = [
        subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    elapsed = time.monotonic() - started
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0, output[-4000:]
        assert "Conflicting lock" not in output, output[-4000:]

    instance = instance_at(home)
    try:
        records = instance.get_run_records()
        assert len(records) == 2 and all(r.dagster_run.is_success for r in records), [
            r.dagster_run.status for r in records
        ]
        windows = [(r.start_time, r.end_time) for r in records]
        intervals = {r.dagster_run.run_id: _intervals(instance, r.dagster_run.run_id) for r in records}
        waited = [
            entry.message
            for r in records
            for entry in instance.all_logs(r.dagster_run.run_id, of_type=DagsterEventType.ENGINE_EVENT)
            if "concurrency" in (entry.message or "").lower() or "pool" in (entry.message or "").lower()
        ]
    finally:
        instance.dispose()
    # the two runs were under way at the same time ...
    (s1, e1), (s2, e2) = windows
    assert s1 < e2 and s2 < e1, windows
    # ... every step of them reads or writes the warehouse (ingestion, the freshness check: pool
    # "warehouse"), yet no two such steps overlapped: one writer at a time
    steps = sorted((start, end, run, step) for run in intervals for step, (start, end) in intervals[run].items())
    assert len(steps) >= 2 * len(SOURCES), steps
    latest_end, latest = 0.0, None
    for start, end, run, step in steps:
        assert start >= latest_end - 0.01, f"{run[:8]}:{step} starts at {start:.2f}, while {latest} runs until {latest_end:.2f}"
        if end > latest_end:
            latest_end, latest = end, f"{run[:8]}:{step}"
    assert waited, "no step waited for the warehouse pool: the test did not exercise the limit"
    print(f"two concurrent runs, {len(steps)} warehouse steps one after the other, {elapsed:.1f} s; {waited[0]}")
