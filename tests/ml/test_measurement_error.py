"""Errors in variables: the factor scores' sampling error, and the associations corrected for it.

The factor scores are means of indicator values measured with sampling error (small buurten,
survey samples). Regressed on them, the associations are attenuated towards 0 by the scores'
within-area reliability; ``associations`` corrects the OLS path with the method-of-moments
estimator ``(X'X - S)^-1 X'y`` (Fuller 1987), with ``S`` from ``panel.factor_score_error_variance``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml.associations import AssociationConfig, estimate_outcome, within_transform
from models_ml.panel import OutcomePanel, factor_score_error_variance

EIV = AssociationConfig(regularisation="none")  # the default: corrected where reliability >= 0.2
PLAIN = AssociationConfig(regularisation="none", errors_in_variables=False)


def noisy_panel(seed: int, n_areas: int = 40, n_years: int = 6, beta=(0.5, 0.3), error_var=(0.2, 0.0),
                drop_frac: float = 0.0) -> tuple[OutcomePanel, np.ndarray]:
    """y = X* beta + area + year + noise, observed factors X = X* + u with known var(u); the factor
    columns standardised by their panel SD as ``build_panels`` does, ``factor_error_var`` likewise.
    Returns the panel and the truth on the estimand's scale: beta times the panel SD of X*."""
    rng = np.random.default_rng(seed)
    rows = [(f"BU9999{a:04d}", 2015 + t) for a in range(n_areas) for t in range(n_years)]
    df = pd.DataFrame(rows, columns=["area_code", "year"])
    area = pd.factorize(df["area_code"])[0]
    year = df["year"].to_numpy() - 2015
    k = len(beta)
    x_true = rng.standard_normal((len(df), k)) + 1.5 * rng.standard_normal((n_areas, k))[area]
    y = x_true @ np.asarray(beta) + rng.normal(0, 1, n_areas)[area] + rng.normal(0, 0.3, n_years)[year]
    y += rng.normal(0, 0.5, len(df))
    x = x_true + rng.standard_normal((len(df), k)) * np.sqrt(np.asarray(error_var))
    factors = [f"f{j}" for j in range(k)]
    sd = x.std(axis=0, ddof=1)
    for j, f in enumerate(factors):
        df[f] = (x[:, j] - x[:, j].mean()) / sd[j]
    df["y"] = df["y_link"] = y
    df["y_sampling_var"] = 0.0
    errors = pd.DataFrame({f: np.full(len(df), error_var[j] / sd[j] ** 2) for j, f in enumerate(factors)})
    if drop_frac:
        keep = np.sort(rng.choice(len(df), int(len(df) * (1 - drop_frac)), replace=False))
        df, errors = df.iloc[keep].reset_index(drop=True), errors.iloc[keep].reset_index(drop=True)
    panel = OutcomePanel(outcome_indicator_id="out_x", subgoal_id="sub_x", area_level="buurt", link="logit",
                         orientation=1, data=df, factors=factors, factor_flags={f: [] for f in factors},
                         factor_error_var=errors)
    return panel, np.asarray(beta) * x_true.std(axis=0, ddof=1)


