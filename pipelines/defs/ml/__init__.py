"""The ML stage as Dagster assets (group ``ml``): thin wrappers around models_ml."""

import dagster as dg

from pipelines.defs.ml.assets import association_local, chain_strength, effect_merged, factor_ranking
from pipelines.defs.ml.models import build_model_assets
from pipelines.settings import Settings


def build_defs(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[association_local, chain_strength, effect_merged, factor_ranking, *build_model_assets()]
    )
