"""The ranking's Monte Carlo draws carry the covariance of estimates from one joint regression.

The local estimates of one outcome come from one regression on all its linked factors, so those of
correlated factors are correlated (``associations.local_covariance``); the merge is linear in them
for fixed weights (``merge.merged_covariance``), and the ranking draws each sub-goal's effects
jointly (``ranking.correlated_draws``). The chain strengths of one factor's parents, estimated
together, likewise (``chains.joint_covariance``). Checked here: the propagated covariance against
a hand computation, its diagonal against the merged standard errors, the draws against it, and on
a panel with two collinear factors, that the draws carry their negative correlation (independent
draws did not) and the sum of their impacts the smaller variance it implies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml import chains, merge, ranking, ranking_model
from models_ml.associations import AssociationConfig, estimate_outcome_with_covariance
from models_ml.panel import OutcomePanel

N_DRAWS = 200_000

FACTORS = pd.DataFrame({"factor_id": ["armoede", "pesten", "schulden"], "factor_type": ["risk"] * 3,
                        "name_nl": ["Armoede", "Pesten", "Schulden"]})
SUBGOALS = pd.DataFrame({"subgoal_id": ["sub"], "domain_id": ["dom"], "name_nl": ["Doel"]})
NO_LITERATURE = pd.DataFrame(columns=["link_id", "factor_id", "subgoal_id", "effect_size_d", "se_d", "evidence_grade",
                                      "is_placeholder", "citation"])


def _association_rows() -> pd.DataFrame:
    """Two outcomes of one sub-goal: o1 estimates all three factors, o2 only armoede and schulden."""
    rows = [("o1", "armoede", 0.20, 0.05), ("o1", "pesten", -0.10, 0.08), ("o1", "schulden", 0.15, 0.06),
            ("o2", "armoede", 0.05, 0.10), ("o2", "schulden", 0.30, 0.12)]
    return pd.DataFrame([{"outcome_indicator_id": o, "subgoal_id": "sub", "factor_id": f, "area_level": "buurt",
                          "estimate": b, "std_error": se, "status": "estimated"} for o, f, b, se in rows])


def _local_cov() -> pd.DataFrame:
    corr = [("o1", "armoede", "pesten", 0.3), ("o1", "armoede", "schulden", -0.7), ("o1", "pesten", "schulden", -0.2),
            ("o2", "armoede", "schulden", -0.5)]
    return pd.DataFrame([{"outcome_indicator_id": o, "subgoal_id": "sub", "factor_a": a, "factor_b": b,
                          "correlation": r} for o, a, b, r in corr])


def _literature() -> pd.DataFrame:
    """Literature for (pesten, sub) only: that pair is merged, the others are local-only (and shrunk)."""
    return pd.DataFrame([{"link_id": "l1", "factor_id": "pesten", "subgoal_id": "sub", "effect_size_d": 0.2,
                          "se_d": 0.1, "evidence_grade": "B", "is_placeholder": False, "citation": "x"}])


CONFIG = merge.MergeConfig(tau=0.03, local_weight=0.8)


def _hand_covariance(config: merge.MergeConfig) -> np.ndarray:
    """The brief's formula, computed step by step: per outcome the d-scale standard error is the
    shrunk standard error (``shrink_local_only``) times the delta method's ``2 / (1 - r^2)^1.5`` at
    the shrunk estimate; ``cov = share_a share_b sum_o corr se_d,a se_d,b / (n_a n_b)``."""
    a = merge.shrink_local_only(_association_rows(), {("pesten", "sub")}).set_index(["outcome_indicator_id", "factor_id"])
    r = a["estimate"]
    se_d = 2 / (1 - r**2) ** 1.5 * a["std_error"]
    n = {"armoede": 2, "pesten": 1, "schulden": 2}
    share = merge.merge_effects(_association_rows(), _literature(), config).set_index("factor_id")["local_share"]
    f = list(FACTORS["factor_id"])
    out = np.zeros((3, 3))
    for row in _local_cov().itertuples():
        i, j = f.index(row.factor_a), f.index(row.factor_b)
        out[i, j] += (row.correlation * se_d[(row.outcome_indicator_id, row.factor_a)]
                      * se_d[(row.outcome_indicator_id, row.factor_b)] / (n[row.factor_a] * n[row.factor_b]))
    out = out * np.outer(share[f], share[f])
    return out + out.T


def _model(config: merge.MergeConfig = CONFIG, with_cov: bool = True) -> ranking_model.Model:
    assoc, lit = _association_rows(), _literature()
    merged = merge.merge_effects(assoc, lit, config)
    cov = merge.merged_covariance(assoc, _local_cov(), lit, merged, config) if with_cov else None
    no_chains = pd.DataFrame(columns=["from_factor_id", "to_factor_id", "coefficient", "std_error"])
    return ranking_model.build_model(FACTORS, SUBGOALS, merged, no_chains, cov)


def test_merged_covariance_is_the_linear_propagation_of_the_local_covariance():
    assoc, lit = _association_rows(), _literature()
    merged = merge.merge_effects(assoc, lit, CONFIG)
    cov = merge.merged_covariance(assoc, _local_cov(), lit, merged, CONFIG)
    assert set(merged["source"]) == {"merged", "local_only"}
    hand = _hand_covariance(CONFIG)
    f = list(FACTORS["factor_id"])
    for row in cov.itertuples():
        assert row.covariance == pytest.approx(hand[f.index(row.factor_a), f.index(row.factor_b)], rel=1e-12)
    assert len(cov) == 3 and (cov.loc[cov["factor_b"] == "schulden", "covariance"] < 0).all()


@pytest.mark.parametrize("config", [CONFIG, merge.MergeConfig(), merge.MergeConfig(shrink_local_only=False),
                                    merge.MergeConfig(tau=0.2, local_weight=0.3, local_scale=2.0)])
def test_the_diagonal_is_the_merged_variance_to_rounding(config):
    """The propagated sampling variance plus what the merge adds per pair (tau, w, literature) is
    ``se_merged^2``: nothing changes in the marginals."""
    assoc, lit = _association_rows(), _literature()
    merged = merge.merge_effects(assoc, lit, config)
    parts = merge.variance_parts(assoc, lit, merged, config).merge(merged, on=["factor_id", "subgoal_id"])
    assert (parts["local"] > 0).all() and (parts["independent"] > 0).all()
    np.testing.assert_allclose(parts["total"], parts["se_merged"] ** 2, rtol=1e-12, atol=0)
    model = _model(config)
    np.testing.assert_allclose(np.diagonal(model.d_cov[0]), model.d_se[0] ** 2, rtol=1e-12, atol=0)
    assert np.all(np.linalg.eigvalsh(model.d_cov[0]) > 0)


def test_the_draws_have_the_propagated_covariance():
    model = _model()
    d, _ = ranking.effect_draws(model, ranking.RankingConfig(n_draws=N_DRAWS, seed=11))
    sigma = model.d_cov[0]
    empirical = np.cov(d[:, 0, :], rowvar=False)
    mc_se = np.sqrt((sigma**2 + np.outer(np.diag(sigma), np.diag(sigma))) / N_DRAWS)  # SE of a sample covariance
    assert np.all(np.abs(empirical - sigma) < 4 * mc_se), (empirical, sigma)
    np.testing.assert_allclose(d[:, 0, :].mean(axis=0), model.d_mean[0], atol=4 * np.sqrt(np.diag(sigma) / N_DRAWS).max())
    np.testing.assert_allclose(np.diag(sigma), model.d_se[0] ** 2, rtol=1e-12, atol=0)  # the old marginal variances
    chol = ranking.psd_cholesky(sigma)
    np.testing.assert_allclose(np.diag(chol @ chol.T), model.d_se[0] ** 2, rtol=1e-12, atol=0)


def test_without_off_diagonal_covariance_the_draws_are_the_independent_ones_to_the_bit():
    model = _model(with_cov=False)
    assert model.d_cov is None
    diagonal = _model(with_cov=False)
    diagonal.d_cov = np.diag(model.d_se[0] ** 2)[None]  # a covariance without correlations
    cfg = ranking.RankingConfig(n_draws=500, seed=3)
    assert np.array_equal(ranking.effect_draws(model, cfg)[0], ranking.effect_draws(diagonal, cfg)[0])
    rng = np.random.default_rng(3)
    assert np.array_equal(ranking.effect_draws(model, cfg)[0],
                          model.d_mean + model.d_se * rng.standard_normal((500, *model.d_mean.shape)))


def test_psd_cholesky_clips_a_matrix_that_is_semi_definite_up_to_rounding_and_keeps_its_variances():
    v = np.array([0.04, 0.09, 0.01])
    corr = np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, -0.5], [0.5, -0.5, 1.0]])  # singular: two factors the same
    cov = corr * np.sqrt(np.outer(v, v))
    cov[0, 1] = cov[1, 0] = cov[0, 1] * (1 + 1e-9)  # a correlation a hair below -1: not PSD
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(cov)
    chol = ranking.psd_cholesky(cov)
    np.testing.assert_allclose(np.diag(chol @ chol.T), v, rtol=1e-12, atol=0)
    np.testing.assert_allclose(chol @ chol.T, cov, atol=1e-7)


# --------------------------------------------------------------------------- two collinear factors


def _collinear_panel(seed: int = 5, n_areas: int = 40, n_years: int = 6) -> OutcomePanel:
    """y = 0.3 x1 + 0.3 x2 + area + year + noise, with x2 = x1 + a little noise (within r about 0.95)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(f"BU0001{a:04d}", 2015 + t) for a in range(n_areas) for t in range(n_years)],
                      columns=["area_code", "year"])
    area = pd.factorize(df["area_code"])[0]
    x1 = rng.standard_normal(len(df)) + rng.standard_normal(n_areas)[area]
    x2 = x1 + 0.35 * rng.standard_normal(len(df))
    df["armoede"], df["schulden"] = x1, x2
    df["y"] = 0.3 * x1 + 0.3 * x2 + rng.normal(0, 1, n_areas)[area] + rng.normal(0, 1.0, len(df))
    df["y_link"], df["y_sampling_var"] = df["y"], 0.0
    return OutcomePanel(outcome_indicator_id="o1", subgoal_id="sub", area_level="buurt", link="logit", orientation=1,
                        data=df, factors=["armoede", "schulden"], factor_flags={"armoede": [], "schulden": []})


