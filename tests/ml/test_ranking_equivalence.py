"""The vectorised ranking gives the same rows as the per-wijk loop it replaced.

``tests/ml/legacy_ranking.py`` is ``models_ml/ranking.py`` before the ranking of all areas at once
(``rank_areas``): it ranks one area at a time, in Python, with plain numpy and scipy (its ranks
with ties by ``scipy.stats.rankdata``). Both run on the same model and scores; every number must
agree to 1e-12, in the same row order. The explanations are tested in ``test_ranking.py`` (the
reference keeps the texts of ranking-1.0.0); here the vectorised texts must not depend on how the
areas are chunked. Hand-made models with several gemeenten, ties, zero gaps, unscored factors and
chains, and (slow) the demo warehouse.
"""

from __future__ import annotations

import dataclasses

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_ml import ranking, ranking_model
from tests.ml import legacy_ranking

NUMERIC = ["impact", "impact_ci90_lower", "impact_ci90_upper", "rank_median", "rank_ci90_lower",
           "rank_ci90_upper", "p_top5", "room_for_improvement", "rank_by_room_for_improvement", "direct_share"]


def assert_same_ranking(new: pd.DataFrame, old: pd.DataFrame) -> None:
    """Every column of the reference agrees but the explanation; since ranking-1.1.0 there are more
    columns (what the impact rests on)."""
    assert list(new.columns) == ranking.RANKING_COLUMNS
    assert set(old.columns) <= set(new.columns)
    assert len(new) == len(old)
    new, old = new.reset_index(drop=True), old.reset_index(drop=True)
    for column in old.columns:
        if column in ("method_version", "explanation"):
            continue
        if column in NUMERIC:
            a = pd.to_numeric(new[column]).to_numpy(float)
            b = pd.to_numeric(old[column]).to_numpy(float)
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=column)
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, equal_nan=True, err_msg=column)
        else:
            assert new[column].astype(object).tolist() == old[column].astype(object).tolist(), column


def synthetic(seed: int, n_gemeenten: int = 3, n_factors: int = 12):
    """A factor model with risk and protective factors, chains, zero effects and partial scores."""
    rng = np.random.default_rng(seed)
    factors = pd.DataFrame({
        "factor_id": [f"f{j:02d}" for j in range(n_factors)],
        "factor_type": ["risk" if j in (6, 7) else t for j, t in enumerate(rng.choice(["risk", "protective"], n_factors))],
        "name_nl": [f"Factor {j}" for j in range(n_factors)],
    })
    subgoals = pd.DataFrame({
        "subgoal_id": ["gezond_a", "gezond_b", "kansrijk_a", "veilig_a", "veilig_b"],
        "domain_id": ["gezond", "gezond", "kansrijk", "veilig", "veilig"],
        "name_nl": ["Gezond A", "Gezond B", "Kansrijk A", "Veilig A", "Veilig B"],
    })
    merged = []
    for j in range(n_factors - 2):  # the last two factors have no effect at all: impact 0, tied ranks
        for s in rng.choice(len(subgoals), rng.integers(1, 4), replace=False):
            merged.append((f"f{j:02d}", subgoals["subgoal_id"][s], rng.normal(0.2, 0.3), abs(rng.normal(0.1, 0.05))))
    merged.append(("f07", "veilig_a", 0.9, 0.05))  # f06 -> f07 below: a chain that carries much of f06's impact
    merged.append(("f01", "gezond_a", np.nan, np.nan))  # a link without a merged number is left out
    merged = pd.DataFrame(merged, columns=["factor_id", "subgoal_id", "d_merged", "se_merged"])
    chains = pd.DataFrame([  # acyclic: from a lower to a higher factor number
        (f"f{a:02d}", f"f{b:02d}", rng.normal(0.3, 0.3), 0.1)
        for a in range(n_factors) for b in range(a + 1, n_factors) if rng.random() < 0.15 and (a, b) != (6, 7)
    ] + [("f06", "f07", 0.8, 0.05)], columns=["from_factor_id", "to_factor_id", "coefficient", "std_error"])
    model = ranking_model.build_model(factors, subgoals, merged, chains)
    rows = []
    for gm in range(n_gemeenten):
        n_wijken = int(rng.integers(2, 9))
        for w in range(n_wijken):
            code = f"WK{9000 + gm:04d}{w:02d}"
            for j in range(n_factors):
                if j == 3 and w % 3 == 0:
                    continue  # f03 unscored in some wijken: a different set of rankable factors there
                if j == 5:
                    continue  # f05 never scored: listed, not ranked
                for year in (2022, 2023):
                    score = 0.0 if j == 4 else round(float(rng.normal()), 1)  # f04: every gap 0; ties elsewhere
                    if j == 8 and w == 1:
                        score = np.nan  # a missing score: no gap for f08 in this wijk
                    rows.append((code, "wijk", year, f"f{j:02d}", score))
    scores = pd.DataFrame(rows, columns=["area_code", "area_level", "year", "factor_id", "score"])
    phases = pd.DataFrame(
        [(f"f{j:02d}", "jeugd") for j in range(0, n_factors, 2)]
        + [(f"f{j:02d}", "volwassen") for j in range(n_factors) if j % 3]
        + [("f05", "alleen_ongescoord")],  # a phase whose only factor cannot be ranked
        columns=["factor_id", "life_phase_id"])
    return model, scores, phases