def test_the_correction_removes_the_attenuation_and_its_intervals_cover_the_truth():
    """200 panels: f0 is measured with error (within reliability about 0.83), f1 without. Plain OLS
    recovers 86% of f0's effect and its intervals cover the truth 43% of the time (measured); the
    corrected estimates are unbiased to within 2% (1.005) and their 90% intervals cover the truth
    85-95% of the time (0.925)."""
    plain, corrected, covered, covered_plain = [], [], [], []
    for seed in range(200):
        panel, truth = noisy_panel(seed)
        a = estimate_outcome(panel, PLAIN).set_index("factor_id")
        b = estimate_outcome(panel, EIV).set_index("factor_id")
        plain.append(a["estimate"].to_numpy() / truth)
        corrected.append(b["estimate"].to_numpy() / truth)
        covered.append(((b["ci90_lower"] <= truth) & (truth <= b["ci90_upper"])).to_numpy())
        covered_plain.append(((a["ci90_lower"] <= truth) & (truth <= a["ci90_upper"])).to_numpy())
        assert b.loc["f0", "flags"] == "corrected_for_measurement_error" and b.loc["f1", "flags"] == ""
        assert b.loc["f0", "reliability"] == pytest.approx(0.83, abs=0.08) and b.loc["f1", "reliability"] == 1.0
    plain, corrected = np.mean(plain, axis=0), np.mean(corrected, axis=0)
    covered, covered_plain = np.mean(covered, axis=0), np.mean(covered_plain, axis=0)
    assert plain[0] < 0.9 and covered_plain[0] < 0.6, (plain, covered_plain)
    assert corrected == pytest.approx([1.0, 1.0], abs=0.02), corrected
    assert 0.85 <= covered[0] <= 0.95 and 0.85 <= covered[1] <= 0.95, covered


def test_a_factor_of_low_reliability_is_corrected_too_and_its_intervals_still_cover():
    """200 panels with f0's within reliability about 0.4 (0.24-0.54; below the 0.7 that was the
    threshold until associations-1.6.0): the corrected estimates come out at 1.04 of the truth on
    average (the ratio estimator's small-sample bias) and their intervals cover it 97% of the time;
    plain OLS recovers about 0.4 of it."""
    corrected, covered, plain = [], [], []
    for seed in range(200):
        panel, truth = noisy_panel(seed, error_var=(1.5, 0.0))
        b = estimate_outcome(panel, EIV).set_index("factor_id")
        assert b.loc["f0", "flags"] == "corrected_for_measurement_error", b.loc["f0", "reliability"]
        corrected.append(b.loc["f0", "estimate"] / truth[0])
        covered.append(b.loc["f0", "ci90_lower"] <= truth[0] <= b.loc["f0", "ci90_upper"])
        plain.append(estimate_outcome(panel, PLAIN).set_index("factor_id").loc["f0", "estimate"] / truth[0])
    assert np.mean(corrected) == pytest.approx(1.0, abs=0.06), np.mean(corrected)
    assert 0.85 <= np.mean(covered) <= 0.98, np.mean(covered)
    assert np.mean(plain) < 0.5, np.mean(plain)


def test_a_factor_with_too_low_reliability_is_left_uncorrected_and_flagged():
    panel, _ = noisy_panel(1, error_var=(10.0, 0.0))  # within reliability about 0.1
    out = estimate_outcome(panel, EIV).set_index("factor_id")
    plain = estimate_outcome(panel, PLAIN).set_index("factor_id")
    assert out.loc["f0", "flags"] == "low_reliability" and out.loc["f0", "reliability"] < 0.2
    pd.testing.assert_frame_equal(out[["estimate", "std_error"]], plain[["estimate", "std_error"]])
    # an error model that expects more sampling error than the observed variation: reliability 0
    # (all noise), not negative
    noise, _ = noisy_panel(1, error_var=(10.0, 0.0))
    noise.factor_error_var["f0"] *= 3
    assert estimate_outcome(noise, EIV).set_index("factor_id").loc["f0", "reliability"] == 0.0
    # unknown errors (a panel built without them, or a year filled by interpolation): no correction
    panel.factor_error_var.loc[3, "f0"] = np.nan
    unknown = estimate_outcome(panel, EIV).set_index("factor_id")
    assert np.isnan(unknown.loc["f0", "reliability"]) and unknown.loc["f0", "flags"] == ""


