"""Helpers for whole-pipeline tests: settings in a temporary folder and in-process Dagster runs.

The source assets are partitioned by year: ``materialize_all`` runs every year in one run (the
partition range of all years, as ``make run`` does), or the years given.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.definitions import build_definitions
from pipelines.defs.partitions import all_years_tags, year_range_tags
from pipelines.settings import Settings, load_settings


def settings_for(data_dir: Path, **env: str) -> Settings:
    # FACTORENMODEL_CONFIG="" : a deployment's factorenmodel.yaml in the project folder must not leak into tests
    return load_settings({"FACTORENMODEL_CONFIG": "", "FACTORENMODEL_DATA_DIR": str(data_dir),
                          "FACTORENMODEL_LAST_YEAR": "2026", **env})


def materialize_all(
    settings: Settings, selection: str = "*", raise_on_error: bool = True, years: tuple[int, int] | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    """One in-process run of ``selection`` for every year (or the years ``first``-``last`` of ``years``)."""
    defs = build_definitions(settings)
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(),
        asset_selection=list(dg.AssetSelection.from_string(selection).resolve(defs.resolve_asset_graph())),
        tags=all_years_tags(settings) if years is None else year_range_tags(*years),
        raise_on_error=raise_on_error,
    )
