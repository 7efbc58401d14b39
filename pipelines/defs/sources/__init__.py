"""Source extracts: the demo generator and one contract-checked ingestion asset per source."""

from __future__ import annotations

import dagster as dg

from data_contracts.contract import load_contracts
from pipelines.defs.sources.assets import build_inactive_source_asset, build_source_asset
from pipelines.defs.sources.demo import build_demo_asset
from pipelines.ingest.area_division import AREA_DIVISION_SOURCE, checks_area_codes
from pipelines.settings import Settings

# The asset that fetches CBS StatLine tables into the extract folder (pipelines/defs/cbs/).
CBS_EXTRACTS_KEY = dg.AssetKey("cbs_statline_extracts")


# The area division: a source whose area codes are checked against it loads after it, the same years.
AREA_DIVISION_KEY = dg.AssetKey(["raw", AREA_DIVISION_SOURCE])


def build_defs(settings: Settings) -> dg.Definitions:
    """One ingestion asset per active source; a source switched off in the configuration gets an asset
    that writes its raw table empty (dbt's staging models read every raw table). Every source whose area
    codes are checked against the area division depends on ``raw/gebiedsindeling`` (year partition on
    year partition), so that a run of both loads the division first."""
    upstream = [build_demo_asset(settings)] if settings.is_demo else []
    assets = []
    for contract in load_contracts().values():
        if not settings.is_active(contract.name):
            assets.append(build_inactive_source_asset(contract, settings))
            continue
        deps = [*upstream, CBS_EXTRACTS_KEY] if contract.name == "cbs_kerncijfers" and settings.cbs_enabled else upstream
        if checks_area_codes(contract):
            deps = [*deps, AREA_DIVISION_KEY]
        assets.append(build_source_asset(contract, settings, deps))
    return dg.Definitions(assets=[*upstream, *assets])
