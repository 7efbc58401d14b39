"""One ingestion asset per source contract: ``raw/<source>`` in the warehouse.

The asset validates every extract file against the source's contract (pandera) and loads valid
rows into ``raw.<source>``, invalid rows into ``quarantine.<source>`` with their reasons. Its two
asset checks show the pandera result in the UI:

- ``contract_<source>`` (warning): passes when no row had to be quarantined; otherwise lists the
  reasons and the first quarantined rows. An area code that the area division (``raw.gebiedsindeling``)
  knows in no year is one of those reasons; a source with area codes therefore depends on
  ``raw/gebiedsindeling`` (same year partitions), so that a run of both loads the division first.
  Its metadata also name, per year, the areas of the division that the source has never delivered
  (``areas_never_delivered``; a warning in the run log too, not a failure).
- ``rows_accounted_<source>`` (error, blocking): rows in = rows loaded + rows quarantined.

The asset is partitioned by year (``pipelines/defs/partitions.py``): a run of some years loads only
those years' rows, which replace the earlier rows of those years (``ingest_source(years=...)``); a
run of every year replaces the tables as a whole. Each year's materialisation carries that year's
counts (rows in, loaded, quarantined); the checks and the run-level metadata cover the run's years.
A year that had rows and would have none because its file is gone from the extract folder fails the
asset (``MissingExtractError``) unless the run's config lists it in ``allow_empty_years``.
"""


import time
from collections.abc import Sequence

import dagster as dg
import pandas as pd
from pydantic import Field
from dagster_duckdb import DuckDBResource

from data_contracts.contract import SourceContract
from pipelines.defs.partitions import run_years, years_partitions
from pipelines.defs.sources.metadata import ingest_metadata, markdown_table, year_metadata
from pipelines.ingest import ExtractError, MissingExtractError
from pipelines.ingest.area_division import checks_area_codes, never_delivered_warning, unchecked_warning
from pipelines.ingest.ingest import IngestResult, completeness_problems
from pipelines.ingest.load import TableMismatchError, write_source
from pipelines.ingest.parse import LINEAGE_COLUMNS
from pipelines.landing import fail_source, finish_source, ingest_staged
from pipelines.settings import Settings

WAREHOUSE_POOL = "warehouse"


class IngestConfig(dg.Config):
    """Run configuration of an ingestion asset (all optional)."""

    allow_empty_years: list[int] = Field(
        default_factory=list,
        description=(
            "Years that may end up without any row although raw holds rows of them from files that are gone from the "
            "extract folder: a deliberate withdrawal. Without it such a run is refused (a misnamed or deleted file)."
        ),
    )


def contract_check_name(source: str) -> str:
    return f"contract_{source}"


def accounted_check_name(source: str) -> str:
    return f"rows_accounted_{source}"


def build_source_asset(
    contract: SourceContract, settings: Settings, upstream: Sequence[dg.AssetsDefinition | dg.AssetKey] = ()
) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", contract.name])
    area_rule = ", and its area code is in the area division (raw.gebiedsindeling)" if checks_area_codes(contract) else ""
    check_specs = [
        dg.AssetCheckSpec(
            contract_check_name(contract.name),
            asset=key,
            description=(
                f"Pandera contract {contract.path.name} v{contract.version}: every row satisfies its types, "
                f"ranges, patterns, key and cross-column rules{area_rule}; fails (warning) when rows were quarantined, when "
                "a file lacks contract columns while it has unknown ones (a rename?) or when a year has no rows "
                "(a missing file?)."
            ),
        ),
        dg.AssetCheckSpec(
            accounted_check_name(contract.name),
            asset=key,
            blocking=True,
            description="Every row of every extract file is either loaded or quarantined: rows in = loaded + quarantined.",
        ),
    ]

    @dg.asset(
        key=key,
        group_name="sources",
        kinds={"duckdb", "pandera"},
        deps=list(upstream),
        check_specs=check_specs,
        pool=WAREHOUSE_POOL,
        partitions_def=years_partitions(settings),
        description=(
            f"{contract.title}. {contract.description} Validated on arrival against the data contract "
            f"data_contracts/sources/{contract.path.name}; valid rows in raw.{contract.name}, invalid rows "
            f"with file, row number and reason in quarantine.{contract.name}. Partitioned by year "
            f"({contract.year_column}): a run of some years replaces only those years' rows."
        ),
        metadata={"contract": f"data_contracts/sources/{contract.path.name}", "contract_version": contract.version,
                  "partitioned_by": f"year ({contract.year_column})"},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: DuckDBResource, config: IngestConfig) -> dg.MaterializeResult:
        return _run_ingest(context, warehouse, contract, settings, config.allow_empty_years)

    return _ingest


