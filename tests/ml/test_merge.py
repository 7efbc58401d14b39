"""Merge with literature: conversion, outcome combination, pooling against closed-form formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml.associations import NOTE
from models_ml.merge import (MergeConfig, combine_outcomes, empirical_bayes_prior_variance, merge_effects, pool,
                             shrink_local_only, to_cohens_d)


def test_r_to_d_conversion_and_delta_se():
    d, se = to_cohens_d([0.0, 0.3, -0.3], [0.1, 0.1, 0.1])
    assert d[0] == 0 and d[1] == pytest.approx(2 * 0.3 / np.sqrt(1 - 0.09)) and d[2] == -d[1]
    eps = 1e-6
    deriv = (to_cohens_d(0.3 + eps, 0)[0] - to_cohens_d(0.3 - eps, 0)[0]) / (2 * eps)
    assert se[1] == pytest.approx(deriv * 0.1, rel=1e-6)


@pytest.mark.parametrize("tau, w", [(0.0, 1.0), (0.1, 1.0), (0.25, 1.0)])
def test_pooling_equals_fixed_and_random_effects_formulas(tau, w):
    rng = np.random.default_rng(1)
    d1, s1, d2, s2 = rng.normal(0.3, 0.2, 50), rng.uniform(0.05, 0.3, 50), rng.normal(0.2, 0.2, 50), rng.uniform(0.05, 0.3, 50)
    mean, sd, _ = pool(d1, s1, d2, s2, tau=tau, local_weight=w)
    wi1, wi2 = 1 / (s1**2 + tau**2), 1 / (s2**2 + tau**2)  # inverse variance (RE with known tau^2; FE when 0)
    assert np.allclose(mean, (wi1 * d1 + wi2 * d2) / (wi1 + wi2), atol=1e-6, rtol=0)
    assert np.allclose(sd, np.sqrt(1 / (wi1 + wi2)), atol=1e-6, rtol=0)


def test_local_weight_divides_local_variance():
    mean, sd, share = pool(0.5, 0.1, 0.0, 0.1, tau=0.1, local_weight=0.5)
    v_lit, v_loc = 0.02, 0.02 / 0.5
    assert mean == pytest.approx((0.5 / v_lit) / (1 / v_lit + 1 / v_loc), abs=1e-12)
    assert share == pytest.approx((1 / v_loc) / (1 / v_lit + 1 / v_loc))
    with pytest.raises(ValueError):
        pool(0.5, 0.1, 0.0, 0.1, local_weight=0)


def _assoc(rows):
    base = {"subgoal_id": "sub", "status": "estimated", "note": NOTE}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_outcomes_of_a_subgoal_count_equally():
    a = _assoc([
        {"outcome_indicator_id": "o1", "factor_id": "f", "estimate": 0.2, "std_error": 0.05},
        {"outcome_indicator_id": "o2", "factor_id": "f", "estimate": 0.1, "std_error": 0.10},
        {"outcome_indicator_id": "o3", "factor_id": "f", "estimate": np.nan, "std_error": np.nan, "status": "not_estimable"},
    ])
    out = combine_outcomes(a).iloc[0]
    d, se = to_cohens_d([0.2, 0.1], [0.05, 0.10])
    assert out["d_local"] == pytest.approx(d.mean(), abs=1e-12)  # not weighted by precision
    assert out["se_local"] == pytest.approx(np.sqrt((se**2).sum()) / 2, abs=1e-12)
    assert out["n_outcomes_local"] == 2 and out["outcomes_local"] == "o1;o2"


def test_labels_literature_only_local_only_and_merged():
    a = _assoc([
        {"outcome_indicator_id": "o1", "factor_id": "both", "estimate": 0.2, "std_error": 0.05},
        {"outcome_indicator_id": "o1", "factor_id": "local", "estimate": -0.1, "std_error": 0.05},
        {"outcome_indicator_id": "o1", "factor_id": "thin", "estimate": np.nan, "std_error": np.nan,
         "status": "not_estimable"},
    ])
    lit = pd.DataFrame([
        ("both__sub", "both", "sub", 0.4, 0.1, "A", False, "Someone 2020"),
        ("lit__sub", "lit", "sub", 0.3, 0.1, "B", False, "Other 2019"),
        ("thin__sub", "thin", "sub", 0.2, 0.15, "placeholder", True, None),
    ], columns=["link_id", "factor_id", "subgoal_id", "effect_size_d", "se_d", "evidence_grade", "is_placeholder", "citation"])
    cfg = MergeConfig(tau=0.1, local_weight=0.5, shrink_local_only=False)  # shrinkage: tests below
    out = merge_effects(a, lit, cfg).set_index("factor_id")
    assert out.loc["both", "source"] == "merged"
    assert out.loc["lit", "source"] == "literature_only"      # literature, no local data
    assert out.loc["thin", "source"] == "literature_only"     # local not estimable
    assert bool(out.loc["thin", "literature_is_placeholder"]) is True
    assert out.loc["local", "source"] == "local_only"         # local data, no literature
    assert pd.isna(out.loc["local", "d_literature"]) and pd.isna(out.loc["local", "literature_is_placeholder"])
    # literature only: the literature estimate with tau^2 added
    assert out.loc["lit", "d_merged"] == pytest.approx(0.3)
    assert out.loc["lit", "se_merged"] == pytest.approx(np.sqrt(0.1**2 + 0.1**2))
    # local only: (se^2 + tau^2) / w
    d, se = to_cohens_d(-0.1, 0.05)
    assert out.loc["local", "d_merged"] == pytest.approx(d)
    assert out.loc["local", "se_merged"] == pytest.approx(np.sqrt((se**2 + 0.01) / 0.5))
    # merged lies between the sources
    d_both = to_cohens_d(0.2, 0.05)[0]
    assert min(0.4, d_both) < out.loc["both", "d_merged"] < max(0.4, d_both)
    assert out.loc["both", "evidence_grade"] == "A" and out.loc["both", "citation"] == "Someone 2020"
    assert (out["note"] == NOTE).all() and out["method_version"].notna().all()
    assert (out["ci90_lower"] < out["d_merged"]).all()


def test_empirical_bayes_prior_variance_is_the_marginal_mle():
    # equal standard errors: closed form A = max(0, mean(b^2) - se^2)
    rng = np.random.default_rng(3)
    b = rng.normal(0, np.sqrt(0.04 + 0.01), 4000)
    a = empirical_bayes_prior_variance(b, np.full_like(b, 0.1))
    assert a == pytest.approx(max(0.0, np.mean(b**2) - 0.01), rel=1e-3)
    assert a == pytest.approx(0.04, rel=0.1)
    # estimates no more spread than their errors: no true variance
    assert empirical_bayes_prior_variance(rng.normal(0, 0.1, 2000), np.full(2000, 0.2)) == 0.0
    assert np.isnan(empirical_bayes_prior_variance([0.1], [0.1]))


def test_shrinkage_moves_noisy_local_only_estimates_most_and_leaves_literature_pairs_alone():
    rng = np.random.default_rng(5)
    n = 60
    truth = np.where(np.arange(n) < 10, 0.4, 0.0)
    se = np.where(np.arange(n) % 2 == 0, 0.03, 0.25)  # precise and noisy estimates alike
    a = _assoc([{"outcome_indicator_id": f"o{i}", "factor_id": f"f{i}", "estimate": truth[i] + rng.normal(0, se[i]),
                 "std_error": se[i], "area_level": "buurt"} for i in range(n)])
    with_lit = {("f0", "sub"), ("f1", "sub")}
    out = shrink_local_only(a, with_lit)
    k = out["estimate"] / a["estimate"]
    assert (out.loc[:1, "estimate"] == a.loc[:1, "estimate"]).all() and not out.loc[:1, "shrunk"].any()
    assert out.loc[2:, "shrunk"].all() and ((k[2:] > 0) & (k[2:] < 1)).all()
    assert k[2:][se[2:] == 0.03].min() > 0.9 > 0.5 > k[2:][se[2:] == 0.25].max()  # precise barely move
    assert (out.loc[2:, "std_error"] < a.loc[2:, "std_error"]).all()
    # the prior variance is per area level: a level of pure noise is shrunk to 0
    noise = _assoc([{"outcome_indicator_id": f"w{i}", "factor_id": f"g{i}", "estimate": rng.normal(0, 0.2),
                     "std_error": 0.2, "area_level": "wijk"} for i in range(40)])
    both = shrink_local_only(pd.concat([a, noise], ignore_index=True), set())
    assert both.loc[both["area_level"] == "wijk", "estimate"].abs().max() < 0.05
    assert both.loc[both["area_level"] == "buurt", "estimate"].abs().max() > 0.3


def test_merge_reports_the_unshrunk_local_estimate():
    a = _assoc([{"outcome_indicator_id": f"o{i}", "factor_id": f"f{i}", "estimate": e, "std_error": 0.1,
                 "area_level": "wijk"} for i, e in enumerate([0.5, -0.3, 0.05, 0.2, -0.1])])
    lit = pd.DataFrame([("f0__sub", "f0", "sub", 0.4, 0.1, "A", False, "Someone 2020")],
                       columns=["link_id", "factor_id", "subgoal_id", "effect_size_d", "se_d", "evidence_grade", "is_placeholder", "citation"])
    out = merge_effects(a, lit).set_index("factor_id")
    raw = merge_effects(a, lit, MergeConfig(shrink_local_only=False)).set_index("factor_id")
    assert (out["d_local_unshrunk"] == raw["d_local"]).all()
    assert out.loc["f0", "d_local"] == raw.loc["f0", "d_local"]  # literature pair: not shrunk
    others = out.index != "f0"
    assert (out.loc[others, "d_local"].abs() < out.loc[others, "d_local_unshrunk"].abs()).all()


def test_local_scale_multiplies_the_local_d_and_its_error_before_pooling():
    """The scale-convention sensitivity (MergeConfig.local_scale): local d and SE times the factor,
    literature untouched, the pool recomputed from the scaled local estimate."""
    a = _assoc([{"outcome_indicator_id": "o1", "factor_id": "both", "estimate": 0.2, "std_error": 0.05}])
    lit = pd.DataFrame([("both__sub", "both", "sub", 0.4, 0.1, "A", False, "Someone 2020")],
                       columns=["link_id", "factor_id", "subgoal_id", "effect_size_d", "se_d", "evidence_grade",
                                "is_placeholder", "citation"])
    base = merge_effects(a, lit, MergeConfig(shrink_local_only=False)).iloc[0]
    twice = merge_effects(a, lit, MergeConfig(shrink_local_only=False, local_scale=2.0)).iloc[0]
    assert twice["d_local"] == pytest.approx(2 * base["d_local"]) and twice["se_local"] == pytest.approx(2 * base["se_local"])
    assert twice["d_literature"] == base["d_literature"]
    d, sd, _ = pool(0.4, 0.1, twice["d_local"], twice["se_local"], 0.1, 0.5)
    assert twice["d_merged"] == pytest.approx(float(d)) and twice["se_merged"] == pytest.approx(float(sd))


def test_sensitivity_comparison_counts_the_top_kept_and_the_largest_moves():
    from models_ml.sensitivity import compare

    base = pd.Series({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 5.0, "f": 6.0, "g": 7.0})
    other = pd.Series({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "f": 5.0, "e": 7.0})  # g unranked, e and f swap
    r = compare(base, other, top=5)
    assert r["factors"] == 6 and r["dropped"] == ["g"] and r["top_kept"] == 4
    assert r["moved"][0] == ("e", 5.0, 7.0)
    assert r["spearman"] == pytest.approx(0.9428571, abs=1e-6)