def test_collinear_factors_are_drawn_anti_correlated_and_their_sum_has_the_implied_variance():
    rows, local_cov = estimate_outcome_with_covariance(_collinear_panel(), AssociationConfig(regularisation="none"))
    (r_local,) = local_cov["correlation"]
    assert r_local < -0.8, local_cov  # the estimates of two collinear factors trade off
    config = merge.MergeConfig(shrink_local_only=False)  # tau 0.1, w 0.5: what the pipeline adds
    merged = merge.merge_effects(rows, NO_LITERATURE, config)
    merged_cov = merge.merged_covariance(rows, local_cov, NO_LITERATURE, merged, config)
    no_chains = pd.DataFrame(columns=["from_factor_id", "to_factor_id", "coefficient", "std_error"])
    joint = ranking_model.build_model(FACTORS, SUBGOALS, merged, no_chains, merged_cov)
    independent = ranking_model.build_model(FACTORS, SUBGOALS, merged, no_chains)
    cfg = ranking.RankingConfig(n_draws=N_DRAWS, seed=7)
    f = [list(FACTORS["factor_id"]).index(x) for x in ("armoede", "schulden")]
    sigma = joint.d_cov[0][np.ix_(f, f)]
    r_merged = sigma[0, 1] / np.sqrt(sigma[0, 0] * sigma[1, 1])
    assert r_merged < -0.3  # diluted by tau and w, still clearly negative
    gaps = np.array([1.0, 0.6])  # the impacts: room for improvement times the effect (no chains, one sub-goal)
    impact = {name: ranking._draws(model, cfg)[:, 0, f] * gaps for name, model in
              (("joint", joint), ("independent", independent))}
    r_drawn = np.corrcoef(impact["joint"].T)[0, 1]
    assert r_drawn == pytest.approx(r_merged, abs=4 * (1 - r_merged**2) / np.sqrt(N_DRAWS))
    assert abs(np.corrcoef(impact["independent"].T)[0, 1]) < 4 / np.sqrt(N_DRAWS)  # the old draws: uncorrelated
    implied = gaps @ sigma @ gaps
    without = gaps**2 @ np.diag(sigma)
    assert implied < 0.8 * without
    for name, expected in (("joint", implied), ("independent", without)):
        drawn = impact[name].sum(axis=1).var()
        assert drawn == pytest.approx(expected, rel=4 * np.sqrt(2 / N_DRAWS)), name


