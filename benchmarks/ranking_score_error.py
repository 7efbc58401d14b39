"""Figures of the room for improvement's sampling error in the ranking (``RankingConfig.score_error``).

1. The demo warehouse (or any filled one): the ranking of the stored model (``ml.effect_merged``,
   ``ml.chain_strength``, as the ranking asset reads them) and the published scores
   (``ranking.load_scores``), with the gaps exact (ranking-1.4.0) and drawn (ranking-1.5.0): the
   median and mean width of the per-wijk and city-wide 90% rank intervals, how many wijken get
   another top 5 (the five factors with the lowest ``rank_median``, ties by impact), and the
   published scores' sampling SD (median, largest per factor). The effect draws are the same in
   both, so every difference is the gaps'.
2. ``--seeds N``: the simulation of ``simulation.score_error_known_answer`` (exact effects, and
   effects with SE 0.1): the share of per-wijk 90% rank intervals that contain the true rank.

Usage:
  .venv/bin/python benchmarks/ranking_score_error.py [--warehouse PATH] [--seeds 20]
The warehouse is opened read-only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from models_ml import ranking, ranking_model  # noqa: E402
from models_ml.simulation import score_error_known_answer  # noqa: E402


def top5(areas: pd.DataFrame) -> pd.Series:
    """Per wijk the set of its five best-ranked factors."""
    ranked = areas[areas["rankable"]].sort_values(["area_code", "rank_median", "impact", "factor_id"],
                                                  ascending=[True, True, False, True])
    return ranked.groupby("area_code")["factor_id"].apply(lambda f: frozenset(f.head(5)))


def widths(rows: pd.DataFrame) -> pd.Series:
    rows = rows[rows["rankable"]]
    return (rows["rank_ci90_upper"] - rows["rank_ci90_lower"]).astype(float)


def demo_figures(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    q = lambda sql: con.execute(sql).df()  # noqa: E731
    model = ranking_model.build_model(q("select factor_id, factor_type, name_nl from factor_model.factors"),
                                      q("select subgoal_id, domain_id, name_nl from factor_model.subgoals"),
                                      q("select * from ml.effect_merged"), q("select * from ml.chain_strength"))
    scores = ranking.load_scores(con)
    phases = q("select * from factor_model.factor_life_phases")
    newest = ranking.newest_scores(scores, model.factors)
    sd = np.sqrt(newest.loc[~newest["withheld"], ["factor_id", "error_var"]].set_index("factor_id")["error_var"])
    print(f"{warehouse}: {newest['area_code'].nunique()} wijken, {len(sd)} published newest-year wijk scores; "
          f"sampling SD median {sd.median():.2f}, per factor (median) largest: "
          + ", ".join(f"{f} {v:.2f}" for f, v in sd.groupby(level=0).median().nlargest(4).items()))
    result = {on: ranking.rank_factors(model, scores, phases, ranking.RankingConfig(score_error=on))
              for on in (False, True)}
    print(f"  {'90% rank interval width':<34}{'gaps exact':>12}{'gaps drawn':>12}")
    for label, pick in (("per wijk, median", lambda r: widths(r[1]).median()),
                        ("per wijk, mean", lambda r: widths(r[1]).mean()),
                        ("city-wide (gemeente), median", lambda r: widths(r[0][r[0]["scope_type"] == "gemeente"]).median()),
                        ("city-wide (gemeente), mean", lambda r: widths(r[0][r[0]["scope_type"] == "gemeente"]).mean())):
        print(f"  {label:<34}{pick(result[False]):>12.2f}{pick(result[True]):>12.2f}")
    for label, rows in (("wijken", lambda r: r[1]), ("gemeenten (city-wide)", lambda r: r[0][r[0]["scope_type"] == "gemeente"])):
        before, after = top5(rows(result[False])), top5(rows(result[True]))
        after = after.reindex(before.index)
        swapped = sum(len(b - a) for b, a in zip(before, after))
        print(f"  {label} whose top 5 changes: {(before != after).sum()} of {len(before)} "
              f"({swapped} factors swapped in all)")


def simulation_figures(seeds: int) -> None:
    for effect_se in (0.0, 0.1):
        for on in (True, False):
            r = [score_error_known_answer(seed, score_error=on, effect_se=effect_se) for seed in range(seeds)]
            c = np.array([x["coverage"] for x in r])
            print(f"simulation, effect SE {effect_se}, gaps {'drawn' if on else 'exact'}: per-wijk 90% rank intervals "
                  f"contain the true rank in {c.mean():.3f} of cases (min {c.min():.3f} over {seeds} seeds), "
                  f"median width {np.median([x['width'] for x in r]):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=PROJECT_DIR / "data" / "warehouse.duckdb")
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    demo_figures(args.warehouse)
    simulation_figures(args.seeds)


if __name__ == "__main__":
    main()
