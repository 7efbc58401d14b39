"""The drop-folder sensor: new or changed files in the landing folder launch a run of their source.

Every ``landing.interval_seconds`` the sensor ``landing_folder_sensor`` calls
``pipelines.landing.take_in``: files are recognised by their contract, staged into the extract
folder (duplicates by content hash are archived without a run; unreadable or unrecognised files
go to ``rejected/`` with a report), and one ``RunRequest`` per affected source asks for
``raw/<source>`` and everything downstream of it, for the **affected year partitions**: the years
the dropped file holds rows of, and those of the extract it replaced (a corrected 2023 file reloads
2023 only). One run covers them as a partition range, first to last affected year (years in between
are reloaded unchanged); a file with no year of the deployment's years (all its rows will be
quarantined) reloads the newest year, so that it is read, quarantined and archived. The run key is
the file's SHA-256 (several files of one source in one look: a hash of their hashes), so the same
content never launches twice. The ingestion asset archives the files it loaded, with their row
counts, in ``archive/manifest.jsonl``. The cursor is JSON: ``{"seen": [sha256, ...]}``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg

from data_contracts.contract import load_contracts
from pipelines.defs.partitions import year_range_tags
from pipelines.landing import take_in
from pipelines.landing.flow import Pending
from pipelines.settings import Settings

SENSOR_NAME = "landing_folder_sensor"
LANDING_TAG = "factorenmodel/landing_files"
YEARS_TAG = "factorenmodel/years"


def affected_years(staged: list[Pending], settings: Settings) -> list[int]:
    """The deployment's years whose rows the staged files change; the newest year when none is."""
    years = sorted({y for p in staged for y in p.years} & set(settings.years))
    return years or [settings.years[-1]]


def run_key(hashes: list[str]) -> str:
    if len(hashes) == 1:
        return hashes[0]
    return hashlib.sha256(",".join(sorted(hashes)).encode()).hexdigest()


def downstream_keys(context: dg.SensorEvaluationContext, source: str) -> list[dg.AssetKey]:
    selection = dg.AssetSelection.assets(dg.AssetKey(["raw", source])).downstream()
    graph = context.repository_def.asset_graph
    return sorted(selection.resolve(graph), key=lambda k: k.to_user_string())


def build_landing_sensor(settings: Settings) -> dg.SensorDefinition:
    landing_dir = settings.landing_dir
    contracts = {n: c for n, c in load_contracts().items() if settings.is_active(n)}

    @dg.sensor(
        name=SENSOR_NAME,
        target=dg.AssetSelection.all(),
        minimum_interval_seconds=settings.landing_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Watches the drop folder {landing_dir}: each new or changed CSV, XLSX or Parquet file (by content hash) is "
            "recognised by its source contract, staged into the extract folder, and a run of raw/<source> (the year "
            "partitions the file changes) and everything downstream is launched. Loaded files move to archive/ "
            "(manifest.jsonl), failing files to rejected/ with a report."
        ),
    )
    def landing_folder_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        state = json.loads(context.cursor) if context.cursor else {}
        seen = set(state.get("seen", []))
        intake = take_in(landing_dir, settings.extract_dir, contracts, seen, settings.landing_settle_seconds)
        for path in intake.duplicates:
            context.log.info(f"Duplicate of a file loaded before, archived without a run: {path.name}")
        for report in intake.rejected:
            context.log.warning(f"Rejected a dropped file, see {report}")
        requests = []
        for source, staged in sorted(intake.staged.items()):
            hashes = [p.sha256 for p in staged]
            seen.update(hashes)
            years = affected_years(staged, settings)
            context.log.info(f"{source}: {', '.join(p.original for p in staged)} changes the years {', '.join(map(str, years))}")
            for p in staged:
                if p.replaced:
                    context.log.info(f"{source}: {p.original} replaces the extract(s) {', '.join(Path(r).name for r in p.replaced)} "
                                     "(rows of the same keys); they are archived after the run")
            requests.append(
                dg.RunRequest(
                    run_key=run_key(hashes),
                    asset_selection=downstream_keys(context, source),
                    tags={LANDING_TAG: ",".join(p.original for p in staged)[:200], "factorenmodel/source": source,
                          YEARS_TAG: ",".join(map(str, years))[:200], **year_range_tags(years[0], years[-1])},
                )
            )
        if not requests and not intake.duplicates and not intake.rejected:
            return dg.SensorResult(skip_reason=f"No new files in {landing_dir}", cursor=context.cursor)
        return dg.SensorResult(run_requests=requests, cursor=json.dumps({"seen": sorted(seen)}))

    return landing_folder_sensor


def build_defs(settings: Settings) -> dg.Definitions:
    if settings.landing_dir is None:
        return dg.Definitions()
    return dg.Definitions(sensors=[build_landing_sensor(settings)])
