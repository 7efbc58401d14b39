"""The Dagster code location: definitions merged from one folder per integration.

``dagster dev`` loads this module through ``workspace.yaml``. Settings (warehouse, extract folder,
gemeenten) come from the environment and the deployment's configuration file (FACTORENMODEL_CONFIG);
see ``pipelines/settings.py``. A wrong configuration fails here, when the definitions load.
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs import cbs, dbt, landing, ml, ops, publish, quality, sources
from pipelines.defs.partitions import with_single_run_backfills
from pipelines.defs.resources import warehouse_resource
from pipelines.settings import Settings, load_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """All assets, checks and resources for one deployment's settings."""
    # ops: schedules, automation (eager on staging/marts/ml/publish), freshness checks, alert sensors;
    # partitions: the sources are partitioned by year, and every asset backfills in a single run, so that
    # `dagster asset materialize --select '*' --partition-range <first>...<last>` runs the whole graph at once
    return with_single_run_backfills(ops.with_automation(dg.Definitions.merge(
        sources.build_defs(settings),
        cbs.build_defs(settings),
        landing.build_defs(settings),
        dbt.build_defs(settings),
        ml.build_defs(settings),
        publish.build_defs(settings),
        quality.build_defs(settings),
        ops.build_defs(settings),
        dg.Definitions(
            resources={"warehouse": warehouse_resource(settings)},
            executor=dg.in_process_executor,
        ),
    )))


defs = build_definitions(load_settings())
