"""Local associations: cross-checks against statsmodels, diagnostics and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from models_ml.associations import (
    COLUMNS, NOTE, AssociationConfig, estimate_associations, estimate_outcome, within_transform,
)
from models_ml.panel import OutcomePanel
from tests.ml.helpers import make_panel

OLS = AssociationConfig(regularisation="none", cluster_se="CR1", errors_in_variables=False)  # the statsmodels cross-checks


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


@pytest.mark.parametrize("drop_frac", [0.0, 0.1])
def test_cr3_standard_error_is_the_jackknife_of_statsmodels_refits(drop_frac):
    """CR3 (the default) equals the jackknife of the whole two-way model computed by a reference
    implementation: for every area, statsmodels OLS with area and year dummies on the other areas;
    (G-1)/G * sum of squared deviations of the leave-one-area-out coefficients."""
    panel = make_panel(n_areas=12, n_years=5, seed=8, drop_frac=drop_frac)
    out = estimate_outcome(panel, AssociationConfig(regularisation="none")).set_index("factor_id")
    assert set(out["method"]) == {"ols_fe_cr3"}
    df = panel.data
    areas = sorted(df["area_code"].unique())
    loo = np.array([smf.ols("y ~ f0 + f1 + f2 + C(area_code) + C(year)", data=df[df["area_code"] != a]).fit()
                    .params[panel.factors].to_numpy() for a in areas])
    g = len(areas)
    se = np.sqrt((g - 1) / g * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0))
    cr1 = estimate_outcome(panel, OLS).set_index("factor_id")
    for j, f in enumerate(panel.factors):
        assert out.loc[f, "std_error"] == pytest.approx(se[j], rel=1e-8)
        assert out.loc[f, "estimate"] == pytest.approx(cr1.loc[f, "estimate"], abs=1e-12)
    # with 12 areas the jackknife is wider than CR1 for this panel
    assert (out["std_error"] > cr1["std_error"]).all()


def test_cr3_in_batches_gives_the_same_standard_errors(monkeypatch):
    import models_ml.associations as assoc

    panel = make_panel(n_areas=12, n_years=5, seed=9)
    whole = estimate_outcome(panel, AssociationConfig(regularisation="none"))
    monkeypatch.setattr(assoc, "CR3_CHUNK_BYTES", 1)  # one cluster per batch
    pd.testing.assert_frame_equal(estimate_outcome(panel, AssociationConfig(regularisation="none")), whole)


def _national_panel(n_gem=30, areas_per_gem=4, n_years=6, beta=0.3, seed=11):
    """Buurten of many gemeenten; every gemeente has its own year shocks, which move both the
    factor ``f0`` and the outcome (a registration change, say): a confounder at gemeente x year."""
    rng = np.random.default_rng(seed)
    rows = [(f"BU{9000 + g:04d}{a:02d}01", g, 2015 + t) for g in range(n_gem) for a in range(areas_per_gem)
            for t in range(n_years)]
    df = pd.DataFrame(rows, columns=["area_code", "gem", "year"])
    shock = rng.normal(0, 1, (n_gem, n_years))[df["gem"], df["year"] - 2015]
    area = pd.factorize(df["area_code"])[0]
    df["f0"] = rng.normal(0, 1, len(df)) + 1.5 * shock + rng.normal(0, 1, area.max() + 1)[area]
    df["f1"] = rng.normal(0, 1, len(df))
    gem_noise = rng.normal(0, 0.4, (n_gem, n_years))[df["gem"], df["year"] - 2015]  # shared within gemeente-year
    df["y"] = beta * df["f0"] + 2.0 * shock + gem_noise + rng.normal(0, 0.5, len(df))
    df["y_link"], df["y_sampling_var"] = df["y"], 0.0
    from models_ml.panel import OutcomePanel
    return OutcomePanel(outcome_indicator_id="out_nat", subgoal_id="sub_x", area_level="buurt", link="logit",
                        orientation=1, data=df.drop(columns="gem"), factors=["f0", "f1"],
                        factor_flags={"f0": [], "f1": []})


def test_several_gemeenten_get_gemeente_by_year_effects_and_gemeente_clusters():
    """A shock per gemeente and year that moves factor and outcome together is absorbed by
    gemeente x year effects (the estimate recovers beta = 0.3); with year effects alone (one
    code for all gemeenten, as a single-gemeente panel would have) it is read as association.
    With 30 gemeenten the clusters are gemeenten: the standard error is the jackknife over gemeenten."""
    from models_ml.associations import effect_codes

    panel = _national_panel()
    df = panel.data
    codes = effect_codes(df["area_code"], df["year"])
    assert (codes.n_gemeenten, codes.cluster_level, codes.n_clusters) == (30, "gemeente", 30)
    assert codes.time.max() + 1 == 30 * 6
    out = estimate_outcome(panel, AssociationConfig(regularisation="none")).set_index("factor_id")
    assert abs(out.loc["f0", "estimate"] - 0.3) < 3 * out.loc["f0", "std_error"]  # mean 0.309 over 20 seeds
    # the same data with plain year effects: biased by the shocks
    area = pd.factorize(df["area_code"], sort=True)[0]
    year = pd.factorize(df["year"], sort=True)[0]
    w = within_transform(df[["f0", "f1", "y"]].to_numpy(float), area, year)
    naive = np.linalg.lstsq(w[:, :2], w[:, 2], rcond=None)[0][0]
    assert naive > 0.6
    # standard error: leave one gemeente out (brute force on the within-transformed rows)
    w = within_transform(df[["f0", "f1", "y"]].to_numpy(float), codes.area, codes.time)
    loo = np.array([np.linalg.lstsq(w[codes.cluster != g, :2], w[codes.cluster != g, 2], rcond=None)[0]
                    for g in range(30)])
    se = np.sqrt(29 / 30 * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0))
    assert out.loc["f0", "std_error"] == pytest.approx(se[0], rel=1e-9)
    assert out.loc["f0", "ci90_upper"] - out.loc["f0", "estimate"] == pytest.approx(
        stats.t.ppf(0.95, 29) * se[0], rel=1e-9)


def test_few_gemeenten_keep_area_clusters_and_one_gemeente_keeps_year_effects():
    from models_ml.associations import effect_codes

    df = _national_panel(n_gem=3).data
    codes = effect_codes(df["area_code"], df["year"])
    assert (codes.cluster_level, codes.n_clusters, codes.time.max() + 1) == ("area", 12, 18)
    one = df[df["area_code"].str[2:6] == "9000"]
    codes = effect_codes(one["area_code"], one["year"])
    assert (codes.n_gemeenten, codes.cluster_level, codes.time.max() + 1) == (1, "area", 6)


def test_effect_codes_are_the_sorted_codes_of_their_definition():
    """The codes are computed on the distinct area codes and (gemeente, year) pairs: the same as
    sorting the texts of every row (the gemeente's 4 digits; none for another code or a missing one)."""
    from models_ml.associations import effect_codes

    rng = np.random.default_rng(8)
    codes = [f"{rng.choice(['BU', 'WK'])}{rng.choice(['0363', '0599', '9999'])}{rng.integers(0, 40):04d}"
             for _ in range(600)] + ["XX12", None, "GM0363"]
    area, year = pd.Series(codes, dtype=object), pd.Series(rng.integers(2013, 2025, len(codes)))
    gemeente = area.astype(str).str.extract(r"^(?:BU|WK|GM)(\d{4})", expand=False).fillna("")
    got = effect_codes(area, year, min_gemeenten_to_cluster=2)
    assert got.n_gemeenten == 4 and got.cluster_level == "gemeente"  # 3, and none for XX12 and the missing code
    assert np.array_equal(got.area, pd.factorize(area, sort=True)[0])
    assert np.array_equal(got.time, pd.factorize(gemeente + ":" + year.astype(str), sort=True)[0])
    assert np.array_equal(got.cluster, pd.factorize(gemeente, sort=True)[0])


def _buurt_panel_with_a_wijk_factor(seed: int, n_wijken: int = 12, buurten: int = 6, n_years: int = 8,
                                    beta: float = 0.3, shock_sd: float = 0.5) -> OutcomePanel:
    """A buurt panel whose factor f_w is scored per wijk (every buurt of a wijk has its wijk's
    score, as ``wijk_score_for_buurt``), and an outcome with wijk-year shocks: errors correlated
    within the wijk, which buurt clusters do not see."""
    rng = np.random.default_rng(seed)
    rows = []
    for w in range(n_wijken):
        wijk_level, shocks = rng.normal(), rng.normal(0, shock_sd, n_years)
        x_w = wijk_level + rng.normal(0, 1, n_years)
        for b in range(buurten):
            level, x_b = rng.normal(), rng.normal(size=n_years)
            for t in range(n_years):
                y = beta * x_w[t] + 0.2 * x_b[t] + level + 0.1 * t + shocks[t] + rng.normal(0, 0.3)
                rows.append((f"BU9999{w:02d}{b:02d}", 2015 + t, x_w[t], x_b[t], y))
    df = pd.DataFrame(rows, columns=["area_code", "year", "f_w", "f_b", "y"])
    df["y_link"], df["y_sampling_var"] = df["y"], 0.0
    return OutcomePanel("out", "sub", "buurt", "logit", 1, df, ["f_w", "f_b"],
                        factor_flags={"f_w": ["wijk_score_for_buurt"], "f_b": []},
                        wijk_of={c: "WK" + c[2:8] for c in df["area_code"].unique()})


def test_a_factor_scored_per_wijk_gets_standard_errors_clustered_by_wijk():
    """With wijk-year shocks, buurt clusters understate the wijk factor's standard error; wijk
    clusters (CR3, t with wijken - 1 degrees of freedom) keep its 90% intervals near 90% over 200
    simulated panels. The buurt-scored factor keeps its buurt clusters."""
    cfg = AssociationConfig(regularisation="none")
    z_wijk, z_buurt, covered = [], [], []
    for seed in range(200):
        panel = _buurt_panel_with_a_wijk_factor(seed)
        out = estimate_outcome(panel, cfg).set_index("factor_id")
        plain = estimate_outcome(OutcomePanel(**{**panel.__dict__, "wijk_of": {}}), cfg).set_index("factor_id")
        assert out.loc["f_w", "estimate"] == pytest.approx(plain.loc["f_w", "estimate"], abs=1e-12)
        assert out.loc["f_b", "std_error"] == pytest.approx(plain.loc["f_b", "std_error"], rel=1e-12)
        z_wijk.append((out.loc["f_w", "estimate"] - 0.3) / out.loc["f_w", "std_error"])
        z_buurt.append((plain.loc["f_w", "estimate"] - 0.3) / plain.loc["f_w", "std_error"])
        covered.append(out.loc["f_w", "ci90_lower"] <= 0.3 <= out.loc["f_w", "ci90_upper"])
    assert np.std(z_buurt) > 1.5  # buurt clusters: far too narrow
    assert 0.85 <= np.std(z_wijk) <= 1.25
    assert 0.84 <= np.mean(covered) <= 0.97  # 0.95 measured: CR3 with t(11) errs on the safe side


def test_the_wijk_clustered_standard_error_never_undercuts_the_buurt_clustered_one():
    """Without wijk-year shocks the wijk-clustered variance, from 12 clusters, is as often below the
    buurt-clustered one as above it; below, the buurt one is kept (with the wijken's degrees of
    freedom): a noisier variance estimate cannot make the estimate surer."""
    cfg = AssociationConfig(regularisation="none")
    kept_buurt = widened = 0
    for seed in range(40):
        panel = _buurt_panel_with_a_wijk_factor(seed, shock_sd=0.0)
        out = estimate_outcome(panel, cfg).set_index("factor_id")
        plain = estimate_outcome(OutcomePanel(**{**panel.__dict__, "wijk_of": {}}), cfg).set_index("factor_id")
        se, se_buurt = out.loc["f_w", "std_error"], plain.loc["f_w", "std_error"]
        assert se >= se_buurt
        kept_buurt += se == se_buurt
        widened += se > se_buurt
        half = (out.loc["f_w", "ci90_upper"] - out.loc["f_w", "ci90_lower"]) / 2
        assert half == pytest.approx(stats.t.ppf(0.95, df=11) * se, rel=1e-9)  # wijken - 1 degrees of freedom
    assert kept_buurt >= 5 and widened >= 5, (kept_buurt, widened)


def test_outcomes_without_any_estimate_are_listed_with_their_reason():
    from models_ml.associations import outcomes_without_estimate

    rows = pd.DataFrame({
        "outcome_indicator_id": ["a", "a", "b", "b", "c"], "area_level": ["wijk", "wijk", "buurt", "buurt", "wijk"],
        "factor_id": ["f", "g", "f", "g", "f"],
        "status": ["not_estimable", "not_estimable", "estimated", "not_estimable", "not_estimable"],
        "reason": ["60 observations for 15 factors", "60 observations for 15 factors", None, "collinear", "one year"],
    })
    missing = outcomes_without_estimate(rows)
    assert missing.to_dict("records") == [
        {"outcome_indicator_id": "a", "area_level": "wijk", "factors": 2, "reason": "60 observations for 15 factors"},
        {"outcome_indicator_id": "c", "area_level": "wijk", "factors": 1, "reason": "one year"},
    ]


def test_cr3_with_a_few_gemeenten_is_the_jackknife_of_refits_with_gemeente_by_year_dummies():
    """A region of 3 gemeenten (area clusters, gemeente x year effects): the leave-one-area-out refits
    need one year dummy dropped per gemeente, not one in all (the others are collinear with the area
    effects; the refit matrix was singular and the standard errors came out at 1e17 on region panels)."""
    panel = _national_panel(n_gem=3, areas_per_gem=5, n_years=5, seed=12)
    df = panel.data.assign(gem_year=lambda d: d["area_code"].str[2:6] + ":" + d["year"].astype(str))
    out = estimate_outcome(panel, AssociationConfig(regularisation="none")).set_index("factor_id")
    areas = sorted(df["area_code"].unique())
    loo = np.array([smf.ols("y ~ f0 + f1 + C(area_code) + C(gem_year)", data=df[df["area_code"] != a]).fit()
                    .params[panel.factors].to_numpy() for a in areas])
    g = len(areas)
    se = np.sqrt((g - 1) / g * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0))
    for j, f in enumerate(panel.factors):
        assert out.loc[f, "std_error"] == pytest.approx(se[j], rel=1e-8)
    # the year dummies of the refits, demeaned within area, have full rank: 3 x 5 - 3 columns
    from models_ml.associations import _dummies_within, effect_codes
    codes = effect_codes(df["area_code"], df["year"])
    dummies = _dummies_within(codes.time, codes.area)
    assert dummies.shape[1] == np.linalg.matrix_rank(dummies) == 12
