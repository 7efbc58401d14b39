"""``serving_copy``: the published marts for BI tools, swapped in after a run whose checks passed.

The asset depends on every dbt model under ``models/marts/`` (read from the dbt manifest, so new
marts are picked up without touching this file). Dagster does not start it when any upstream step
failed or a blocking asset check on an upstream asset failed (the Great Expectations suites); on
its own, after another run, it refuses to publish while the latest execution of any check of the
marts (the dbt tests of severity error included) failed or could not run. So a serving copy only
ever holds marts whose checks passed.
"""

from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt.dbt_manifest import read_manifest_path  # cached: the dbt assets parse the same file

from pipelines.defs.publish.about import quality_results, release_about
from pipelines.defs.resources import using_warehouse
from pipelines.defs.sources.assets import WAREHOUSE_POOL
from pipelines.publish import CURRENT, DATABASE_FILE, PublishResult, publish_marts
from pipelines.publish.serving import DEFAULT_KEEP, PARQUET_DIR
from pipelines.settings import Settings

SERVING_COPY_KEY = dg.AssetKey(["serving_copy"])
MARTS_FOLDER = "models/marts/"


def mart_asset_keys(manifest_path: Path) -> list[dg.AssetKey]:
    """Asset keys of the dbt models under ``models/marts/`` (empty when there is no manifest yet)."""
    if not manifest_path.is_file():
        return []
    from pipelines.defs.dbt.translator import FactorenmodelDbtTranslator

    translator = FactorenmodelDbtTranslator()
    nodes = read_manifest_path(manifest_path).get("nodes", {}).values()
    return sorted(
        (
            translator.get_asset_key(node)
            for node in nodes
            if node.get("resource_type") == "model" and node.get("original_file_path", "").startswith(MARTS_FOLDER)
        ),
        key=lambda key: key.to_user_string(),
    )


def release_metadata(result: PublishResult, serving_dir: Path,
                     about: Sequence[tuple[str, str, str]] = ()) -> dict[str, dg.MetadataValue]:
    lines = ["| Mart | Rows | Columns | Parquet bytes |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| `{t.name}` | {t.rows:,} | {t.columns} | {t.parquet_bytes:,} |" for t in result.tables]
    about_lines = ["| Key | Value |", "| --- | --- |"] + [f"| {key} | {value} |" for key, value, _ in about]
    return {
        "about": dg.MetadataValue.md("\n".join(about_lines)),
        "release": dg.MetadataValue.path(str(result.release_dir)),
        "serving_database": dg.MetadataValue.path(str(serving_dir / CURRENT / DATABASE_FILE)),
        "serving_parquet": dg.MetadataValue.path(str(serving_dir / CURRENT / PARQUET_DIR)),
        "tables": dg.MetadataValue.md("\n".join(lines)),
        "table_count": dg.MetadataValue.int(len(result.tables)),
        "rows": dg.MetadataValue.int(sum(t.rows for t in result.tables)),
        "bytes": dg.MetadataValue.int(result.total_bytes),
        "database_sha256": dg.MetadataValue.text(result.database_sha256),
        "duration_seconds": dg.MetadataValue.float(round(result.duration_seconds, 3)),
        "previous_release": dg.MetadataValue.text(str(result.previous_release) if result.previous_release else "none"),
        "removed_releases": dg.MetadataValue.int(len(result.removed)),
    }