def test_ridge_path_reports_its_bootstrap_correlation_scaled_by_the_reported_standard_errors():
    """The ridge path's correlation is that of its (seeded) cluster-bootstrap draws. On these
    collinear factors it is near 0, not strongly negative like OLS's: the penalty pulls the two
    coefficients towards each other, so they no longer trade off one for one."""
    cfg = AssociationConfig(regularisation="ridge", n_boot=100)
    rows, local_cov = estimate_outcome_with_covariance(_collinear_panel(), cfg)
    again = estimate_outcome_with_covariance(_collinear_panel(), cfg)[1]
    pd.testing.assert_frame_equal(local_cov, again)
    (row,) = local_cov.itertuples()
    se = rows.set_index("factor_id")["std_error"]
    assert set(rows["method"]) == {"ridge_fe_bootstrap"} and -1 <= row.correlation <= 1 and row.correlation != 0
    assert row.covariance == pytest.approx(row.correlation * se["armoede"] * se["schulden"], rel=1e-12)


# --------------------------------------------------------------------------- chains


def _chain_scores(seed: int = 2, n_areas: int = 30, n_years: int = 6) -> pd.DataFrame:
    """Buurt scores of two collinear parents (armoede, pesten) and their child (schulden)."""
    rng = np.random.default_rng(seed)
    rows = []
    base = rng.standard_normal((n_areas, n_years))
    p1 = base + 0.5 * rng.standard_normal(n_areas)[:, None]
    p2 = p1 + 0.4 * rng.standard_normal((n_areas, n_years))
    child = 0.3 * p1 + 0.2 * p2 + rng.standard_normal((n_areas, n_years))
    for a in range(n_areas):
        for t in range(n_years):
            for f, v in (("armoede", p1), ("pesten", p2), ("schulden", child)):
                rows.append({"area_code": f"BU0001{a:04d}", "area_level": "buurt", "year": 2015 + t,
                             "factor_id": f, "score": v[a, t]})
    return pd.DataFrame(rows)