@pytest.mark.parametrize("kind", ["CR3", "CR1"])
def test_the_corrected_estimate_and_its_standard_errors_match_a_reference_implementation(kind):
    """Reference: area and year dummies, ``M = I - H`` of the dummies computed exactly, ``S = sum_i
    M_ii var(u_i)``; CR3 from explicit leave-one-area-out refits of the whole two-way model (the
    same ``M_ii var(u_i)`` per row), CR1 the sandwich of the estimating equations. Balanced panel,
    where ``m_ii = 1 - 1/T - 1/G + 1/N`` is exact."""
    panel, _ = noisy_panel(5, n_areas=12, n_years=5, beta=(0.5, 0.3, 0.0), error_var=(0.2, 0.1, 0.0))
    out = estimate_outcome(panel, AssociationConfig(regularisation="none", cluster_se=kind)).set_index("factor_id")
    df, cols = panel.data, panel.factors
    x, y = df[cols].to_numpy(float), df["y"].to_numpy(float)
    dummies = pd.get_dummies(df[["area_code", "year"]].astype(str), drop_first=True).to_numpy(float)
    z = np.column_stack([np.ones(len(df)), dummies])

    def fit(rows: np.ndarray, s_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        zz = z[rows][:, np.abs(z[rows]).sum(axis=0) > 0]
        m = np.eye(len(zz)) - zz @ np.linalg.pinv(zz)
        xm, ym = m @ x[rows], m @ y[rows]
        b = np.linalg.solve(xm.T @ xm - np.diag(s_rows[rows].sum(axis=0)), xm.T @ ym)
        return b, xm, ym - xm @ b

    m_full = np.diag(np.eye(len(df)) - z @ np.linalg.pinv(z))
    s_rows = m_full[:, None] * panel.factor_error_var[cols].to_numpy(float)
    everything = np.arange(len(df))
    beta, xm, resid = fit(everything, s_rows)
    areas = df["area_code"].to_numpy()
    if kind == "CR3":
        loo = np.array([fit(np.flatnonzero(areas != a), s_rows)[0] for a in np.unique(areas)])
        g = len(loo)
        se = np.sqrt((g - 1) / g * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0))
    else:
        psi = xm * resid[:, None] + s_rows * beta[None, :]
        scores = pd.DataFrame(psi).groupby(areas).sum().to_numpy()
        bread = np.linalg.inv(xm.T @ xm - np.diag(s_rows.sum(axis=0)))
        g, n, k = len(scores), len(df), len(cols)
        se = np.sqrt(np.diag(g / (g - 1) * (n - 1) / (n - k) * bread @ scores.T @ scores @ bread))
    # the estimand is per SD of the factor's signal: 1 - mean error variance of the standardised score
    scale = np.sqrt(1.0 - panel.factor_error_var[cols].mean().to_numpy())
    scale[panel.factor_error_var[cols].max().to_numpy() == 0] = 1.0  # f2 has no error: not corrected
    for j, f in enumerate(cols):
        assert out.loc[f, "estimate"] == pytest.approx(beta[j] * scale[j], rel=1e-8)
        assert out.loc[f, "std_error"] == pytest.approx(se[j] * scale[j], rel=1e-8)


def test_unbalanced_panels_use_the_approximate_diagonal():
    """On an unbalanced panel ``m_ii = 1 - 1/T_a - 1/N_t + 1/N`` is an approximation of the exact
    diagonal of the two-way within transformation; the estimate stays within 1% of the one with
    the exact diagonal (computed here from the dummies)."""
    panel, _ = noisy_panel(6, drop_frac=0.2)
    df, cols = panel.data, panel.factors
    out = estimate_outcome(panel, EIV).set_index("factor_id")
    z = np.column_stack([np.ones(len(df)),
                         pd.get_dummies(df[["area_code", "year"]].astype(str), drop_first=True).to_numpy(float)])
    m = np.diag(np.eye(len(df)) - z @ np.linalg.pinv(z))
    area, year = pd.factorize(df["area_code"])[0], pd.factorize(df["year"])[0]
    xw = within_transform(df[cols].to_numpy(float), area, year)
    yw = within_transform(df["y"].to_numpy(float), area, year)
    s = (m[:, None] * panel.factor_error_var[cols].to_numpy()).sum(axis=0)
    s[1] = 0.0  # f1 has no error
    exact = np.linalg.solve(xw.T @ xw - np.diag(s), xw.T @ yw)
    exact[0] *= np.sqrt(1.0 - panel.factor_error_var["f0"].mean())
    assert out["estimate"].to_numpy() == pytest.approx(exact, rel=0.01)


