"""One writer: two runs launched at the same moment both succeed and never use the warehouse at the same
time, with the project's own ``.dagster_home/dagster.yaml`` (pool ``warehouse``, limit 1) and the
warehouse lock underneath it (``pipelines/warehouse_lock.py``; Dagster's slot claim on SQLite can
let two steps start at once, the lock then makes one wait)."""

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
from pipelines.warehouse_lock import ACQUIRED, RELEASING
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


def _lock_windows(instance, run_id: str) -> list[tuple[float, float, str]]:
    """When each step of the run held the warehouse: from its log lines "warehouse lock acquired"
    (written once the lock is held) to "warehouse lock released" (written before letting go)."""
    windows, opened = [], {}
    for entry in instance.all_logs(run_id):
        message = entry.user_message or ""
        if entry.dagster_event is not None or entry.step_key is None:
            continue
        if message.startswith(ACQUIRED):
            opened[entry.step_key] = entry.timestamp
        elif message.startswith(RELEASING):
            windows.append((opened.pop(entry.step_key), entry.timestamp, entry.step_key))
    assert not opened, f"lock acquired but never released: {opened}"
    return windows


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
        held = {r.dagster_run.run_id: _lock_windows(instance, r.dagster_run.run_id) for r in records}
        waited = [  # by the pool (an engine event) or, when both steps got a slot, by the lock
            entry.message
            for r in records
            for entry in instance.all_logs(r.dagster_run.run_id)
            if (entry.dagster_event is not None and entry.dagster_event.event_type == DagsterEventType.ENGINE_EVENT
                and ("concurrency" in (entry.message or "").lower() or "pool" in (entry.message or "").lower()))
            or (entry.user_message or "").startswith("waiting for")
        ]
    finally:
        instance.dispose()
    # the two runs were under way at the same time ...
    (s1, e1), (s2, e2) = windows
    assert s1 < e2 and s2 < e1, windows
    # ... every step of them reads or writes the warehouse (ingestion, the freshness check), yet no
    # two of them held it at the same time: one process in the warehouse at a time
    steps = sorted((start, end, run, step) for run in held for start, end, step in held[run])
    assert len(steps) >= 2 * len(SOURCES), steps
    latest_end, latest = 0.0, None
    for start, end, run, step in steps:
        assert start >= latest_end, f"{run[:8]}:{step} holds the warehouse from {start:.3f}, {latest} until {latest_end:.3f}"
        if end > latest_end:
            latest_end, latest = end, f"{run[:8]}:{step}"
    assert waited, "no step waited for the warehouse: the test did not exercise the limit"
    print(f"two concurrent runs, {len(steps)} warehouse uses one after the other, {elapsed:.1f} s; {waited[0]}")
