"""Benchmark: how well the factor ranking can be estimated from a municipality of a given size.

Issue 4 asks that the estimated city-wide ranking correlate with the true one (Spearman >= 0.8)
on the demo municipality's planted effects. On Demostad (12 wijken, 80 buurten, 10 years) the
median is about 0.57 (``tests/ml/test_known_answer.py``). This script measures the same criterion,
with the same machinery (``models_ml.simulation``: demo generator, contract-checked ingestion,
the dbt-compiled marts SQL, the default statistics), on the same planted effects in larger
synthetic municipalities: more wijken (each with Demostad's buurten per wijk), more years, or a
region of several Demostad-sized gemeenten that share one panel (the statistics then use gemeente x
year effects; the ranking compared is the first gemeente's). It answers "how much data does a
ranking this good need", for the issue's criterion and for a municipality wondering what its own
ranking can say.

Per size it prints: the shape, the median (and minimum) per-dataset Spearman, the share of
datasets at 0.8 or more, the oracle ceiling (every estimable pair known exactly), the share of
factors whose 90% rank interval holds their true rank and its mean width, the coverage of the 90%
intervals of the local associations (all pairs, planted effects), the coverage of the intervals of
a factor's mean effect over a sub-goal's outcomes (``simulation.subgoal_mean_coverage``), and the
wall time.

Usage:
  .venv/bin/python benchmarks/ranking_power.py                          # every size but region16, 20 datasets each
  .venv/bin/python benchmarks/ranking_power.py --sizes region16          # 16 Demostads: about 95 minutes
  .venv/bin/python benchmarks/ranking_power.py --sizes demostad,wijken96 --datasets 50
  .venv/bin/python benchmarks/ranking_power.py --tau 0 --local-weight 1  # the merge without its hedges
  .venv/bin/python benchmarks/ranking_power.py --sizes demostad --precision-weights  # weighted least squares
  .venv/bin/python benchmarks/ranking_power.py --sizes demostad --min-reliability 0.7  # the correction's old threshold
  .venv/bin/python benchmarks/ranking_power.py --sizes demostad --plant buurt-spread --plant-sizes 0.2,1.0
  .venv/bin/python benchmarks/ranking_power.py --sizes demostad --plant buurt-measured-spread --plant-sizes 0.2,1.0 --sign-failures
  .venv/bin/python benchmarks/ranking_power.py --sizes demostad --datasets 50 --plant buurt-measured-spread --plant-sizes 0.2,1.0 --set-size kindermishandeling=1.0
Sizes: demostad, wijken24, wijken48, wijken96, years20, region2, region4, region8, region16 (see ``SIZES``).

``--plant`` swaps the demo's planted effects (``pipelines.demo.truth.PLANTED_EFFECTS``, in this
process only) for an alternative that asks whether *another* truth could meet the criterion on the
same data (see ``PLANTS``): one effect size per factor, spread evenly over ``--plant-sizes`` in a
fixed shuffled order of the factors, signed by the factor's type (risk: worse outcome), on every
pair of a kind that the factor model links; the planted chains stay. It then also prints the
issue's other two criteria on that plant (sign recovery of every effect >= 0.2 SD, coverage of
the planted effects), since a plant that only raises the Spearman proves nothing.
The dbt compile is cached as in the known-answer tests (``ML_KAT_CACHE``); nothing in the project's
``data/`` or ``target/`` is touched.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from models_ml.associations import AssociationConfig  # noqa: E402
from models_ml.merge import MergeConfig  # noqa: E402
from models_ml.simulation import DbtReplay, evaluate_seed, summarise  # noqa: E402
from pipelines.demo import truth  # noqa: E402
from pipelines.demo.config import DemoConfig  # noqa: E402

FIRST_SEED = 7000  # the known-answer tests' first seed
REGION_FIRST_CODE = "GM9900"  # GM9999 + n would not fit in four digits

SIZES: dict[str, DemoConfig] = {
    "demostad": DemoConfig(),
    "wijken24": DemoConfig(n_wijken=24),
    "wijken48": DemoConfig(n_wijken=48),
    "wijken96": DemoConfig(n_wijken=96),
    "years20": DemoConfig(first_year=2005),
    **{f"region{n}": DemoConfig(n_gemeenten=n, wijken_per_gemeente=(12,), gemeente_code=REGION_FIRST_CODE)
       for n in (2, 4, 8, 16)},
}


# every size but the largest (region16: about 95 minutes for 20 datasets on 2 cores; ask for it by name)
DEFAULT_SIZES = [name for name in SIZES if name != "region16"]


def shape(config: DemoConfig) -> str:
    """'1 gemeente, 12 wijken, 80 buurten, 2015-2024' for a config (buurten in the first year)."""
    per_gemeente = config.wijken_per_gemeente or (config.n_wijken,)
    wijken = sum(per_gemeente[i % len(per_gemeente)] for i in range(config.n_gemeenten))
    per_wijk = config.buurten_per_wijk  # cycled over the wijken, numbered across the gemeenten
    buurten = sum(per_wijk[i % len(per_wijk)] for i in range(wijken))
    noun = "gemeente" if config.n_gemeenten == 1 else "gemeenten"
    return f"{config.n_gemeenten} {noun}, {wijken} wijken, {buurten} buurten, {config.first_year}-{config.last_year}"


def parse_sizes(text: str) -> list[str]:
    """Comma-separated size names, each one of ``SIZES``; 'all' for every size."""
    names = list(SIZES) if text.strip() == "all" else [s.strip() for s in text.split(",") if s.strip()]
    unknown = [n for n in names if n not in SIZES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown size {', '.join(unknown) or '(none)'}; choose from {', '.join(SIZES)}")
    return names


def parse_set_size(text: str) -> tuple[str, float]:
    """'FACTOR=SIZE' (``--set-size``): one factor's effect size in the plant, SIZE >= 0 in SDs."""
    factor, sep, size = text.partition("=")
    try:
        value = float(size)
    except ValueError:
        value = -1.0
    if not sep or not factor.strip() or value < 0:
        raise argparse.ArgumentTypeError(f"expected FACTOR=SIZE (e.g. kindermishandeling=1.0), not {text!r}")
    return factor.strip(), value


