"""How much the city-wide ranking rests on two conventions of the merge (no Dagster).

1. **The scale convention** (``MergeConfig.local_scale``): local effects are area-level
   associations put on the literature's individual-level d scale by a formula, not a measurement
   (models_ml/merge.py, "The common scale is a convention"). Scaling every local d and its standard
   error by 0.5 or 2 shows what a different but defensible conversion would do.
2. **Placeholder literature** (``placeholders``): links of the factor model without a cited figure
   carry a placeholder d of +-0.2 (SE 0.5); ranked once with them as the pipeline does and once with
   them left out (a pair with a placeholder and local data is then local-only, and is shrunk like
   one; a placeholder-only pair drops out).

Per variant: the Spearman correlation of the factors' median ranks with the production ranking,
how many of the production top 5 stay in the top 5, and the factors that move most. Run it on a
built warehouse::

    .venv/bin/python -m models_ml.sensitivity                  # data/warehouse.duckdb (make run)
    .venv/bin/python -m models_ml.sensitivity --warehouse PATH
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import duckdb
import pandas as pd
from scipy.stats import spearmanr

from models_ml import associations, chains, merge, ranking, ranking_model
from models_ml.panel import build_panels

SCALES = (0.5, 2.0)
TOP = 5


@dataclasses.dataclass(frozen=True)
class Inputs:
    """What every variant shares: the local associations, chains, literature and scores."""

    assoc: pd.DataFrame
    chain: pd.DataFrame
    literature: pd.DataFrame
    local_cov: pd.DataFrame  # the covariance of the local estimates (associations.local_covariance)
    chain_cov: pd.DataFrame  # of the chain strengths estimated together (chains.joint_covariance)
    factor_model: ranking.FactorModel
    scores: pd.DataFrame


def load_inputs(con: duckdb.DuckDBPyConnection) -> Inputs:
    assoc, local_cov = associations.estimate_associations_with_covariance(build_panels(con))
    chain, chain_cov = chains.estimate_from_warehouse(con)
    return Inputs(
        assoc=assoc, chain=chain, local_cov=local_cov, chain_cov=chain_cov,
        literature=merge.load_literature(con),
        factor_model=ranking.load_factor_model(con),
        scores=ranking.load_scores(con),
    )


def city_ranking(inputs: Inputs, merge_config: merge.MergeConfig, placeholders: bool = True,
                 n_draws: int = 1000) -> pd.Series:
    """Median rank per rankable factor, city-wide (scope gemeente), for one variant."""
    literature = inputs.literature if placeholders else inputs.literature[~inputs.literature["is_placeholder"].astype(bool)]
    merged = merge.merge_effects(inputs.assoc, literature, merge_config)
    fm = inputs.factor_model
    merged_cov = merge.merged_covariance(inputs.assoc, inputs.local_cov, literature, merged, merge_config)
    model = ranking_model.build_model(fm.factors, fm.subgoals, merged, inputs.chain, merged_cov, inputs.chain_cov)
    city, _ = ranking.rank_factors(model, inputs.scores, fm.life_phases, ranking.RankingConfig(n_draws=n_draws))
    city = city[(city["scope_type"] == "gemeente") & city["rankable"]]
    return city.set_index("factor_id")["rank_median"].astype(float)


def compare(base: pd.Series, other: pd.Series, top: int = TOP) -> dict:
    """Spearman of the median ranks over the factors both rank, top-``top`` overlap, and the three
    factors that move most (factor, base rank, other rank)."""
    both = pd.concat([base.rename("base"), other.rename("other")], axis=1, join="inner")
    moved = (both["other"] - both["base"]).abs().sort_values(ascending=False).head(3).index
    return {
        "factors": len(both),
        "spearman": float(spearmanr(both["base"], both["other"]).statistic),
        "top_kept": len(set(base.nsmallest(top).index) & set(other.nsmallest(top).index)),
        "dropped": sorted(set(base.index) - set(other.index)),
        "moved": [(f, float(both.at[f, "base"]), float(both.at[f, "other"])) for f in moved],
    }


def sensitivity(inputs: Inputs, n_draws: int = 1000) -> list[tuple[str, dict]]:
    """The production ranking against each variant: (variant name, ``compare`` result)."""
    base = city_ranking(inputs, merge.MergeConfig(), n_draws=n_draws)
    variants = [(f"local d x {s:g}", city_ranking(inputs, merge.MergeConfig(local_scale=s), n_draws=n_draws))
                for s in SCALES]
    variants.append(("without placeholder literature", city_ranking(inputs, merge.MergeConfig(), placeholders=False,
                                                                       n_draws=n_draws)))
    return [(name, compare(base, other)) for name, other in variants]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "warehouse.duckdb")
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        inputs = load_inputs(con)
    print(f"City-wide ranking of {args.warehouse}: production against each variant ({args.draws} draws)")
    print(f"{'variant':<34}{'factors':>8}{'Spearman':>10}{f'top {TOP} kept':>12}  largest moves (rank: production -> variant)")
    for name, r in sensitivity(inputs, args.draws):
        moves = ", ".join(f"{f} {a:g} -> {b:g}" for f, a, b in r["moved"])
        dropped = f"; unranked: {', '.join(r['dropped'])}" if r["dropped"] else ""
        print(f"{name:<34}{r['factors']:>8}{r['spearman']:>10.3f}{r['top_kept']:>12}  {moves}{dropped}")


if __name__ == "__main__":
    main()
