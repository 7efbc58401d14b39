"""Source extracts: the demo generator and one contract-checked ingestion asset per source."""

from __future__ import annotations

import dagster as dg

from data_contracts.contract import load_contracts
from pipelines.defs.sources.assets import build_source_asset
from pipelines.defs.sources.demo import build_demo_asset
from pipelines.settings import Settings


def build_defs(settings: Settings) -> dg.Definitions:
    upstream = [build_demo_asset(settings)] if settings.is_demo else []
    assets = [build_source_asset(contract, settings, upstream) for contract in load_contracts().values()]
    return dg.Definitions(assets=[*upstream, *assets])
