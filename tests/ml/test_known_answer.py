"""Known-answer tests: the statistics on exactly what the dbt marts compute, over generated datasets.

Each dataset is built by ``models_ml.simulation.DbtReplay`` (demo generator -> contract-checked
ingestion -> dbt-compiled staging/intermediate/marts SQL, in-process; about 3 s) and estimated
with the default settings. Two truths (see models_ml/README.md):

* ``true_effect``: the planted effect on the estimand's scale (effect_sd * SD(z) / SD(y));
* ``measured_truth``: what a plain regression on the pipeline's *measured* factor scores targets
  (attenuated by their measurement error; the errors-in-variables correction of the associations
  targets ``true_effect`` instead wherever a score is reliable enough).

Reproduce the figures: ``.venv/bin/python -m pytest tests/ml/test_known_answer.py -m slow -s``
(``ML_KAT_SEEDS`` sets the number of datasets, default 50; ``ML_KAT_WORKERS`` the processes).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dataclasses

import duckdb
import pandas as pd
import pytest

from models_ml.associations import estimate_associations
from models_ml.panel import build_panels
from models_ml.simulation import DbtReplay, evaluate_seed, ranking_known_answer, summarise, true_effects
from pipelines.demo.config import DemoConfig

N_SEEDS = int(os.environ.get("ML_KAT_SEEDS", "50"))
WORKERS = int(os.environ.get("ML_KAT_WORKERS", str(max(1, min(4, os.cpu_count() or 1)))))
FIRST_SEED = 7000

_REPLAY: DbtReplay | None = None


def _run(seed: int) -> pd.DataFrame:
    return evaluate_seed(_REPLAY, seed)


_EVALUATED: dict[int, pd.DataFrame] = {}
"""Each dataset's results, evaluated once per module: the default test's two datasets are the first
two of the 50 (about 7 CPU-s each)."""


def _evaluate(replay: DbtReplay, seeds: list[int]) -> pd.DataFrame:
    global _REPLAY
    _REPLAY = replay
    todo = [s for s in seeds if s not in _EVALUATED]
    if WORKERS > 1 and len(todo) > 1:
        with ProcessPoolExecutor(WORKERS, mp_context=mp.get_context("fork")) as ex:
            _EVALUATED.update(zip(todo, ex.map(_run, todo)))
    else:
        _EVALUATED.update((s, _run(s)) for s in todo)
    return pd.concat([_EVALUATED[s] for s in seeds], ignore_index=True)


CACHE = Path(os.environ.get("ML_KAT_CACHE", Path(tempfile.gettempdir()) / "factorenmodel_dbt_replay"))


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> DbtReplay:
    # the dbt compile is cached per hash of the dbt project (ML_KAT_CACHE; default in the temp dir)
    return DbtReplay(tmp_path_factory.mktemp("ml_replay"), cache_dir=CACHE)


def _report(summary: dict) -> str:
    s = {k: v for k, v in summary.items() if k != "sign_recovery_by_pair"}
    return json.dumps(s, indent=1)


def test_replay_recovers_strong_buurt_effects(replay):
    """Default suite: two datasets; the strong buurt-level effects have the right sign and the
    intervals cover what the measured factor scores can see."""
    res = _evaluate(replay, [FIRST_SEED, FIRST_SEED + 1])
    s = summarise(res)
    print(_report(s))
    est = res[res["status"] == "estimated"]
    assert len(est) > 100
    assert set(est["method"]) <= {"ols_fe_cr3", "ridge_fe_bootstrap"}
    for pair in [("werkloosheid", "reg_bijstand_jongeren_pct"), ("criminaliteit_buurt", "pol_woninginbraken_per_1000"),
                 ("armoede", "reg_jeugdhulp_pct"), ("arbeidsparticipatie", "cbs_wmo_per_1000")]:
        assert s["sign_recovery_by_pair"][pair] == 1.0, pair
    assert 0.7 <= s["coverage_measured_all"] <= 1.0, _report(s)


def test_a_region_estimates_on_every_gemeente_and_compares_the_first_gemeentes_ranking(replay, tmp_path):
    """``benchmarks/ranking_power.py`` measures the ranking criterion on regions of several
    gemeenten that share one panel: the associations use every gemeente's areas, the ranking
    compared is the one asked for, and without saying which gemeente the comparison refuses."""
    config = dataclasses.replace(DemoConfig.small(), n_gemeenten=2, gemeente_code="GM9990")
    run_dir = replay.build(FIRST_SEED, config, tmp_path / "region")
    gt = run_dir / "demo" / "ground_truth"
    with duckdb.connect(str(run_dir / "warehouse.duckdb"), read_only=True) as con:
        est = estimate_associations(build_panels(con))
        truth = true_effects(gt, est)
        ranked = {g: ranking_known_answer(con, est, truth, gt, n_draws=20, gemeente=g) for g in ("GM9990", "GM9991")}
        rankable = con.execute("select count(*) from factor_model.factors").fetchone()[0]
        first_buurten = con.execute("select count(distinct area_code) from marts.fct_factor_score "
                                    "where area_code like 'BU9990%'").fetchone()[0]
        with pytest.raises(ValueError, match="several gemeenten"):
            ranking_known_answer(con, est, truth, gt, n_draws=20)
    buurt = est[(est["area_level"] == "buurt") & (est["status"] == "estimated")]
    assert len(buurt) > 0 and (buurt["n_areas"] > first_buurten).all(), (first_buurten, buurt["n_areas"].unique())
    assert (est.loc[est["area_level"] == "wijk", "n_areas"] == 6).all()  # 3 wijken in each gemeente
    for g, r in ranked.items():
        assert 10 <= r["n_factors"] <= rankable, (g, r)
        assert -1 <= r["spearman"] <= 1, (g, r)
    # each gemeente has its own room for improvement, hence its own true and estimated ranking
    assert ranked["GM9990"] != ranked["GM9991"]


@pytest.fixture(scope="module")
def many(replay) -> tuple[pd.DataFrame, dict]:
    res = _evaluate(replay, list(range(FIRST_SEED, FIRST_SEED + N_SEEDS)))
    s = summarise(res)
    print(f"\n{N_SEEDS} datasets:\n{_report(s)}")
    for pair, rate in sorted(s["sign_recovery_by_pair"].items(), key=lambda kv: kv[1]):
        print(f"  sign recovered {rate:.2f}  {pair[0]} -> {pair[1]}")
    return res, s


@pytest.mark.slow
def test_intervals_are_calibrated_for_what_the_factor_scores_measure(many):
    """90% intervals cover the measured-score truth in 80-97% of (dataset, pair) cases. Since the
    errors-in-variables correction the estimates of the corrected factors target the true effect
    rather than this attenuated one (0.932 measured, planted effects 0.879, associations-1.7.0); what
    this still guards is that the uncorrected factors' intervals fit what their scores can see."""
    _, s = many
    assert 0.80 <= s["coverage_measured_all"] <= 0.97, _report(s)


