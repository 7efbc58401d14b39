"""Yearly partitions: the source assets are partitioned by year, everything downstream is not.

- ``years_partitions(settings)``: one partition per year of ``Settings.years`` (keys "2015", ...).
  Every ``raw/<source>`` asset (and ``cbs_statline_extracts``) uses it, so a corrected file for
  2023 reloads 2023 only, and a new year is a new partition.
- Every asset gets ``BackfillPolicy.single_run()`` (``with_single_run_backfills``): a backfill of all
  years is one run, and ``dagster asset materialize --select '*' --partition-range 2015...2024``
  runs the whole graph, sources for every year and the unpartitioned rest, in one run (the CLI
  requires the single-run policy on every selected asset for a range).
- The marts, the ML stage and the serving copy are not partitioned: they are built across years
  (series carried into today's area division, factor scores standardised over the panel, the code
  mapping between years, associations over the area-year panel), so they depend on every partition
  of the sources and are rebuilt whole when any year changes (see the README, "Yearly partitions").
"""

from __future__ import annotations

import warnings

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._record import replace

from pipelines.settings import Settings
from pipelines.years import partition_keys, partition_range

__all__ = [
    "ASSET_PARTITION_RANGE_END_TAG", "ASSET_PARTITION_RANGE_START_TAG", "all_years_tags", "partition_range",
    "run_years", "with_single_run_backfills", "year_range_tags", "years_partitions",
]


def years_partitions(settings: Settings) -> dg.StaticPartitionsDefinition:
    """One partition per year the deployment loads."""
    return dg.StaticPartitionsDefinition(partition_keys(settings))


def year_range_tags(first: int | str, last: int | str) -> dict[str, str]:
    """Run tags that make one run cover the years ``first`` to ``last`` (as the CLI's --partition-range)."""
    return {ASSET_PARTITION_RANGE_START_TAG: str(first), ASSET_PARTITION_RANGE_END_TAG: str(last)}


def all_years_tags(settings: Settings) -> dict[str, str]:
    """Run tags for every year: a run of the whole graph (or of any source) over all partitions."""
    keys = partition_keys(settings)
    return year_range_tags(keys[0], keys[-1])


def run_years(context: dg.AssetExecutionContext, settings: Settings) -> list[int]:
    """The years (partitions) this run of a partitioned asset loads; a clear failure in a run without any."""
    if not (context.has_partition_key or context.has_partition_key_range):
        asset = context.asset_key.to_user_string()
        raise dg.Failure(
            description=(
                f"{asset} is partitioned by year ({partition_range(settings)}) and this run names no year. Materialise it "
                f"for a year or a range of years: `dagster asset materialize --select {asset} --partition 2024` or "
                f"`--partition-range {partition_range(settings)}` (-m pipelines.definitions), or in the UI pick the "
                "partitions (All for a backfill of every year)."
            ),
            allow_retries=False,
        )
    return sorted(int(key) for key in context.partition_keys)


def with_single_run_backfills(defs: dg.Definitions) -> dg.Definitions:
    """``defs`` with ``BackfillPolicy.single_run()`` on every asset that has no backfill policy."""
    policy = dg.BackfillPolicy.single_run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # backfill_policy is "beta" in Dagster 1.13
        assets = [
            a.with_attributes(backfill_policy=policy)
            if isinstance(a, dg.AssetsDefinition) and not isinstance(a, dg.AssetChecksDefinition)
            and a.is_executable and a.backfill_policy is None
            else a
            for a in defs.assets or []
        ]
    return replace(defs, assets=assets)