def test_chain_strengths_of_one_joint_regression_are_drawn_together():
    links = pd.DataFrame({"link_id": ["l1", "l2"], "from_factor_id": ["armoede", "pesten"],
                          "to_factor_id": ["schulden", "schulden"], "effect_direction": ["increases", "increases"]})
    strengths, cov = chains.estimate_chains_with_covariance(links, _chain_scores())
    assert (strengths["source"] == "local").all() and (strengths["adjusted_for"] != "").all()
    (row,) = cov.itertuples()
    assert (row.to_factor_id, row.factor_a, row.factor_b) == ("schulden", "armoede", "pesten")
    assert row.correlation < -0.5
    se = strengths.set_index("from_factor_id")["std_error"]
    assert row.covariance == pytest.approx(row.correlation * se["armoede"] * se["pesten"], rel=1e-12)
    no_effects = pd.DataFrame(columns=["factor_id", "subgoal_id", "d_merged", "se_merged"])
    model = ranking_model.build_model(FACTORS, SUBGOALS, no_effects, strengths, chain_cov=cov)
    _, b = ranking.effect_draws(model, ranking.RankingConfig(n_draws=N_DRAWS, seed=5))
    f = list(FACTORS["factor_id"])
    drawn = b[:, f.index("schulden")][:, [f.index("armoede"), f.index("pesten")]]
    assert np.corrcoef(drawn.T)[0, 1] == pytest.approx(row.correlation, abs=4 * (1 - row.correlation**2) / np.sqrt(N_DRAWS))
    np.testing.assert_allclose(drawn.std(axis=0), se[["armoede", "pesten"]], rtol=4 / np.sqrt(2 * N_DRAWS))
