"""Benchmark: wall time of the ML stage (models_ml) on a filled warehouse.

Times each step as the Dagster assets run it: building the outcome panels, the local
associations, the chain strengths, the merge with literature weights, the ranking with 1,000 Monte
Carlo draws (city-wide, per domain, per life phase, per wijk), and the model comparison (every
estimator in models_ml/estimators). Target of issue 4: under 60 s on the demo data, draws included.

Usage:
  .venv/bin/python benchmarks/ml_stage.py                       # the warehouse of `make run`
  .venv/bin/python benchmarks/ml_stage.py --warehouse DIR/warehouse.duckdb
  # national scale: .venv/bin/python benchmarks/national_run.py --keep /tmp/national, then
  .venv/bin/python benchmarks/ml_stage.py --warehouse /tmp/national/data/warehouse.duckdb --no-comparison
The warehouse is opened read-only; nothing is written.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from models_ml import associations, chains, comparison, merge, ranking  # noqa: E402
from models_ml.estimators import discover  # noqa: E402
from models_ml.panel import build_panels  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=PROJECT_DIR / "data" / "warehouse.duckdb")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--no-comparison", action="store_true", help="skip the model comparison (slow at national scale)")
    args = parser.parse_args()
    if not args.warehouse.is_file():
        sys.exit(f"{args.warehouse} does not exist: run `make run` first, or pass --warehouse")
    times: dict[str, float] = {}

    def timed(name, fn):
        start = time.perf_counter()
        out = fn()
        times[name] = time.perf_counter() - start
        return out

    con = duckdb.connect(str(args.warehouse), read_only=True)
    q = lambda sql: con.execute(sql).df()  # noqa: E731
    panels = timed("panels", lambda: build_panels(con))
    assoc = timed("associations", lambda: associations.estimate_associations(panels))
    scores = q("select * from marts.fct_factor_score")
    chain = timed("chains", lambda: chains.estimate_chains(q("select * from factor_model.factor_factor_links"), scores))
    merged = timed("merge", lambda: merge.merge_effects(assoc, merge.load_literature(con)))
    model = ranking.build_model(q("select factor_id, factor_type, name_nl from factor_model.factors"),
                                q("select subgoal_id, domain_id, name_nl from factor_model.subgoals"), merged, chain)
    city, areas = timed(f"ranking ({args.draws} draws)", lambda: ranking.rank_factors(
        model, scores, q("select * from factor_model.factor_life_phases"), ranking.RankingConfig(n_draws=args.draws)))
    if not args.no_comparison:
        for spec in discover():
            timed(f"comparison: {spec.name}", lambda spec=spec: comparison.evaluate(spec, panels))
    (gemeenten, wijken) = con.execute("select count(distinct gemeente_code), count(*) filter (where area_level = 'wijk') "
                                      "from marts.dim_area").fetchone()
    print(f"ML stage on {args.warehouse} ({gemeenten} gemeenten, {wijken} wijken)")
    print(f"  outcomes {len(panels)}, association rows {len(assoc)}, ranking rows {len(city)} + {len(areas)} per wijk")
    for name, seconds in times.items():
        print(f"  {name:<36} {seconds:8.1f} s")
    print(f"  {'total':<36} {sum(times.values()):8.1f} s")
    print(f"  peak memory (RSS)                    {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MiB")


if __name__ == "__main__":
    main()
