"""Freshness checks: is the newest year of every source, and of the published marts, recent enough?

- ``freshness`` on every ``raw/<source>`` (blocking): the newest value of the source's year column
  (the contract's ``yearColumn``) must be at least the reference year minus
  ``FACTORENMODEL_MAX_DATA_AGE_YEARS`` (the same rule as the marts' Great Expectations freshness:
  ``pipelines.quality.parameters.min_newest_year``). A stale source fails with severity ERROR, so
  in the same run dbt, the marts and ``serving_copy`` do not run and the previous serving copy stays
  current. Sources that record events rather than yearly figures (``gebiedswijzigingen``: code
  changes happen every few years) fail with WARN only: shown, not blocking.
- ``freshness`` on ``serving_copy``: the newest year of ``marts.fct_indicator_value`` in the
  current release (ERROR when too old), and the release's age (WARN when older than
  ``MAX_RELEASE_AGE_DAYS``: the yearly full refresh did not publish).

Each result's metadata names the newest year, the minimum, and the rows per year of the newest
years, so the UI shows which rows are (not) there.
"""


import datetime as dt
import json
from collections.abc import Iterable

import dagster as dg
import duckdb

from pipelines.defs.resources import using_warehouse
from pipelines.defs.sources.assets import WAREHOUSE_POOL
from pipelines.defs.sources.metadata import markdown_table
from pipelines.publish import CURRENT, DATABASE_FILE
from pipelines.settings import Settings

CHECK_NAME = "freshness"
# event-like sources: an old newest year is normal, so a stale one only warns
WARN_ONLY_SOURCES = frozenset({"gebiedswijzigingen"})
MAX_RELEASE_AGE_DAYS = 400
YEARS_SHOWN = 5


def minimum_year(settings: Settings) -> int:
    from pipelines.defs.quality import reference_year
    from pipelines.quality.parameters import min_newest_year

    return min_newest_year(reference_year(settings), settings.max_data_age_years)


def year_profile(con: duckdb.DuckDBPyConnection, table: str, year_column: str) -> tuple[int | None, list[dict]]:
    """Newest year in ``table`` and the row counts of its newest years."""
    rows = con.execute(
        f'select "{year_column}" as year, count(*) as n from {table} group by 1 order by 1 desc limit {YEARS_SHOWN}'
    ).fetchall()
    newest = next((int(y) for y, _ in rows if y is not None), None)
    return newest, [{"year": y, "rows": n} for y, n in rows]


def freshness_result(
    *,
    asset_key: dg.AssetKey,
    table: str,
    newest: int | None,
    minimum: int,
    profile: list[dict],
    warn_only: bool,
    settings: Settings,
    error: str | None = None,
) -> dg.AssetCheckResult:
    passed = error is None and newest is not None and newest >= minimum
    if error:
        description = f"{table} could not be read: {error}"
    elif newest is None:
        description = f"{table} holds no rows with a year: nothing fresh (need a year >= {minimum})"
    elif passed:
        description = f"newest year {newest} in {table} >= {minimum}"
    else:
        description = (
            f"{table} is stale: newest year {newest} < {minimum} (reference year minus "
            f"FACTORENMODEL_MAX_DATA_AGE_YEARS={settings.max_data_age_years}); load a newer extract"
        )
    metadata: dict[str, dg.MetadataValue] = {
        "table": dg.MetadataValue.text(table),
        "minimum_newest_year": dg.MetadataValue.int(minimum),
        "max_data_age_years": dg.MetadataValue.int(settings.max_data_age_years),
        "rows_in_newest_years": dg.MetadataValue.md(markdown_table(profile)),
    }
    if newest is not None:
        metadata["newest_year"] = dg.MetadataValue.int(newest)
        metadata["years_behind"] = dg.MetadataValue.int(minimum + settings.max_data_age_years - newest)
    if error:
        metadata["error"] = dg.MetadataValue.text(error)
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=CHECK_NAME,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN if warn_only else dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata=metadata,
    )


