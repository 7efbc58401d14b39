"""Benchmark: how reliable the buurt-level factor scores really are, against what the pipeline estimates.

The errors-in-variables correction of the associations (``models_ml.associations``) divides out the
attenuation by a factor score's within-area reliability, which it estimates from the score's
*sampling* error alone (column ``reliability`` of ``fct_association_local``). On generated datasets
the true reliability is known: the squared within-area correlation between the score and the
latent factor (``models_ml.simulation.true_within_reliability``). Per factor (its buurt-level score,
in every buurt panel it enters, averaged over the panels and datasets) this prints both, the gap,
and whether the correction applies (reliability at least ``AssociationConfig.min_reliability``).
A positive gap means the correction leaves part of the attenuation: the estimate is too small in
magnitude by about the gap's share, a bias that more data do not shrink.

Usage:
  .venv/bin/python benchmarks/score_reliability.py                      # Demostad, 10 datasets
  .venv/bin/python benchmarks/score_reliability.py --size region8 --datasets 4
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(PROJECT_DIR / "benchmarks"))

from ranking_power import FIRST_SEED, SIZES  # noqa: E402

from models_ml.associations import AssociationConfig, estimate_associations  # noqa: E402
from models_ml.simulation import DbtReplay, true_within_reliability  # noqa: E402

_REPLAY: DbtReplay | None = None
_SIZE = "demostad"


def reliabilities(replay: DbtReplay, seed: int, size: str) -> pd.DataFrame:
    """One dataset: per buurt panel and buurt-level factor, the pipeline's and the true reliability."""
    import shutil

    import duckdb

    from models_ml.panel import build_panels

    run_dir = replay.build(seed, SIZES[size])
    try:
        with duckdb.connect(str(run_dir / "warehouse.duckdb"), read_only=True) as con:
            panels = [p for p in build_panels(con) if p.area_level == "buurt"]
        est = estimate_associations(panels).set_index(["outcome_indicator_id", "factor_id"])["reliability"]
        rows = [(p.outcome_indicator_id, f, est.get((p.outcome_indicator_id, f), float("nan")), true)
                for p in panels for f, true in true_within_reliability(p, run_dir / "demo" / "ground_truth").items()]
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return pd.DataFrame(rows, columns=["outcome_indicator_id", "factor_id", "pipeline", "true"]).assign(seed=seed)


def _one(seed: int) -> pd.DataFrame:
    return reliabilities(_REPLAY, seed, _SIZE)


def table(rows: pd.DataFrame, min_reliability: float) -> pd.DataFrame:
    """Per factor: mean pipeline and true reliability, their gap, and whether the correction applies."""
    out = rows.groupby("factor_id")[["pipeline", "true"]].mean()
    out["gap"] = out["pipeline"] - out["true"]
    out["corrected"] = out["pipeline"] >= min_reliability
    return out.sort_values("gap", ascending=False)


def main() -> int:
    global _REPLAY, _SIZE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="demostad")
    parser.add_argument("--datasets", type=int, default=10, help="generated datasets (seeds 7000, 7001, ...)")
    parser.add_argument("--workers", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    args = parser.parse_args()
    cache = Path(os.environ.get("ML_KAT_CACHE", Path(tempfile.gettempdir()) / "factorenmodel_dbt_replay"))
    with tempfile.TemporaryDirectory(prefix="score_reliability_") as work:
        _REPLAY, _SIZE = DbtReplay(Path(work), cache_dir=cache), args.size
        seeds = [FIRST_SEED + i for i in range(args.datasets)]
        if args.workers > 1:
            with ProcessPoolExecutor(args.workers, mp_context=mp.get_context("fork")) as ex:
                rows = pd.concat(list(ex.map(_one, seeds)), ignore_index=True)
        else:
            rows = pd.concat([_one(s) for s in seeds], ignore_index=True)
    t = table(rows, AssociationConfig.min_reliability)
    print(f"Within-area reliability of the buurt-level factor scores, {args.size}, {args.datasets} datasets "
          f"(pipeline: from the sampling error; true: against the latent factor)\n")
    print("| factor | pipeline | true | gap | corrected |\n| --- | --- | --- | --- | --- |")
    for f, r in t.iterrows():
        print(f"| {f} | {r.pipeline:.3f} | {r.true:.3f} | {r.gap:+.3f} | {'yes' if r.corrected else 'no'} |")
    both = rows.dropna()
    print(f"\nmean gap {(both['pipeline'] - both['true']).mean():+.3f} over {len(both)} (panel, factor) pairs "
          f"with a pipeline reliability")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
