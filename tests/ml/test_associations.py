"""Local associations: cross-checks against statsmodels, diagnostics and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from models_ml.associations import (
    COLUMNS, NOTE, AssociationConfig, estimate_associations, estimate_outcome, within_transform,
)
from tests.ml.helpers import make_panel

OLS = AssociationConfig(regularisation="none", cluster_se="CR1")  # the statsmodels cross-checks


@pytest.mark.parametrize("drop_frac", [0.0, 0.15])  # balanced and unbalanced panels
def test_ols_matches_statsmodels_with_area_and_year_dummies(drop_frac):
    panel = make_panel(drop_frac=drop_frac, seed=3)
    out = estimate_outcome(panel, OLS).set_index("factor_id")
    df = panel.data
    ref = smf.ols("y ~ f0 + f1 + f2 + C(area_code) + C(year)", data=df).fit()
    for f in panel.factors:
        assert out.loc[f, "estimate"] == pytest.approx(ref.params[f], abs=1e-6)
    assert set(out["method"]) == {"ols_fe_cr1"}


@pytest.mark.parametrize("drop_frac", [0.0, 0.15])
def test_cluster_robust_se_matches_statsmodels_cluster(drop_frac):
    """Same within-transformed data, statsmodels cov_type='cluster' (CR1: G/(G-1) (N-1)/(N-K))."""
    panel = make_panel(drop_frac=drop_frac, seed=4)
    out = estimate_outcome(panel, OLS).set_index("factor_id")
    df = panel.data
    area = pd.factorize(df["area_code"], sort=True)[0]
    year = pd.factorize(df["year"], sort=True)[0]
    w = pd.DataFrame(within_transform(df[panel.factors + ["y"]].to_numpy(float), area, year),
                     columns=panel.factors + ["y"])
    ref = smf.ols("y ~ f0 + f1 + f2 - 1", data=w).fit(cov_type="cluster", cov_kwds={"groups": area})
    for f in panel.factors:
        assert out.loc[f, "estimate"] == pytest.approx(ref.params[f], abs=1e-6)
        assert out.loc[f, "std_error"] == pytest.approx(ref.bse[f], abs=1e-4)
    assert (out["ci90_lower"] < out["estimate"]).all() and (out["estimate"] < out["ci90_upper"]).all()


def test_output_columns_note_and_version():
    out = estimate_associations([make_panel()], OLS)
    assert list(out.columns) == COLUMNS
    assert (out["note"] == NOTE).all()
    assert out["method_version"].notna().all()
    assert (out[["n_areas", "n_years", "n_obs"]].iloc[0].tolist() == [30, 6, 180])


def test_ridge_path_grouped_cv_and_cluster_bootstrap():
    panel = make_panel(n_areas=25, seed=5)
    cfg = AssociationConfig(regularisation="ridge", n_boot=60, seed=1)
    a = estimate_outcome(panel, cfg).set_index("factor_id")
    b = estimate_outcome(panel, cfg).set_index("factor_id")
    assert set(a["method"]) == {"ridge_fe_bootstrap"}
    assert a["alpha"].notna().all()
    pd.testing.assert_frame_equal(a, b)  # seeded
    ols = estimate_outcome(panel, OLS).set_index("factor_id")
    # ridge shrinks: never further from zero than OLS in total, and close for a small penalty
    assert np.abs(a["estimate"]).sum() <= np.abs(ols["estimate"]).sum() + 1e-9
    assert (a["std_error"] > 0).all()
    assert (a["ci90_lower"] <= a["estimate"]).all() and (a["estimate"] <= a["ci90_upper"]).all()


def test_auto_uses_ridge_only_when_collinear():
    panel = make_panel(seed=6)
    assert set(estimate_outcome(panel).method) == {"ols_fe_cr3"}
    df = panel.data
    df["f3"] = df["f0"] + np.random.default_rng(0).normal(0, 0.05, len(df))  # VIF >> 10
    panel.factors.append("f3")
    panel.factor_flags["f3"] = []
    out = estimate_outcome(panel, AssociationConfig(n_boot=30)).set_index("factor_id")
    assert set(out["method"]) == {"ridge_fe_bootstrap"}
    assert out.loc["f3", "max_vif"] > 10
    assert "collinear" in out.loc["f3", "flags"] and "collinear" in out.loc["f0", "flags"]


def test_perfectly_collinear_factor_is_dropped_and_said_so():
    panel = make_panel(seed=7)
    df = panel.data
    df["f_copy"] = 2 * df["f1"] - df["f2"]  # an exact combination
    panel.factors.append("f_copy")
    panel.factor_flags["f_copy"] = []
    out = estimate_outcome(panel, OLS).set_index("factor_id")
    row = out.loc["f_copy"]
    assert row["status"] == "not_estimable" and np.isnan(row["estimate"]) and np.isnan(row["std_error"])
    assert "perfectly collinear" in row["reason"] and "f1" in row["reason"] and "f2" in row["reason"]
    assert "perfectly_collinear" in row["flags"]
    assert (out.drop(index="f_copy")["status"] == "estimated").all()
    ref = estimate_outcome(make_panel(seed=7), OLS).set_index("factor_id")
    assert out.loc["f0", "estimate"] == pytest.approx(ref.loc["f0", "estimate"], abs=1e-9)


def test_factor_constant_within_areas_is_not_estimable():
    panel = make_panel(seed=8)
    df = panel.data
    df["f_stable"] = pd.factorize(df["area_code"])[0].astype(float)  # absorbed by the area effects
    panel.factors.append("f_stable")
    panel.factor_flags["f_stable"] = []
    out = estimate_outcome(panel, OLS).set_index("factor_id")
    assert out.loc["f_stable", "status"] == "not_estimable"
    assert "no_within_variation" in out.loc["f_stable", "flags"]


def test_outcome_with_one_year_only_is_not_estimable():
    panel = make_panel(n_years=1)
    out = estimate_outcome(panel, OLS)
    assert (out["status"] == "not_estimable").all()
    assert out["estimate"].isna().all() and out["ci90_lower"].isna().all()
    assert out["flags"].str.contains("too_little_data").all()
    assert out["reason"].str.contains("1 years").all()


@pytest.mark.parametrize("kwargs, text", [
    ({"n_areas": 8}, "8 areas"),
    ({"n_areas": 10, "n_years": 3, "betas": (0.1,) * 7}, "30 observations for 7 factors"),
])
def test_too_little_data(kwargs, text):
    out = estimate_outcome(make_panel(**kwargs), OLS)
    assert (out["status"] == "not_estimable").all() and out["estimate"].isna().all()
    assert out["reason"].str.contains(text).all()


def test_factor_without_data_is_reported():
    panel = make_panel()
    panel.missing_factors = ["f_nodata"]
    out = estimate_outcome(panel, OLS).set_index("factor_id")
    assert out.loc["f_nodata", "status"] == "not_estimable"
    assert "no_factor_data" in out.loc["f_nodata", "flags"]
    assert np.isnan(out.loc["f_nodata", "estimate"])
    assert (out.drop(index="f_nodata")["status"] == "estimated").all()


def test_cr3_standard_error_is_the_leave_one_area_out_jackknife():
    """CR3 (the default) equals the jackknife over areas computed by brute force: drop one area's
    rows of the within-transformed data, refit OLS, (G-1)/G * sum of squared deviations."""
    panel = make_panel(n_areas=12, n_years=5, seed=8, drop_frac=0.1)
    out = estimate_outcome(panel, AssociationConfig(regularisation="none")).set_index("factor_id")
    assert set(out["method"]) == {"ols_fe_cr3"}
    df = panel.data
    area = pd.factorize(df["area_code"], sort=True)[0]
    year = pd.factorize(df["year"], sort=True)[0]
    w = within_transform(df[panel.factors + ["y"]].to_numpy(float), area, year)
    x, y = w[:, :-1], w[:, -1]
    g = area.max() + 1
    loo = np.array([np.linalg.lstsq(x[area != a], y[area != a], rcond=None)[0] for a in range(g)])
    se = np.sqrt((g - 1) / g * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0))
    cr1 = estimate_outcome(panel, OLS).set_index("factor_id")
    for j, f in enumerate(panel.factors):
        assert out.loc[f, "std_error"] == pytest.approx(se[j], rel=1e-9)
        assert out.loc[f, "estimate"] == pytest.approx(cr1.loc[f, "estimate"], abs=1e-12)
    # with 12 areas the jackknife is wider than CR1 for this panel
    assert (out["std_error"] > cr1["std_error"]).all()
