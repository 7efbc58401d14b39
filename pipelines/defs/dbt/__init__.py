"""The dbt project (seeds, staging, marts) as Dagster assets, with dbt tests as asset checks."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

from pipelines.defs.dbt.assets import ML_MARTS, build_dbt_assets
from pipelines.defs.dbt.project import dbt_project
from pipelines.defs.dbt.resource import FactorenmodelDbtCliResource
from pipelines.settings import Settings


def build_defs(settings: Settings) -> dg.Definitions:
    dbt_executable = Path(sys.executable).parent / "dbt"
    return dg.Definitions(
        assets=[
            build_dbt_assets(settings),
            build_dbt_assets(settings, name="factorenmodel_dbt_ml_marts", select=ML_MARTS, exclude=None),
        ],
        resources={"dbt": FactorenmodelDbtCliResource(project_dir=dbt_project, dbt_executable=str(dbt_executable))},
    )
