"""A finished Dagster run read back from a persistent instance's event log.

The session's demo run (``tests/conftest.py``) is built once for all pytest-xdist workers; the
workers that did not execute it read its events from the instance it ran on, through the same
``ExecutionResult`` interface (``success``, ``get_asset_materialization_events``,
``get_asset_check_evaluations``, ``asset_materializations_for_node``) as the
``ExecuteInProcessResult`` of the worker that did. What the tests see is the run's record, as the
Dagster UI shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster._core.execution.execution_result import ExecutionResult
from dagster._core.instance import InstanceRef


class RecordedRun(ExecutionResult):
    """The run ``run_id`` of the instance in ``instance_dir``; ``job_def`` is the implicit asset job
    of ``definitions`` (the definitions the run was executed with)."""

    def __init__(self, instance_dir: Path, run_id: str, definitions: Callable[[], dg.Definitions]):
        self._instance_dir = Path(instance_dir)
        self._run_id = run_id
        self._definitions = definitions

    @cached_property
    def _instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(self._instance_dir)))

    @property
    def instance_dir(self) -> Path:
        """The folder of the persistent Dagster instance the run was executed on."""
        return self._instance_dir

    @property
    def run_id(self) -> str:
        return self._run_id

    @cached_property
    def dagster_run(self) -> dg.DagsterRun:
        run = self._instance.get_run_by_id(self._run_id)
        if run is None:
            raise LookupError(f"run {self._run_id} is not in the instance at {self._instance_dir}")
        return run

    @cached_property
    def seconds(self) -> float:
        """How long the run took, from its start to its end."""
        stats = self._instance.get_run_stats(self._run_id)
        return stats.end_time - stats.start_time

    @cached_property
    def all_events(self) -> Sequence[dg.DagsterEvent]:
        return [e.dagster_event for e in self._instance.all_logs(self._run_id) if e.is_dagster_event]

    @cached_property
    def log_messages(self) -> Sequence[tuple[str | None, str]]:
        """(step key, message) of every line the run's steps logged (``context.log``), in order."""
        return [(e.step_key, e.user_message) for e in self._instance.all_logs(self._run_id) if not e.is_dagster_event]

    @cached_property
    def job_def(self) -> dg.JobDefinition:
        return self._definitions().resolve_implicit_global_asset_job_def()

    def _get_output_for_handle(self, handle, output_name):
        raise NotImplementedError("a recorded run's outputs are in the warehouse, not in memory")
