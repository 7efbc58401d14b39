"""Precision weights: an outcome measured in a small buurt is noisier than in a large one.

The associations weigh every area-year by ``1 / (sigma2 + v_i)`` (``precision_weights``; ``v_i``
the row's sampling variance, ``sigma2`` the model's own noise) and fit weighted least squares with
weighted two-way fixed effects. Checked here against statsmodels' WLS with area and year dummies,
and on simulated panels: more precise than unweighted OLS, and the 90% intervals still cover.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from models_ml.associations import AssociationConfig, effect_codes, estimate_outcome, precision_weights, within_transform
from tests.ml.helpers import make_panel

WLS = AssociationConfig(precision_weights=True, errors_in_variables=False)
OLS = AssociationConfig(precision_weights=False, errors_in_variables=False)
NOISE_VAR = 0.25  # sigma2: the area-year noise besides sampling error


def _panel_with_sampling_error(seed: int, betas=(0.3, -0.15), n_areas: int = 30, n_years: int = 6, drop_frac=0.0):
    """make_panel's design with an outcome whose sampling variance differs 50-fold between rows
    (areas of very different size), known to the panel as ``y_sampling_var``."""
    panel = make_panel(n_areas=n_areas, n_years=n_years, betas=betas, seed=seed, drop_frac=drop_frac)
    df = panel.data.copy()
    rng = np.random.default_rng(seed + 1)
    area = pd.factorize(df["area_code"])[0]
    size = rng.choice([0.04, 0.2, 1.0, 2.0], n_areas)[area]  # sampling variance per area
    x = df[panel.factors].to_numpy(float)
    df["y"] = (x @ np.asarray(betas) + rng.normal(0, 1, n_areas)[area] + 0.2 * (df["year"] - 2015)
               + rng.normal(0, np.sqrt(NOISE_VAR), len(df)) + rng.normal(0, np.sqrt(size)))
    df["y_link"] = df["y"]
    df["y_sampling_var"] = size
    return dataclasses.replace(panel, data=df, outcome_sd_signal=1.0)


def _weights(panel):
    df = panel.data
    codes = effect_codes(df["area_code"], df["year"])
    xw = within_transform(df[panel.factors].to_numpy(float), codes.area, codes.time)
    yw = within_transform(df["y"].to_numpy(float), codes.area, codes.time)
    return precision_weights(panel, xw, yw, codes), codes


@pytest.mark.parametrize("drop_frac", [0.0, 0.15])  # balanced and unbalanced panels
def test_weighted_fit_matches_statsmodels_wls_with_area_and_year_dummies(drop_frac):
    panel = _panel_with_sampling_error(seed=3, drop_frac=drop_frac)
    df = panel.data
    w, codes = _weights(panel)
    # every area its own dummy (no intercept), so leaving an area out just drops its column
    area_dummies = pd.get_dummies(df["area_code"]).astype(float).to_numpy()
    year_dummies = pd.get_dummies(df["year"], drop_first=True).astype(float).to_numpy()
    design = np.column_stack([df[panel.factors].to_numpy(float), area_dummies, year_dummies])
    ref = sm.WLS(df["y"].to_numpy(float), design, weights=w).fit()
    out = estimate_outcome(panel, WLS).set_index("factor_id")
    np.testing.assert_allclose(out.loc[panel.factors, "estimate"], ref.params[:2], atol=1e-6)
    # CR3: the jackknife of refits of the whole weighted model without one area (same weights)
    area = codes.area
    refits = []
    for g in range(area.max() + 1):
        keep = area != g
        d = design[keep][:, np.abs(design[keep]).sum(axis=0) > 0]
        refits.append(sm.WLS(df["y"].to_numpy(float)[keep], d, weights=w[keep]).fit().params[:2])
    refits = np.array(refits)
    n_g = len(refits)
    centred = refits - refits.mean(axis=0)
    jackknife = np.sqrt(np.diag((n_g - 1) / n_g * centred.T @ centred))
    np.testing.assert_allclose(out.loc[panel.factors, "std_error"], jackknife, rtol=1e-4)


def test_precision_weights_follow_the_sampling_variance_and_recover_the_noise():
    """w_i is proportional to 1 / (sigma2 + v_i): regressing 1 / w on v gives back sigma2."""
    panel = _panel_with_sampling_error(seed=5, n_areas=200, n_years=8)
    w, _ = _weights(panel)
    v = panel.data["y_sampling_var"].to_numpy(float)
    slope, intercept = np.polyfit(v, 1.0 / w, 1)
    assert np.allclose(1.0 / w, intercept + slope * v)  # exactly of that form
    assert intercept / slope == pytest.approx(NOISE_VAR, abs=0.08)
    assert w.mean() == pytest.approx(1.0)


def test_without_sampling_variance_there_are_no_weights():
    """A panel whose sampling variances are unknown or all 0 is fitted unweighted, identically."""
    panel = make_panel(seed=2)  # y_sampling_var 0, outcome_sd_signal unknown
    assert _weights(panel)[0] is None
    pd.testing.assert_frame_equal(estimate_outcome(panel, WLS), estimate_outcome(panel, OLS))


def test_weighted_estimates_are_more_precise_than_unweighted_ones_and_their_intervals_cover():
    """120 simulated panels: the weighted estimates vary less around the truth than OLS's (the
    gain a 50-fold range of sampling variances allows), and their 90% intervals still cover."""
    betas = np.array([0.3, -0.15])
    est = {"wls": [], "ols": []}
    covered = []
    for seed in range(120):
        panel = _panel_with_sampling_error(seed=100 + seed, betas=tuple(betas))
        for name, cfg in (("wls", WLS), ("ols", OLS)):
            out = estimate_outcome(panel, cfg).set_index("factor_id").loc[panel.factors]
            est[name].append(out["estimate"].to_numpy())
            if name == "wls":
                covered.append(((out["ci90_lower"] <= betas) & (betas <= out["ci90_upper"])).to_numpy())
    sd = {k: np.std(np.array(v) - betas, axis=0) for k, v in est.items()}
    assert np.all(sd["wls"] < 0.8 * sd["ols"]), sd
    assert np.all(np.abs(np.mean(est["wls"], axis=0) - betas) < 0.02), np.mean(est["wls"], axis=0)
    assert 0.85 <= np.mean(covered) <= 0.96, np.mean(covered)
