"""All dbt seeds, models and tests as Dagster assets and asset checks.

Two ``dbt build`` steps: everything up to the marts, and the ML marts (``models/marts/ml``), which
publish the tables the ML stage writes and so run after it.

dagster-dbt gives every dbt invocation a folder of its own under ``dbt_project/target``
(``<step>-<run id>-<uuid>``: compiled SQL, ``run_results.json``, ``dbt.log``; about 5-12 MB on the
demo). Nothing removed them, so a deployment's project folder grew by every run (1.2 GB after a few
hundred runs on a developer's machine). After each invocation, succeeded or failed, the folders of
that step beyond the newest ``KEEP_INVOCATION_FOLDERS`` are removed (``prune_invocation_folders``).
"""


import json
import os
import shutil
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.dbt.project import dbt_project
from pipelines.defs.dbt.translator import FactorenmodelDbtTranslator
from pipelines.defs.ops.health import with_mart_health
from pipelines.defs.resources import using_warehouse
from pipelines.defs.sources.assets import WAREHOUSE_POOL
from pipelines.settings import Settings


ML_MARTS = "path:models/marts/ml"
KEEP_INVOCATION_FOLDERS = 10  # per dbt step: the last runs' compiled SQL and logs, for looking into a failure
INDIRECT_SELECTION = "DBT_INDIRECT_SELECTION"  # read by dagster-dbt when it builds the dbt command
_DEPLOYMENT_INDIRECT_SELECTION = os.environ.get(INDIRECT_SELECTION)  # an operator's own setting, kept for whole runs


def _indirect_selection(context: dg.AssetExecutionContext) -> None:
    """In a run of part of the dbt models, run only the dbt tests whose models are all built by now.

    A backfill from the UI builds the graph in several runs (the seeds and what needs only them, then
    the yearly sources, then the rest), and on a fresh warehouse dbt's default ("eager") would also
    run a test of a selected model that reads a model of a later run, which does not exist yet.
    "buildable" runs a test when every model it reads is selected or upstream of the selection; the
    test then runs in the later run. A run of every model keeps dbt's default (every test runs).
    """
    assets_def = context.assets_def  # in a subset it holds the selected keys; its node keys are all of them
    if set(assets_def.keys_by_output_name.values()) != set(assets_def.node_keys_by_output_name.values()):
        os.environ[INDIRECT_SELECTION] = "buildable"
    elif _DEPLOYMENT_INDIRECT_SELECTION is None:
        os.environ.pop(INDIRECT_SELECTION, None)
    else:
        os.environ[INDIRECT_SELECTION] = _DEPLOYMENT_INDIRECT_SELECTION


def prune_invocation_folders(current: Path, keep: int = KEEP_INVOCATION_FOLDERS) -> list[Path]:
    """Remove the older invocation folders of the dbt step whose invocation used ``current``
    (``target/<step>-<run id>-<uuid>``): the ``keep`` newest of that step stay, ``current`` always.
    Returns the folders removed. Other steps' folders and dbt's own files in ``target`` are left alone."""
    step = current.name.rsplit("-", 2)[0]
    if step == current.name or not current.parent.is_dir():
        return []
    mine = [p for p in current.parent.iterdir()
            if p.is_dir() and p != current and p.name.rsplit("-", 2)[0] == step and p.name.count("-") >= 2]
    mine.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = mine[max(keep - 1, 0):]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def build_dbt_assets(settings: Settings, name: str = "factorenmodel_dbt", select: str = "fqn:*",
                     exclude: str | None = ML_MARTS) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        name=name,
        select=select,
        exclude=exclude,
        dagster_dbt_translator=FactorenmodelDbtTranslator(),
        pool=WAREHOUSE_POOL,
    )
    def factorenmodel_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        # dbt runs as a subprocess and finds the warehouse through its profile's env_var().
        os.environ["FACTORENMODEL_WAREHOUSE"] = str(settings.warehouse_path)
        _indirect_selection(context)
        args = ["build"]
        if settings.dbt_vars:  # deployment's dbt variables (min_persons from the configuration)
            args += ["--vars", json.dumps(settings.dbt_vars)]
        # health metadata of the marts (rows, suppressed, null shares, duration): pipelines/defs/ops/health.py
        with using_warehouse(settings.warehouse_path):  # dbt's process writes it: no other run meanwhile
            invocation = dbt.cli(args, context=context)
            try:
                yield from with_mart_health(invocation.stream(), settings.warehouse_path, context)
            finally:
                removed = prune_invocation_folders(invocation.target_path)
                if removed:
                    context.log.info(f"removed {len(removed)} older dbt invocation folder(s) of this step from "
                                     f"{invocation.target_path.parent} (the newest {KEEP_INVOCATION_FOLDERS} stay)")

    return factorenmodel_dbt
