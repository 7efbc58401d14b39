"""Operating the pipeline: schedules, declarative automation, freshness checks, alerts, retries.

- Jobs and schedules (both schedules ship STOPPED; start them in the UI, *Automation*, or with
  ``dagster schedule start``):
  ``full_refresh`` (every asset) on ``yearly_full_refresh``, and ``cbs_release_check``
  (``raw/cbs_kerncijfers``, what feeds it and everything downstream) on ``monthly_cbs_release_check``.
  The sources are partitioned by year: the yearly refresh covers every year in one run, the monthly
  check the years CBS is asked for (``cbs_release_years``).
- Declarative automation: every asset of the groups ``staging``, ``marts``, ``ml`` and ``publish``
  that sets no condition of its own gets ``AutomationCondition.eager()`` (``with_automation``): when
  an upstream asset is materialised (a new extract from the drop folder, a monthly CBS release) the
  sensor ``factorenmodel_automation`` requests the assets downstream of it, once, after their
  upstreams finished. The sensor ships STOPPED too.
- Freshness checks on every active source (the area division's in an op of its own,
  ``area_division_freshness``, as the sources with area codes load after it) and on ``serving_copy``
  (``freshness.py``); mart health
  metadata on the dbt materialisations (``health.py``); alert sensors (``alerts.py``); the retry
  policy of network-bound assets (``retries.py``).
"""

from __future__ import annotations

import warnings

import dagster as dg

from pipelines.defs.ops.alerts import build_alert_sensors
from pipelines.defs.ops.freshness import build_serving_freshness_check, build_source_freshness_checks
from pipelines.defs.partitions import all_years_tags, year_range_tags
from pipelines.ingest.area_division import AREA_DIVISION_SOURCE
from pipelines.settings import Settings

CBS_SOURCE_KEY = dg.AssetKey(["raw", "cbs_kerncijfers"])
AUTOMATED_GROUPS = frozenset({"staging", "marts", "ml", "publish"})
AUTOMATION_SENSOR_NAME = "factorenmodel_automation"
TIMEZONE = "Europe/Amsterdam"
# 02:00 on 2 January: the yearly refresh of every source, the factor model and the marts
YEARLY_FULL_REFRESH_CRON = "0 2 2 1 *"
# 06:00 on the 3rd of every month: has CBS published a new Kerncijfers wijken en buurten release?
MONTHLY_CBS_CRON = "0 6 3 * *"

full_refresh_job = dg.define_asset_job(
    "full_refresh",
    selection=dg.AssetSelection.all(),
    description="Every asset: sources, the factor model, staging, marts, ML and the serving copy, with all checks.",
    tags={"factorenmodel/kind": "full_refresh"},
)

cbs_release_job = dg.define_asset_job(
    "cbs_release_check",
    selection=dg.AssetSelection.assets(CBS_SOURCE_KEY).upstream(depth=1)
    | dg.AssetSelection.assets(CBS_SOURCE_KEY).downstream(),
    description=(
        "Fetches/ingests CBS Kerncijfers wijken en buurten (raw/cbs_kerncijfers and what feeds it) and rebuilds "
        "everything downstream of it; the unchanged sources are not reloaded."
    ),
    tags={"factorenmodel/kind": "cbs_release_check"},
)



def cbs_release_years(settings: Settings) -> list[int]:
    """The years the monthly CBS check reloads: the years CBS is asked for (within the deployment's
    years), or every year when CBS is not fetched (key figures dropped by hand, or the demo)."""
    years = list(settings.years)
    if settings.cbs_enabled:
        from pipelines.defs.cbs import cbs_years

        fetched = [y for y in cbs_years(settings) if y in settings.years]
        if fetched:
            return list(range(fetched[0], fetched[-1] + 1))
    return years


def build_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    """The two schedules; each run covers its years of the yearly partitions in one run."""

    @dg.schedule(
        name="yearly_full_refresh",
        job=full_refresh_job,
        cron_schedule=YEARLY_FULL_REFRESH_CRON,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=(
            f"Once a year (2 January, 02:00 Amsterdam time): the whole pipeline, every source reloaded for every "
            f"year ({settings.years[0]}-{settings.years[-1]}) in one run."
        ),
    )
    def yearly_full_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(tags=all_years_tags(settings))

    release_years = cbs_release_years(settings)

    @dg.schedule(
        name="monthly_cbs_release_check",
        job=cbs_release_job,
        cron_schedule=MONTHLY_CBS_CRON,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=(
            f"Every month (3rd, 06:00 Amsterdam time): CBS Kerncijfers for {release_years[0]}-{release_years[-1]} "
            "and everything downstream of it."
        ),
    )
    def monthly_cbs_release_check(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(tags=year_range_tags(release_years[0], release_years[-1]))

    return [yearly_full_refresh, monthly_cbs_release_check]

automation_sensor = dg.AutomationConditionSensorDefinition(
    AUTOMATION_SENSOR_NAME,
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=30,
    description=(
        "Evaluates the automation conditions of every asset (eager on staging, marts, ml and publish): a new "
        "upstream materialisation leads to one run of what is downstream of it. Each asset's Automation tab "
        "shows why it will or will not run next."
    ),
)


def _eager_if_unset(spec: dg.AssetSpec) -> dg.AssetSpec:
    if spec.group_name in AUTOMATED_GROUPS and spec.automation_condition is None:
        return spec.replace_attributes(automation_condition=dg.AutomationCondition.eager())
    return spec


def with_automation(defs: dg.Definitions) -> dg.Definitions:
    """``defs`` with ``AutomationCondition.eager()`` on every asset of the automated groups that has none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # map_asset_specs is "preview" in Dagster 1.13
        return defs.map_asset_specs(func=_eager_if_unset)


def active_source_year_columns(settings: Settings) -> dict[str, str]:
    from data_contracts.contract import load_contracts

    active = getattr(settings, "active_sources", None)
    return {
        name: contract.year_column
        for name, contract in load_contracts().items()
        if active is None or name in active
    }


def build_defs(settings: Settings, serving_key: dg.AssetKey | None = None) -> dg.Definitions:
    """Schedules, jobs, the automation sensor, alert sensors and freshness checks of one deployment."""
    if serving_key is None:
        from pipelines.defs.publish.assets import SERVING_COPY_KEY

        serving_key = SERVING_COPY_KEY
    checks = [build_serving_freshness_check(settings, serving_key)]
    year_columns = active_source_year_columns(settings)
    # The area division is checked in an op of its own: the sources with area codes load after it and wait for its
    # blocking check, so one op checking it and them would be a cycle, which Dagster breaks by splitting the dbt op
    # into steps (and a dbt test whose models land in different steps, such as a relationships test, then never runs).
    division = {n: c for n, c in year_columns.items() if n == AREA_DIVISION_SOURCE}
    others = {n: c for n, c in year_columns.items() if n != AREA_DIVISION_SOURCE}
    if division:
        checks.append(build_source_freshness_checks(settings, division, name="area_division_freshness"))
    if others:
        checks.append(build_source_freshness_checks(settings, others))
    return dg.Definitions(
        jobs=[full_refresh_job, cbs_release_job],
        schedules=build_schedules(settings),
        sensors=[automation_sensor, *build_alert_sensors(settings)],
        asset_checks=checks,
    )
