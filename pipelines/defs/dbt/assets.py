"""All dbt seeds, models and tests as Dagster assets and asset checks.

Two ``dbt build`` steps: everything up to the marts, and the ML marts (``models/marts/ml``), which
publish the tables the ML stage writes and so run after it.
"""


import json
import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.dbt.project import dbt_project
from pipelines.defs.dbt.translator import FactorenmodelDbtTranslator
from pipelines.defs.ops.health import with_mart_health
from pipelines.defs.sources.assets import WAREHOUSE_POOL
from pipelines.settings import Settings


ML_MARTS = "path:models/marts/ml"


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
        args = ["build"]
        if settings.dbt_vars:  # deployment's dbt variables (min_persons from the configuration)
            args += ["--vars", json.dumps(settings.dbt_vars)]
        # health metadata of the marts (rows, suppressed, null shares, duration): pipelines/defs/ops/health.py
        yield from with_mart_health(dbt.cli(args, context=context).stream(), settings.warehouse_path, context)

    return factorenmodel_dbt