def area_check_note(contract: SourceContract, result: IngestResult) -> str:
    """For the contract check: which years' area codes the area division could not check."""
    if not checks_area_codes(contract):
        return "not applicable (no area codes to check against the area division)"
    if result.unchecked_area_years:
        return ", ".join(map(str, result.unchecked_area_years)) + " (raw.gebiedsindeling has no rows for them)"
    return "none"


def never_delivered_note(contract: SourceContract, result: IngestResult) -> str | dg.MetadataValue:
    """For the contract check: per year, the division's areas this source has never delivered (a warning)."""
    if not checks_area_codes(contract):
        return "not applicable"
    return dg.MetadataValue.md(markdown_table(
        {"year": year, "areas never delivered": ", ".join(codes)} for year, codes in result.never_delivered_areas.items()))


def quarantine_warning(source: str, result: IngestResult, shown: int = 5) -> str:
    """One line for the run log: how many rows were quarantined, and why (the most frequent reasons)."""
    reasons = result.reasons.most_common()
    listed = "; ".join(f"{reason}: {n}" for reason, n in reasons[:shown])
    more = f"; and {len(reasons) - shown} other reasons" if len(reasons) > shown else ""
    return (f"{source}: {result.rows_quarantined} rows quarantined ({listed}{more}); every row with its file, line "
            f"and reason: table quarantine.{source}")


def files_summary(source: str, result: IngestResult) -> str:
    """One message for the run log with a line per file read: one log event per file cost more than a
    second for a source of hundreds of files."""
    lines = [f"{summary.file}: {summary.rows_in} rows in, {summary.rows_loaded} loaded, {summary.rows_quarantined} "
             "quarantined" for summary in result.files]
    return "\n".join([f"{source}: {len(lines)} extract file(s) read:", *lines])


def archived_quarantined_warning(source: str, entry: dict) -> str:
    """One line for the run log about a dropped file none of whose rows loaded: which file, why, and what
    became of the extract it replaced (restored, ``withdraw_quarantined``) or of its rows (in quarantine)."""
    if not entry.get("restored"):
        return (f"Drop-folder file {entry['file']}: none of its {entry['rows_in']} rows loaded, all quarantined (see "
                f"quarantine.{source}); archived as 'quarantined', not 'loaded'. A corrected file under the same name "
                "replaces it; the same content dropped again is taken in again.")
    reasons = "; ".join(f"{reason}: {rows}" for reason, rows in entry["reasons"].items())
    return (f"Drop-folder file {entry['file']}: all {entry['rows_in']} rows quarantined by the contract ({reasons}), so it "
            f"does not replace anything: the extract it replaced ({', '.join(entry['restored'])}) is restored and loaded again, "
            f"and the file is archived as 'quarantined' (archive/{entry['archived_as']}), its rows not loaded. Correct it and "
            "drop it again.")


