"""CBS StatLine as a Dagster asset: ``cbs_statline_extracts`` fetches the key-figures tables (and the
youth-care table) through the plain-Python connector in ``pipelines/cbs/`` into the extract folder,
upstream of ``raw/cbs_kerncijfers``. Part of the graph only when the configuration enables it
(``cbs.mode: statline`` or ``replay``). Partitioned by year like the sources: a run fetches the
tables of its years only (a year without a mapped CBS table fetches nothing)."""

import dagster as dg

from pipelines.cbs import (
    CbsClient,
    ReplayTransport,
    UrllibTransport,
    fetch_jeugdzorg,
    fetch_kerncijfers,
    load_mapping,
)
from pipelines.defs.partitions import run_years, years_partitions
from pipelines.defs.sources import CBS_EXTRACTS_KEY
from pipelines.defs.sources.metadata import markdown_table
from pipelines.settings import Settings

from pipelines.defs.ops.retries import NETWORK_RETRY_POLICY, permanent_errors_fail_fast

# Retries of the whole fetch (3, exponential backoff with jitter) on top of the client's own per-request
# retries; permanent errors (404, malformed answer, changed columns) fail at once, not retried.
CBS_RETRY_POLICY = NETWORK_RETRY_POLICY


def cbs_years(settings: Settings) -> list[int]:
    """The key-figures years to fetch: cbs.years, else every mapped year within the configured years."""
    if settings.cbs is not None and settings.cbs.years:
        return sorted(settings.cbs.years)
    mapped = sorted(t.year for t in load_mapping("cbs_kerncijfers").tables if t.year is not None)
    last = settings.last_year if settings.last_year is not None else 9999
    return [y for y in mapped if settings.first_year <= y <= last]


def make_client(settings: Settings) -> CbsClient:
    cbs = settings.cbs
    transport = ReplayTransport(cbs.fixtures) if cbs.mode == "replay" else UrllibTransport()
    cache_dir = cbs.cache_dir or settings.data_dir / "cbs_cache"
    return CbsClient(transport=transport, cache_dir=cache_dir)


def build_cbs_asset(settings: Settings) -> dg.AssetsDefinition:
    cbs = settings.cbs
    years = cbs_years(settings)

    @dg.asset(
        key=CBS_EXTRACTS_KEY,
        group_name="sources",
        kinds={"python", "csv"},
        retry_policy=CBS_RETRY_POLICY,
        partitions_def=years_partitions(settings),
        description=(
            f"CBS StatLine (OData v3, mode {cbs.mode}): fetches Kerncijfers wijken en buurten for {years} "
            f"{'and the youth-care table ' if 'jeugdzorg' in cbs.tables else ''}for gemeenten "
            f"{', '.join(sorted(settings.gemeenten))} and their wijken and buurten, maps the columns through "
            "data_contracts/mappings/ and writes kerncijfers_wijken_en_buurten_<year>.csv into the extract folder "
            "for raw/cbs_kerncijfers. Raw responses are cached per day; transient errors are retried. Partitioned "
            "by year: a run fetches the tables of its years."
        ),
        metadata={"mode": cbs.mode, "tables": ", ".join(cbs.tables), "years": ", ".join(map(str, years))},
    )
    def _cbs_statline_extracts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return _fetch(context, settings, years)

    return _cbs_statline_extracts


def _fetch(context: dg.AssetExecutionContext, settings: Settings, years: list[int]) -> dg.MaterializeResult:
    cbs = settings.cbs
    if not years:
        raise dg.Failure(
            description=f"No CBS key-figures year to fetch: the mapped years of data_contracts/mappings/cbs_kerncijfers.yaml "
            f"lie outside {settings.first_year}-{settings.last_year}; set cbs.years or add the year's table to the mapping",
            allow_retries=False,
        )
    wanted = run_years(context, settings)
    years = [y for y in years if y in wanted]
    if not years:
        context.log.info(f"No CBS key-figures table is fetched for {', '.join(map(str, wanted))} (not in cbs.years or the mapping)")
        return dg.MaterializeResult(metadata={"files": dg.MetadataValue.md("_none_"), "run_years": ", ".join(map(str, wanted))})
    client = make_client(settings)
    gemeenten = sorted(settings.gemeenten)
    files = []
    with permanent_errors_fail_fast("CBS StatLine"):
        for year in years:
            report = fetch_kerncijfers(client, year, gemeenten, settings.extract_dir)
            context.log.info(f"CBS {report.table} ({year}): {report.rows} rows -> {report.path.name}")
            files.append({"table": report.table, "year": year, "file": report.path.name, "rows": report.rows,
                          "columns left out": ", ".join(report.columns_left_out) or "-"})
        filled = None
        if "jeugdzorg" in cbs.tables:
            merge = fetch_jeugdzorg(client, years, gemeenten, settings.extract_dir)
            filled = merge.cells_filled
            context.log.info(f"CBS youth care {merge.table}: {merge.cells_filled} cells filled")
    metadata = {
        "files": dg.MetadataValue.md(markdown_table(files)),
        "requests_made": client.transport_calls,
        "extract_dir": dg.MetadataValue.path(str(settings.extract_dir)),
    }
    if filled is not None:
        metadata["youth_care_cells_filled"] = filled
    return dg.MaterializeResult(metadata=metadata)


def build_defs(settings: Settings) -> dg.Definitions:
    if not settings.cbs_enabled:
        return dg.Definitions()
    return dg.Definitions(assets=[build_cbs_asset(settings)])
