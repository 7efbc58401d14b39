"""All dbt seeds, models and tests as Dagster assets and asset checks.

Two ``dbt build`` steps: everything up to the marts, and the ML marts (``models/marts/ml``), which
publish the tables the ML stage writes and so run after it.

Each dbt command's folder, and the parse it reuses: ``invocation.py``.
"""


import json
import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.dbt.invocation import finish_invocation, start_invocation
from pipelines.defs.dbt.project import dbt_project
from pipelines.defs.dbt.translator import FactorenmodelDbtTranslator
from pipelines.defs.ops.health import with_mart_health
from pipelines.defs.resources import using_warehouse
from pipelines.defs.sources.assets import WAREHOUSE_POOL
from pipelines.settings import Settings


ML_MARTS = "path:models/marts/ml"
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
            target = start_invocation(context, settings.data_dir)
            try:
                yield from with_mart_health(dbt.cli(args, context=context, target_path=target).stream(),
                                            settings.warehouse_path, context)
            finally:
                finish_invocation(context, target, settings.data_dir)

    return factorenmodel_dbt
