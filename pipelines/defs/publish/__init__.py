"""Publishing for BI: the ``serving_copy`` asset (see ``pipelines/publish`` for how it swaps)."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.publish.assets import build_publish_asset
from pipelines.settings import Settings


def build_defs(settings: Settings) -> dg.Definitions:
    return dg.Definitions(assets=[build_publish_asset(settings)])
