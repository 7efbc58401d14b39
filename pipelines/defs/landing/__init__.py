"""The drop-folder sensor: new or changed files in the landing folder launch a run of their source.

Every ``landing.interval_seconds`` the sensor ``landing_folder_sensor`` calls
``pipelines.landing.take_in``: files are recognised by their contract, staged into the extract
folder (duplicates by content hash are archived without a run; unreadable or unrecognised files
go to ``rejected/`` with a report), and one ``RunRequest`` per affected source asks for
``raw/<source>`` and everything downstream of it. The run key is the file's SHA-256 (several files
of one source in one look: a hash of their hashes), so the same content never launches twice. The
ingestion asset archives the files it loaded, with their row counts, in ``archive/manifest.jsonl``.
The cursor is JSON: ``{"seen": [sha256, ...]}``.
"""

from __future__ import annotations

import hashlib
import json

import dagster as dg

from data_contracts.contract import load_contracts
from pipelines.landing import take_in
from pipelines.settings import Settings

SENSOR_NAME = "landing_folder_sensor"
LANDING_TAG = "factorenmodel/landing_files"


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
            "recognised by its source contract, staged into the extract folder, and a run of raw/<source> and everything "
            "downstream is launched. Loaded files move to archive/ (manifest.jsonl), failing files to rejected/ with a report."
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
            requests.append(
                dg.RunRequest(
                    run_key=run_key(hashes),
                    asset_selection=downstream_keys(context, source),
                    tags={LANDING_TAG: ",".join(p.original for p in staged)[:200], "factorenmodel/source": source},
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