@pytest.mark.parametrize("seed, n_draws, top_k", [(1, 300, 5), (2, 101, 5), (3, 1, 5), (4, 1000, 5), (5, 50, 0), (6, 50, 40)])
def test_rank_factors_matches_the_per_wijk_loop(seed, n_draws, top_k):
    model, scores, phases = synthetic(seed)
    config = ranking.RankingConfig(n_draws=n_draws, seed=seed, top_k=top_k)
    new = ranking.rank_factors(model, scores, phases, config)
    old = legacy_ranking.rank_factors(model, scores, phases,
                                      legacy_ranking.RankingConfig(n_draws=n_draws, seed=seed, top_k=top_k))
    assert_same_ranking(new[0], old[0])
    assert_same_ranking(new[1], old[1])
    assert new[1]["explanation"].str.contains("via de keten naar").any()  # the chain sentence is exercised
    assert (new[1]["rank_median"] % 1 == 0.5).any()  # ties are exercised
    assert (~new[1]["rankable"]).any() and new[1]["room_for_improvement"].eq(0).any()


@pytest.mark.parametrize("q", [0.05, 0.1, 0.25, 0.3, 0.5, 0.75, 0.9, 1.0, 0.0])
def test_group_quantile_is_pandas_quantile_to_the_bit(q):
    rng = np.random.default_rng(7)
    group = rng.integers(0, 40, 600)
    values = rng.normal(size=600)
    values[rng.random(600) < 0.1] = np.nan
    values[group == 3] = np.nan  # a group without values
    expected = pd.Series(values).groupby(group).transform(lambda x: x.quantile(q)).to_numpy()
    got = ranking._group_quantile(values, group, q)
    assert np.array_equal(np.isnan(got), np.isnan(expected)) and np.array_equal(got[~np.isnan(got)], expected[~np.isnan(expected)])


def test_small_chunks_goal_weights_and_another_reference_give_the_same_rows(monkeypatch):
    model, scores, phases = synthetic(5, n_gemeenten=4)
    weights = {"gezond_a": 3.0, "veilig_b": 0.5}
    config = ranking.RankingConfig(n_draws=200, top_k=3, goal_weights=weights, reference_quantile=0.1)
    whole = ranking.rank_factors(model, scores, phases, config)
    monkeypatch.setattr(ranking, "CHUNK_BYTES", 1)  # one area per chunk
    new = ranking.rank_factors(model, scores, phases, config)
    for a, b in zip(new, whole):
        pd.testing.assert_frame_equal(a, b)  # explanations included
    old = legacy_ranking.rank_factors(model, scores, phases, legacy_ranking.RankingConfig(
        n_draws=200, top_k=3, goal_weights=weights, reference_quantile=0.1))
    assert_same_ranking(new[0], old[0])
    assert_same_ranking(new[1], old[1])