def _run_ingest(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, contract: SourceContract, settings: Settings,
    allow_empty_years: Sequence[int] = (),
) -> dg.MaterializeResult:
    years = run_years(context, settings)
    every_year = years == list(settings.years)
    shown = "every year" if every_year else ", ".join(map(str, years))
    context.log.info(f"Ingesting {contract.name} from {settings.extract_dir}: {shown}")
    started = time.perf_counter()
    try:
        with warehouse.get_connection() as con:
            result, withdrawn = ingest_staged(contract, settings.extract_dir, con, settings.landing_dir, settings.scope,
                                              run_id=context.run.run_id, years=None if every_year else years,
                                              allow_empty_years=allow_empty_years)
    except TableMismatchError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    except MissingExtractError as exc:
        raise dg.Failure(
            description=f"Source {contract.name!r}: the extract folder {exc}",
            metadata={"folder": str(exc.path), "pattern": contract.file_format.file_name_pattern,
                      "years_refused": ", ".join(map(str, exc.years)), "problem": exc.problem},
            allow_retries=False,
        ) from None
    except ExtractError as exc:
        metadata = {"file": str(exc.path), "problem": exc.problem}
        if settings.landing_dir is not None:
            # a file staged from the drop folder: to rejected/ with a report, the extract it replaced restored
            report = fail_source(settings.landing_dir, contract.name, exc.path, exc.problem)
            if report is not None:
                metadata["rejected_report"] = str(report)
        raise dg.Failure(
            description=f"Extract of source {contract.name!r} rejected, nothing written: {exc}",
            metadata=metadata,
            allow_retries=False,
        ) from None
    archived = list(withdrawn)
    if settings.landing_dir is not None:
        archived += finish_source(settings.landing_dir, contract.name, result.files, context.run.run_id)
    for entry in archived:
        if entry["status"] == "loaded":
            context.log.info(f"Drop-folder file {entry['file']} loaded and archived ({entry['sha256'][:12]})")
        else:
            context.log.warning(archived_quarantined_warning(contract.name, entry))
    if result.files:
        context.log.info(files_summary(contract.name, result))
    if result.rows_quarantined:  # the reasons in the run log too, not only in the check's metadata
        context.log.warning(quarantine_warning(contract.name, result))
    incomplete = completeness_problems(result, contract.file_format.every_year, years)
    for problem in incomplete:
        context.log.warning(f"{contract.name}: {problem}")
    if result.unchecked_area_years:
        context.log.warning(unchecked_warning(contract.name, result.unchecked_area_years))
    if result.never_delivered_areas:
        context.log.warning(never_delivered_warning(contract.name, result.never_delivered_areas))
    quarantine_ok = result.rows_quarantined == 0
    metadata = ingest_metadata(result, contract, years)
    metadata["duration_seconds"] = dg.MetadataValue.float(round(time.perf_counter() - started, 3))
    for year in years:  # each year's materialisation: that year's own counts
        context.add_asset_metadata(year_metadata(result, year), partition_key=str(year))
    if archived:
        metadata["landing_files_archived"] = dg.MetadataValue.md(markdown_table(
            {"file": e["file"], "sha256": e["sha256"][:12], "staged as": e["staged_as"], "status": e["status"], "rows loaded": e["rows_loaded"],
             "rows quarantined": e["rows_quarantined"]} for e in archived))
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name=contract_check_name(contract.name),
                passed=quarantine_ok and not incomplete,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "rows_quarantined": result.rows_quarantined,
                    "probably_incomplete": dg.MetadataValue.md("\n".join(f"- {p}" for p in incomplete) or "none"),
                    "area_codes_not_checked": area_check_note(contract, result),
                    "areas_never_delivered": never_delivered_note(contract, result),
                    "reasons": dg.MetadataValue.md(
                        markdown_table({"reason": r, "rows": n} for r, n in result.reasons.most_common())
                    ),
                    "first_quarantined_rows": dg.MetadataValue.md(
                        markdown_table(result.quarantine_preview.to_dict("records"))
                    ),
                },
            ),
            dg.AssetCheckResult(
                check_name=accounted_check_name(contract.name),
                passed=result.accounted_for,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "rows_in": result.rows_in,
                    "rows_loaded": result.rows_loaded,
                    "rows_quarantined": result.rows_quarantined,
                    "years": ", ".join(map(str, years)),
                },
            ),
        ],
    )


def build_inactive_source_asset(contract: SourceContract, settings: Settings) -> dg.AssetsDefinition:
    """A source switched off in the configuration: empty raw and quarantine tables, so dbt still builds."""

    @dg.asset(
        key=dg.AssetKey(["raw", contract.name]),
        group_name="sources",
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        description=(
            f"{contract.title}: SWITCHED OFF in the deployment configuration ({settings.config_path or 'sources'}). "
            f"Writes an empty raw.{contract.name} (and quarantine.{contract.name}) with the contract's columns, so the "
            "dbt staging model still builds and the marts simply hold no indicators from this source. No extract is read."
        ),
        metadata={"contract": f"data_contracts/sources/{contract.path.name}", "active": False},
    )
    def _inactive(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
        loaded = pd.DataFrame(columns=[*contract.column_names, "_source_file", "_source_row"])
        quarantined = pd.DataFrame(columns=[*contract.column_names, *LINEAGE_COLUMNS, "_reason"])
        log = pd.DataFrame(columns=["source", "source_file", "file_sha256", "rows_in", "rows_loaded", "rows_quarantined", "run_id"])
        with warehouse.get_connection() as con:
            write_source(con, contract, loaded.astype(object), quarantined.astype(object), log.astype(object))
        context.log.info(f"Source {contract.name} is switched off: empty raw.{contract.name}")
        return dg.MaterializeResult(metadata={"active": False, "dagster/row_count": 0})

    return _inactive