QUALITY_CHECK_NAME = "great_expectations"
# runs that ended without their planned checks: the marts they built are not known to be good
UNFINISHED_CHECK_RUNS = {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def mart_check_keys(manifest_path: Path, marts: Sequence[dg.AssetKey]) -> list[dg.AssetCheckKey]:
    """Every check of ``marts``: the Great Expectations check of each (``pipelines/defs/quality``
    gives every mart one) and each dbt test that Dagster shows as a check of a mart."""
    from dagster_dbt.asset_utils import get_asset_check_key_for_test

    from pipelines.defs.dbt.translator import FactorenmodelDbtTranslator

    wanted = set(marts)
    keys = {dg.AssetCheckKey(mart, QUALITY_CHECK_NAME) for mart in wanted}
    if manifest_path.is_file():
        manifest = read_manifest_path(manifest_path)
        translator = FactorenmodelDbtTranslator()
        for unique_id, node in manifest.get("nodes", {}).items():
            if node.get("resource_type") == "test":
                key = get_asset_check_key_for_test(manifest, translator, unique_id, None)
                if key is not None and key.asset_key in wanted:
                    keys.add(key)
    return sorted(keys, key=lambda k: k.to_user_string())


def failed_quality_checks(instance: dg.DagsterInstance, checks: Sequence[dg.AssetCheckKey]) -> list[str]:
    """The checks of the marts that stop publishing, as 'mart: check failed|could not run', sorted.

    A check stops publishing when its latest execution failed with severity ERROR (a Great
    Expectations suite, a dbt test of severity error) or could not run: it was planned in a run
    that then failed or was cancelled before the check reported (e.g. the dbt step stopped on a
    failing test of the same marts). The marts are then not known to be good. A check still
    planned in a run in progress (this one) does not stop it.
    """
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(checks)) if checks else {}
    failed = []
    for key, record in records.items():
        status = record.status.value
        if status == "FAILED":
            evaluation = record.event.dagster_event.event_specific_data if record.event and record.event.dagster_event else None
            if getattr(evaluation, "severity", dg.AssetCheckSeverity.ERROR) == dg.AssetCheckSeverity.ERROR:
                failed.append(f"{key.asset_key.to_user_string()}: {key.name} failed")
        elif status == "PLANNED":
            run = instance.get_run_by_id(record.run_id)
            if run is not None and run.status in UNFINISHED_CHECK_RUNS:
                failed.append(f"{key.asset_key.to_user_string()}: {key.name} could not run (run {run.run_id[:8]} "
                              f"{run.status.value.lower()})")
    return sorted(failed)


def build_publish_asset(
    settings: Settings,
    deps: Sequence[dg.AssetKey | str | dg.AssetsDefinition] | None = None,
    keep: int = DEFAULT_KEEP,
    checks: Sequence[dg.AssetCheckKey] | None = None,
) -> dg.AssetsDefinition:
    """The ``serving_copy`` asset; ``deps`` defaults to the dbt marts and ``checks`` to their
    checks (``mart_check_keys``); tests pass their own."""
    if deps is None or checks is None:
        from pipelines.defs.dbt.project import dbt_project

        manifest_path = Path(dbt_project.manifest_path)
        deps = mart_asset_keys(manifest_path) if deps is None else deps
        checks = mart_check_keys(manifest_path, [d for d in deps if isinstance(d, dg.AssetKey)]) if checks is None else checks

    @dg.asset(
        key=SERVING_COPY_KEY,
        deps=list(deps),
        group_name="publish",
        kinds={"duckdb", "parquet"},
        # reads the warehouse: never alongside a writer of another run
        pool=WAREHOUSE_POOL,
        description=(
            "The published marts for BI tools: every table of schema `marts` copied into a new "
            f"read-only release (`{DATABASE_FILE}` plus one Parquet file per mart and a manifest) "
            f"under `{settings.serving_dir}`, then swapped in atomically as `current/`. Runs only "
            "after the marts' blocking checks passed; a failed or killed publish leaves the previous "
            "serving copy in place. Power BI/Excel (DuckDB ODBC), Superset/Metabase (duckdb_engine) "
            f"and Parquet readers open `{settings.serving_dir / CURRENT}`."
        ),
    )
    def serving_copy(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        failed = failed_quality_checks(context.instance, checks)
        if failed:
            # a blocking check stops publishing within its own run; this also holds when the
            # serving copy is materialised on its own after a run whose checks failed
            raise dg.Failure(
                description=("Not publishing: the latest check of these marts failed or could not run: "
                             + "; ".join(failed) + ". Rebuild the marts (and their checks) until they pass."),
                allow_retries=False,
            )
        with using_warehouse(settings.warehouse_path):
            with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
                about = release_about(settings, con)
            result = publish_marts(settings.warehouse_path, settings.serving_dir, context.run.run_id, keep=keep,
                                   about=about, quality=lambda marts: quality_results(settings, marts))
        context.log.info(
            f"published {len(result.tables)} marts ({sum(t.rows for t in result.tables):,} rows) "
            f"to {result.release_dir} in {result.duration_seconds:.2f} s"
        )
        return dg.MaterializeResult(metadata=release_metadata(result, settings.serving_dir, about))

    return serving_copy