def test_rank_scope_of_one_area_matches():
    model, scores, _ = synthetic(6)
    config = ranking.RankingConfig(n_draws=400)
    draws = ranking._draws(model, config)
    gaps = np.array([0.5, 0.0, np.nan, 1.2, 0.0, np.nan, 0.3, 0.3, 2.0, 0.1, 0.7, 0.7])
    eligible = np.arange(12) % 4 != 1
    weights = ranking._weights(model, config)
    new = ranking.rank_scope(model, draws, gaps, weights, eligible, config)
    old = legacy_ranking.rank_scope(model, draws, gaps, weights, eligible, config)
    new = new.assign(scope_type=None, scope_id=None, area_code=None, score_year=None, priority=None, n_draws=1,
                     note=None, method_version=None)  # rank_factors adds these to rank_scope's rows
    old = old.assign(scope_type=None, scope_id=None, area_code=None, n_draws=1, method_version=None)
    assert_same_ranking(new[ranking.RANKING_COLUMNS], old[legacy_ranking.RANKING_COLUMNS])


@pytest.mark.slow
def test_rank_factors_matches_on_the_demo_warehouse(demo_run):
    from models_ml import associations, chains, merge
    from models_ml.panel import build_panels

    settings, result = demo_run
    assert result.success
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        q = lambda sql: con.execute(sql).df()  # noqa: E731
        scores = q("select * from intermediate.int_factor_score")
        merged = merge.merge_effects(associations.estimate_associations(build_panels(con)), merge.load_literature(con))
        chain = chains.estimate_chains(q("select * from factor_model.factor_factor_links"), scores)
        model = ranking_model.build_model(q("select factor_id, factor_type, name_nl from factor_model.factors"),
                                          q("select subgoal_id, domain_id, name_nl from factor_model.subgoals"), merged, chain)
        phases = q("select * from factor_model.factor_life_phases")
    # the reference adds the chains to every effect (ranking-1.3.0 and before); since ranking-1.4.0
    # they add to the direct (local) part only (``chain_multipliers``, tested in test_ranking.py):
    # compared here is the vectorisation, on the reference's chain rule
    assert model.direct_part is not None and (model.direct_part < 1).any()
    model = dataclasses.replace(model, direct_part=None)
    new = ranking.rank_factors(model, scores, phases)
    old = legacy_ranking.rank_factors(model, scores, phases)
    assert_same_ranking(new[0], old[0])
    assert_same_ranking(new[1], old[1])


def test_with_score_error_off_the_error_variances_change_nothing():
    """``RankingConfig(score_error=False)``: exact gaps as in ranking-1.4.0 and the reference, whatever
    error variances the scores carry. (The tests above run with it on, on scores without error
    variances: the drawn gaps are then the point gaps, and every number is the reference's.)"""
    model, scores, phases = synthetic(8)
    noisy = scores.assign(error_var=np.random.default_rng(8).uniform(0.0, 0.8, len(scores)))
    config = ranking.RankingConfig(n_draws=300, seed=8, score_error=False)
    new = ranking.rank_factors(model, noisy, phases, config)
    old = legacy_ranking.rank_factors(model, scores, phases, legacy_ranking.RankingConfig(n_draws=300, seed=8))
    assert_same_ranking(new[0], old[0])
    assert_same_ranking(new[1], old[1])
    on = ranking.rank_factors(model, noisy, phases, dataclasses.replace(config, score_error=True))
    assert not np.allclose(on[1]["rank_ci90_upper"].astype(float), new[1]["rank_ci90_upper"].astype(float), equal_nan=True)


def test_drawn_gaps_do_not_depend_on_the_batches(monkeypatch):
    """The score draws come from one stream in gemeente order, so batching the wijken (one gemeente
    per batch here) gives the same rows."""
    model, scores, phases = synthetic(9, n_gemeenten=4)
    noisy = scores.assign(error_var=np.random.default_rng(9).uniform(0.0, 0.8, len(scores)))
    config = ranking.RankingConfig(n_draws=200, seed=9)
    whole = ranking.rank_factors(model, noisy, phases, config)
    monkeypatch.setattr(ranking, "CHUNK_BYTES", 1)
    for a, b in zip(ranking.rank_factors(model, noisy, phases, config), whole):
        pd.testing.assert_frame_equal(a, b)