def with_sizes(effects: tuple[tuple[str, str, float], ...], sizes: dict[str, float]) -> tuple[tuple[str, str, float], ...]:
    """``effects`` with every effect of a factor in ``sizes`` set to that size, its sign kept; a
    factor that has no non-zero effect there is refused (a typo would otherwise change nothing, and
    an effect of 0, the low end of ``--plant-sizes 0,...``, has no sign to keep)."""
    unknown = sorted(set(sizes) - {f for f, _, e in effects if e != 0})  # an effect of 0 has no sign to keep
    if unknown:
        raise ValueError(f"--set-size: {', '.join(unknown)} has no effect in this plant")
    return tuple((f, o, (sizes[f] if e >= 0 else -sizes[f]) if f in sizes else e) for f, o, e in effects)


def parse_range(text: str) -> tuple[float, float]:
    """'LOW,HIGH': two numbers, 0 <= LOW <= HIGH (the effect sizes of a *-spread plant, in SDs)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH (two numbers, e.g. 0.05,0.5), not {text!r}") from None
    if not 0 <= low <= high:
        raise argparse.ArgumentTypeError(f"expected 0 <= LOW <= HIGH, not {text!r}")
    return low, high


PLANTS = {
    "demo": "the demo's own plant (pipelines/demo/truth.py)",
    "buurt-spread": "every linked pair whose outcome is measured per buurt; nothing on the wijk-level outcomes",
    "estimable-spread": "every linked pair the data estimate (buurt and wijk outcomes)",
    "linked-spread": "every pair the factor model links, estimable or not",
    "demo+buurt-spread": "the demo's plant, plus buurt-spread on every buurt pair the demo plants nothing on",
    "buurt-measured-spread": "buurt-spread only on the factors measured per buurt (no wijk score standing in, "
                             "not without data); nothing on any other factor",
}


def linked_pairs(replay: DbtReplay) -> pd.DataFrame:
    """Every (factor, outcome) pair the factor model links, with the factor's type, the pair's area
    level, whether the first dataset (seed ``FIRST_SEED``, the demo's plant) estimates it and the
    flags it gets there (``wijk_score_for_buurt``, ``no_factor_data``, ...)."""
    import duckdb

    from models_ml.associations import estimate_associations
    from models_ml.panel import build_panels

    with tempfile.TemporaryDirectory(prefix="ranking_power_pairs_") as tmp:
        run_dir = replay.build(FIRST_SEED, run_dir=Path(tmp) / "pairs")
        with duckdb.connect(str(run_dir / "warehouse.duckdb"), read_only=True) as con:
            est = estimate_associations(build_panels(con))
            types = con.execute("select factor_id, factor_type from factor_model.factors").df()
    return est[["factor_id", "outcome_indicator_id", "area_level", "status", "flags"]].merge(types, on="factor_id")


def measured_per_buurt(pairs: pd.DataFrame) -> pd.Series:
    """Per pair: whether its outcome is measured per buurt and its factor has buurt scores of its
    own there (not a wijk score standing in for the buurt's, not without data)."""
    flags = pairs["flags"].fillna("").str.split(";")
    own = ~flags.apply(lambda f: "wijk_score_for_buurt" in f or "no_factor_data" in f)
    return (pairs["area_level"] == "buurt") & own


def plant_effects(plant: str, pairs: pd.DataFrame, low: float, high: float,
                  demo: tuple[tuple[str, str, float], ...]) -> tuple[tuple[str, str, float], ...]:
    """The planted effects of ``plant`` (one of ``PLANTS``) on ``pairs`` (``linked_pairs``): one size
    per factor, spread evenly over [low, high] in a fixed shuffled order of the factors; + for a
    risk factor, - for a protective one (``effect_sd`` > 0 means a worse outcome)."""
    if plant not in PLANTS:
        raise ValueError(f"unknown plant {plant!r}; choose from {', '.join(PLANTS)}")
    if plant == "demo":
        return demo
    factors = sorted(pairs["factor_id"].unique())
    size = dict(zip(np.random.default_rng(1).permutation(factors), np.linspace(low, high, len(factors))))
    sign = dict(zip(pairs["factor_id"], np.where(pairs["factor_type"] == "protective", -1, 1)))
    buurt, estimated = pairs["area_level"] == "buurt", pairs["status"] == "estimated"
    chosen = {"buurt-spread": buurt, "demo+buurt-spread": buurt, "estimable-spread": estimated,
              "linked-spread": pd.Series(True, index=pairs.index),
              "buurt-measured-spread": measured_per_buurt(pairs)}[plant]
    spread = tuple((f, o, round(float(sign[f] * size[f]), 3))
                   for f, o in pairs.loc[chosen, ["factor_id", "outcome_indicator_id"]].itertuples(index=False))
    if plant == "demo+buurt-spread":
        have = {(f, o) for f, o, _ in demo}
        return demo + tuple(e for e in spread if e[:2] not in have)
    return spread


@contextlib.contextmanager
def planted(effects: tuple[tuple[str, str, float], ...]):
    """The demo generator plants ``effects`` (and writes them as its ground truth) inside the block,
    in this process and the workers it forks; the demo's own plant again after it."""
    demo = truth.PLANTED_EFFECTS
    truth.PLANTED_EFFECTS = tuple(effects)
    try:
        yield
    finally:
        truth.PLANTED_EFFECTS = demo


_REPLAY: DbtReplay | None = None
_MERGE: MergeConfig | None = None
_ASSOCIATIONS: AssociationConfig | None = None


def _one(job: tuple[str, int]) -> pd.DataFrame:
    size, seed = job
    return evaluate_seed(_REPLAY, seed, SIZES[size], association_config=_ASSOCIATIONS, merge_config=_MERGE)


def measure(replay: DbtReplay, size: str, datasets: int, workers: int, merge_config: MergeConfig,
            association_config: AssociationConfig | None = None) -> dict:
    global _REPLAY, _MERGE, _ASSOCIATIONS
    _REPLAY, _MERGE, _ASSOCIATIONS = replay, merge_config, association_config
    jobs = [(size, FIRST_SEED + i) for i in range(datasets)]
    started = time.perf_counter()
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as ex:
            results = list(ex.map(_one, jobs))
    else:
        results = [_one(j) for j in jobs]
    s = summarise(pd.concat(results, ignore_index=True))
    return {"size": size, "shape": shape(SIZES[size]), "seconds": time.perf_counter() - started, **s}


def row(r: dict) -> str:
    return (f"| {r['size']} | {r['shape']} | {r['ranking_spearman_median']:.3f} | {r['ranking_spearman_min']:.3f} | "
            f"{r['ranking_spearman_share_ge_0_8']:.2f} | {r['ranking_spearman_ceiling_median']:.3f} | "
            f"{r['ranking_rank_interval_coverage']:.3f} | {r['ranking_rank_interval_width']:.1f} | "
            f"{r['coverage_all']:.3f} | {r['coverage_planted']:.3f} | {r['coverage_subgoal_means']:.3f} | "
            f"{r['pairs_with_sign_recovery_ge_95pct']} of {r['planted_pairs_ge_min']} | {r['seconds']:.0f} s |")


def sign_failures(by_pair: dict[tuple[str, str], float], share: float = 0.95) -> list[str]:
    """'factor -> outcome: 0.85' for every planted pair (``summarise``'s ``sign_recovery_by_pair``)
    whose sign was recovered in fewer than ``share`` of the datasets, worst first."""
    failing = sorted((r, f, o) for (f, o), r in by_pair.items() if r < share)
    return [f"{f} -> {o}: {r:.2f}" for r, f, o in failing]


HEADER = ("| size | shape | Spearman median | min | share >= 0.8 | ceiling | rank interval coverage | width (ranks) | "
          "effect coverage | planted effects covered | sub-goal means covered | "
          "effects >= 0.2 SD with sign recovered in >= 95% | time |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=DEFAULT_SIZES,
                        help=f"comma-separated: {', '.join(SIZES)}, or all (default: all but region16)")
    parser.add_argument("--datasets", type=int, default=20, help="generated datasets per size (seeds 7000, 7001, ...)")
    parser.add_argument("--workers", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    parser.add_argument("--tau", type=float, default=MergeConfig.tau, help="the merge's heterogeneity SD")
    parser.add_argument("--local-weight", type=float, default=MergeConfig.local_weight, help="the merge's w")
    parser.add_argument("--precision-weights", action="store_true",
                        help="weighted least squares in the associations (AssociationConfig.precision_weights)")
    parser.add_argument("--min-reliability", type=float, default=AssociationConfig.min_reliability,
                        help="the errors-in-variables correction's threshold (AssociationConfig.min_reliability)")
    parser.add_argument("--plant", choices=list(PLANTS), default="demo",
                        help="the planted effects: " + "; ".join(f"{k}: {v}" for k, v in PLANTS.items()))
    parser.add_argument("--plant-sizes", type=parse_range, default=(0.05, 0.5),
                        help="low,high: the range the per-factor effect sizes of a *-spread plant are spread over")
    parser.add_argument("--set-size", type=parse_set_size, action="append", default=[], metavar="FACTOR=SIZE",
                        help="give FACTOR's effects in the plant this size (SDs, sign kept); repeatable")
    parser.add_argument("--sign-failures", action="store_true",
                        help="after each size, list the effects >= 0.2 SD whose sign was recovered in fewer than 95%% "
                             "of the datasets")
    args = parser.parse_args()
    low, high = args.plant_sizes
    merge_config = MergeConfig(tau=args.tau, local_weight=args.local_weight)
    association_config = AssociationConfig(precision_weights=args.precision_weights, min_reliability=args.min_reliability)
    cache = Path(os.environ.get("ML_KAT_CACHE", Path(tempfile.gettempdir()) / "factorenmodel_dbt_replay"))
    print(f"Ranking criterion (issue 4) by municipality size: {args.datasets} datasets per size, merge tau "
          f"{merge_config.tau}, w {merge_config.local_weight}, precision weights "
          f"{'on' if association_config.precision_weights else 'off'}, min reliability "
          f"{association_config.min_reliability}; the criterion is a median Spearman >= 0.8\n",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="ranking_power_") as work:
        replay = DbtReplay(Path(work), cache_dir=cache)
        effects = truth.PLANTED_EFFECTS
        if args.plant != "demo":
            effects = plant_effects(args.plant, linked_pairs(replay), low, high, truth.PLANTED_EFFECTS)
            print(f"Plant {args.plant} ({PLANTS[args.plant]}): {len(effects)} effects, sizes {low}-{high} SD",
                  flush=True)
        try:
            effects = with_sizes(effects, dict(args.set_size))  # the demo's plant too
        except ValueError as err:
            parser.error(str(err))
        if args.set_size:
            print("Sizes set: " + ", ".join(f"{f} {v} SD" for f, v in args.set_size), flush=True)
        print(flush=True)
        print(HEADER, flush=True)
        with planted(effects):
            for size in args.sizes:
                r = measure(replay, size, args.datasets, args.workers, merge_config, association_config)
                print(row(r), flush=True)
                if args.sign_failures:
                    print("\n".join(f"  sign < 95%: {line}" for line in sign_failures(r["sign_recovery_by_pair"]))
                          or "  sign < 95%: none", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