def build_source_freshness_checks(
    settings: Settings, year_columns: dict[str, str], name: str = "source_freshness"
) -> dg.AssetChecksDefinition:
    """One blocking ``freshness`` check per source (``year_columns``: source name -> year column), in one op ``name``."""
    keys = {dg.AssetKey(["raw", source]): source for source in year_columns}
    specs = [
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            blocking=True,
            description=(
                f"The newest `{year_columns[source]}` in raw.{source} is at most FACTORENMODEL_MAX_DATA_AGE_YEARS "
                f"(now {settings.max_data_age_years}) before the reference year. "
                + ("Warns only (code changes are rare events)." if source in WARN_ONLY_SOURCES else
                   "Blocking: a stale source stops the marts and the serving copy.")
            ),
        )
        for key, source in keys.items()
    ]

    @dg.multi_asset_check(
        name=name,
        specs=specs,
        can_subset=True,
        pool=WAREHOUSE_POOL,  # reads the warehouse: never while another run writes it
        description="Newest year of every selected source against FACTORENMODEL_MAX_DATA_AGE_YEARS.",
    )
    def source_freshness(context: dg.AssetCheckExecutionContext) -> Iterable[dg.AssetCheckResult]:
        minimum = minimum_year(settings)
        with using_warehouse(settings.warehouse_path), duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            for check_key in sorted(context.selected_asset_check_keys, key=lambda k: k.asset_key.to_user_string()):
                name = keys[check_key.asset_key]
                table = f"raw.{name}"
                newest, profile, error = None, [], None
                try:
                    newest, profile = year_profile(con, table, year_columns[name])
                except duckdb.Error as exc:
                    error = str(exc).splitlines()[0]
                result = freshness_result(
                    asset_key=check_key.asset_key, table=table, newest=newest, minimum=minimum, profile=profile,
                    warn_only=name in WARN_ONLY_SOURCES, settings=settings, error=error,
                )
                (context.log.info if result.passed else context.log.warning)(f"{CHECK_NAME} {table}: {result.description}")
                yield result

    return source_freshness


def build_serving_freshness_check(settings: Settings, serving_key: dg.AssetKey) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=serving_key,
        name=CHECK_NAME,
        description=(
            "The current serving copy (what BI tools read): newest year of marts.fct_indicator_value at most "
            "FACTORENMODEL_MAX_DATA_AGE_YEARS before the reference year (error), and the release not older "
            f"than {MAX_RELEASE_AGE_DAYS} days (warning: the yearly refresh did not publish)."
        ),
    )
    def serving_freshness(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        minimum = minimum_year(settings)
        current = settings.serving_dir / CURRENT
        manifest_path = current / "manifest.json"
        if not manifest_path.is_file():
            return dg.AssetCheckResult(
                passed=False, severity=dg.AssetCheckSeverity.ERROR,
                description=f"no serving copy published yet ({manifest_path} missing)",
            )
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        published_at = dt.datetime.fromisoformat(manifest["published_at"])
        age_days = (dt.datetime.now(dt.timezone.utc) - published_at).total_seconds() / 86400
        newest, profile, error = None, [], None
        try:
            with duckdb.connect(str(current / DATABASE_FILE), read_only=True) as con:
                newest, profile = year_profile(con, "marts.fct_indicator_value", "year")
        except duckdb.Error as exc:
            error = str(exc).splitlines()[0]
        result = freshness_result(
            asset_key=serving_key, table="marts.fct_indicator_value (serving copy)", newest=newest, minimum=minimum,
            profile=profile, warn_only=False, settings=settings, error=error,
        )
        metadata = {
            **result.metadata,
            "release": dg.MetadataValue.path(str(current.resolve())),
            "published_at": dg.MetadataValue.text(manifest["published_at"]),
            "release_age_days": dg.MetadataValue.float(round(age_days, 2)),
            "max_release_age_days": dg.MetadataValue.int(MAX_RELEASE_AGE_DAYS),
        }
        if result.passed and age_days > MAX_RELEASE_AGE_DAYS:
            return dg.AssetCheckResult(
                passed=False, severity=dg.AssetCheckSeverity.WARN, metadata=metadata,
                description=f"release published {age_days:.0f} days ago (> {MAX_RELEASE_AGE_DAYS}): did the yearly refresh run?",
            )
        context.log.info(f"{CHECK_NAME} serving_copy: {result.description}")
        return dg.AssetCheckResult(
            passed=result.passed, severity=result.severity, metadata=metadata, description=result.description
        )

    return serving_freshness