@pytest.mark.slow
def test_issue_criteria_on_the_planted_effects(many):
    """Issue 4: coverage of the planted effect (``true_effect``, not the measured-score truth) 80-97%,
    over all estimated pairs and also over the planted (non-zero) effects alone (0.76 before the
    errors-in-variables correction, 0.86 with it, 0.91 since it also corrects reliabilities of
    0.2-0.7 in panels of 30 clusters or more, 0.916 with associations-1.7.0; all pairs 0.940); every planted
    effect >= 0.2 SD is estimable and
    has its sign recovered in >= 95% of datasets."""
    _, s = many
    assert 0.80 <= s["coverage_all"] <= 0.97, _report(s)
    assert 0.80 <= s["coverage_planted"] <= 0.97, _report(s)
    assert s["planted_pairs_estimable"] == s["planted_pairs_ge_min"], _report(s)
    assert s["sign_recovery_min_over_estimable_pairs"] >= 0.95, _report(s)


@pytest.mark.slow
def test_a_subgoal_effects_standard_error_is_not_optimistic(many):
    """The merge averages a factor's effects on a sub-goal's outcome indicators with a standard error
    that takes them as independent (``merge.combine_outcomes``), although they are measured in the
    same areas. Over the datasets, the 90% intervals of those means (factor and sub-goal pairs with
    at least two estimated outcomes) cover the mean true d at least 80% of the time, and the errors
    are no more spread than the standard error says (SD of the z at most 1). Measured on the 50
    datasets: 0.960 and 0.79 (the errors of one factor on two outcomes correlate 0.03 on average;
    in a region of 8, 20 datasets: 0.932 and 0.93)."""
    _, s = many
    assert s["subgoal_means"] >= 20 * s["datasets"], _report(s)  # about 43 per dataset
    assert s["coverage_subgoal_means"] >= 0.80, _report(s)
    assert s["subgoal_mean_z_sd"] <= 1.0, _report(s)


@pytest.mark.slow
@pytest.mark.xfail(reason="median per-dataset Spearman 0.57 (mean 0.57) over 50 datasets (oracle ceiling 0.918): the noise of "
                          "the local estimates is as large as the differences between most factors' true impacts; even a "
                          "plant the data can reveal exactly gives 0.56-0.66; the one alternative truth that meets all "
                          "three criteria on Demostad's data (0.806) has no effect on 28 of 38 factors, a nearly "
                          "trivial ranking (ranking_power.py --plant --set-size), and the statistics reached 0.79 on "
                          "the demo's plant only with about 16 times Demostad's data "
                          "(benchmarks/ranking_power.py): see models_ml/README.md 'Why the ranking criterion does not "
                          "hold' (the measurements: models_ml/MEASUREMENTS.md)", strict=False)
def test_issue_criterion_on_the_ranking(many):
    """Issue 4: the estimated city-wide ranking (rank_median, scope 'gemeente', rankable factors)
    correlates with the true ranking (same ranking from the planted effects and chains, same room
    for improvement): per-dataset Spearman, median over the datasets >= 0.8."""
    _, s = many
    assert s["ranking_spearman_median"] >= 0.8, _report(s)


@pytest.mark.slow
def test_rank_intervals_contain_the_true_rank(many):
    """The ranking is honest about what it does not know: the 90% rank interval of a factor
    contains its true rank (the range of its tie, for factors tied in the truth) for at least 90%
    of the (dataset, factor) cases. Measured: 0.966, intervals 21 ranks wide on average out of 35,
    which is what a Spearman of 0.57 should come with (associations-1.7.0; 0.976 with 1.6.0, 0.965
    with 1.5.0; 0.98 and 23.7 with ranking-1.5.0)."""
    _, s = many
    assert s["ranking_rank_interval_coverage"] >= 0.90, _report(s)


@pytest.mark.slow
def test_ranking_gains_of_the_merge_hold(many):
    """Regression guard for what the ranking reaches today (README 'Known-answer tests'): median
    Spearman at least 0.5 (0.573 measured with associations-1.7.0, 0.55 with 1.6.0, 0.57 with 1.5.0; 0.48 before
    the mean over outcomes and the empirical-Bayes shrinkage), and the oracle ceiling of these data, 0.918,
    above it."""
    _, s = many
    assert s["ranking_spearman_median"] >= 0.5, _report(s)
    assert s["ranking_spearman_ceiling_median"] > s["ranking_spearman_median"], _report(s)