def test_factor_score_error_variance_by_hand():
    """Two indicators of one factor, two buurten and a wijk, one year (and a second year for the
    pooled rate). A percentage: binomial at the buurt's pooled rate; a survey value: its standard
    error squared; each divided by the square of the indicator's spread across the areas of its
    level, gemeente and year, and the sum by the number of indicators squared."""
    rows = [
        # indicator, factor, unit, multiplier, year, area, level, numerator, denominator, value, se
        ("pct", "f", "percentage", 100, 2024, "BU99990001", "buurt", 10, 100, 10.0, None),
        ("pct", "f", "percentage", 100, 2023, "BU99990001", "buurt", 30, 100, 30.0, None),
        ("pct", "f", "percentage", 100, 2024, "BU99990002", "buurt", 40, 200, 20.0, None),
        ("srv", "f", "survey_prevalence", 100, 2024, "BU99990001", "buurt", None, None, 50.0, 2.0),
        ("srv", "f", "survey_prevalence", 100, 2024, "BU99990002", "buurt", None, None, 60.0, 3.0),
        ("pct", "f", "percentage", 100, 2024, "WK999901", "wijk", 50, 300, 50 / 3, None),
    ]
    values = pd.DataFrame(rows, columns=["indicator_id", "factor_id", "unit", "multiplier", "year", "area_code",
                                         "area_level", "numerator", "denominator", "value", "standard_error"])
    out = factor_score_error_variance(values).set_index(["area_code", "year"])["error_var"]
    sd_pct, sd_srv = np.std([10.0, 20.0], ddof=1), np.std([50.0, 60.0], ddof=1)
    rate_1 = 40 / 200  # BU..01 pooled over 2023 and 2024
    var_pct_1 = 100**2 * rate_1 * (1 - rate_1) / 100
    expected_1 = (var_pct_1 / sd_pct**2 + 2.0**2 / sd_srv**2) / 2**2
    assert out[("BU99990001", 2024)] == pytest.approx(expected_1, rel=1e-12)
    var_pct_2 = 100**2 * 0.2 * 0.8 / 200
    assert out[("BU99990002", 2024)] == pytest.approx((var_pct_2 / sd_pct**2 + 9.0 / sd_srv**2) / 4, rel=1e-12)
    # one value at its level (the wijk) has no spread, 2023 neither: no score, no error variance
    assert ("WK999901", 2024) not in out.index and ("BU99990001", 2023) not in out.index


def test_a_panel_of_few_clusters_corrects_only_reliable_scores():
    """With fewer than 30 areas (the demo's 12 wijken) a reliability of about 0.4 is not corrected:
    the corrected estimator's denominator is then a small signal variance estimated from few
    clusters (the demo's wijk-level standard errors went from 0.18 to 1.7 in the median)."""
    from models_ml.associations import FEW_CLUSTERS, reliability_threshold

    assert reliability_threshold(EIV, FEW_CLUSTERS) == 0.2
    assert reliability_threshold(EIV, FEW_CLUSTERS - 1) == 0.7
    few, _ = noisy_panel(1, n_areas=20, error_var=(1.5, 0.2))
    out = estimate_outcome(few, EIV).set_index("factor_id")
    assert out.loc["f0", "flags"] == "low_reliability" and 0.2 < out.loc["f0", "reliability"] < 0.7
    assert out.loc["f1", "flags"] == "corrected_for_measurement_error" and out.loc["f1", "reliability"] >= 0.7
    many, _ = noisy_panel(1, n_areas=40, error_var=(1.5, 0.2))
    assert estimate_outcome(many, EIV).set_index("factor_id").loc["f0", "flags"] == "corrected_for_measurement_error"
