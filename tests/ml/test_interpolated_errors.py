"""Errors in variables where survey years are interpolated (associations-1.7.0).

A survey factor measured every other year enters the panels with the years between filled by
interpolation (``panel._fill_years``), so a filled year's score carries the sampling errors of the
measured years it is made of, shared with their rows. ``panel.shared_error_offdiagonal`` gives every
row the sum of those covariances, and ``associations.measurement_error_rows`` subtracts their part
of the within-area cross-products; before 1.7.0 such factors were not corrected at all and came out
at about half their effect in a region of 8 (``benchmarks/ranking_power.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml.associations import AssociationConfig, estimate_outcome
from models_ml.panel import _fill_years, build_panels, shared_error_offdiagonal

EIV = AssociationConfig(regularisation="none")
PLAIN = AssociationConfig(regularisation="none", errors_in_variables=False)


def test_the_sources_of_filled_years_are_their_measured_neighbours():
    score = pd.Series([1.0, 3.0, 7.0], index=pd.MultiIndex.from_tuples(
        [("A", 2015), ("A", 2017), ("A", 2021)], names=["area_code", "year"]))
    filled = _fill_years(score, list(range(2014, 2023)))
    assert filled.values[0].tolist() == [1, 1, 2, 3, 4, 5, 6, 7, 7]
    assert filled.source_prev[0].tolist() == [2015, 2015, 2015, 2017, 2017, 2017, 2017, 2021, 2021]
    assert filled.source_next[0].tolist() == [2015, 2015, 2017, 2017, 2021, 2021, 2021, 2021, 2021]
    assert filled.w_next[0].tolist() == [0, 0, 0.5, 0, 0.25, 0.5, 0.75, 0, 0]
    # the values are the weighted sums of their sources, as the errors are taken to be
    measured = {2015: 1.0, 2017: 3.0, 2021: 7.0}
    rebuilt = [(1 - w) * measured[p] + w * measured[n]
               for p, n, w in zip(filled.source_prev[0], filled.source_next[0], filled.w_next[0])]
    assert rebuilt == pytest.approx(filled.values[0].tolist())


def test_the_offdiagonal_is_the_row_sum_of_the_error_covariance_without_its_diagonal():
    # area A: 2015 measured (error variance 1), 2016 halfway, 2017 measured (2), 2018 carried from 2017;
    # area B measured every year: nothing shared
    area = np.array(["A", "A", "A", "A", "B", "B"], dtype=object)
    prev = np.array([2015, 2015, 2017, 2017, 2015, 2016], dtype=float)
    nxt = np.array([2015, 2017, 2017, 2017, 2015, 2016], dtype=float)
    w = np.array([0, 0.5, 0, 0, 0, 0])
    e_p = np.array([1.0, 1.0, 2.0, 2.0, 0.3, 0.4])
    e_n = np.array([1.0, 2.0, 2.0, 2.0, 0.3, 0.4])
    got = shared_error_offdiagonal(area, prev, nxt, w, e_p, e_n)
    weights = np.array([[1, 0], [0.5, 0.5], [0, 1], [0, 1]])
    cov = weights @ np.diag([1.0, 2.0]) @ weights.T
    np.testing.assert_allclose(got[:4], cov.sum(axis=1) - np.diag(cov))
    assert got[4:].tolist() == [0.0, 0.0]


def _survey_inputs(seed: int, n_buurten: int = 60, years=range(2015, 2022), beta: float = 0.5,
                   error_var: float = 0.3) -> tuple[dict[str, pd.DataFrame], float]:
    """A buurt panel with one factor measured in odd years only, with sampling error of variance
    ``error_var``, whose latent moves linearly within each buurt (so interpolating the latent is
    exact, and the first and last years are measured, so that no year is carried: only the
    sampling error attenuates); the outcome a mean measured without error.
    Returns the panel inputs and the true effect on the estimand's scale."""
    rng = np.random.default_rng(seed)
    buurten = [f"BU9999{b // 6:02d}{b % 6:02d}" for b in range(n_buurten)]
    years = list(years)
    level = rng.normal(0, 1.5, n_buurten)
    slope = rng.normal(0, 0.4, n_buurten)
    year_effect = rng.normal(0, 0.3, len(years))
    area_effect = rng.normal(0, 1.0, n_buurten)
    rows, scores, errors, latent, ys = [], [], [], [], []
    for b, code in enumerate(buurten):
        for t, y in enumerate(years):
            xi = level[b] + slope[b] * (t - 3)
            out = beta * xi + area_effect[b] + year_effect[t] + rng.normal(0, 0.5)
            latent.append(xi)
            ys.append(out)
            rows.append(("out_mean", y, code, "buurt", np.nan, np.nan, np.exp(out), 1e-9 * np.exp(out)))
            if y % 2 == 1:
                scores.append((code, "buurt", y, "fac_s", xi + rng.normal(0, np.sqrt(error_var))))
                errors.append((code, "buurt", y, "fac_s", error_var))
    inputs = {
        "indicators": pd.DataFrame([("out_mean", "subgoal", None, "sub", "mean", None, "higher_is_worse", "buurt")],
                                   columns=["indicator_id", "measures", "factor_id", "subgoal_id", "unit",
                                            "multiplier", "direction", "area_level"]),
        "links": pd.DataFrame([("fac_s__sub", "fac_s", "sub", "worsens")],
                              columns=["link_id", "factor_id", "subgoal_id", "effect_direction"]),
        "values": pd.DataFrame(rows, columns=["indicator_id", "year", "area_code", "area_level", "numerator",
                                              "denominator", "value", "standard_error"]),
        "scores": pd.DataFrame(scores, columns=["area_code", "area_level", "year", "factor_id", "score"]),
        "factor_errors": pd.DataFrame(errors, columns=["area_code", "area_level", "year", "factor_id", "error_var"]),
        "areas": pd.DataFrame([(c, "buurt", "WK" + c[2:8]) for c in buurten],
                              columns=["area_code", "area_level", "wijk_code"]),
    }
    return inputs, beta * np.std(latent, ddof=1) / np.std(ys, ddof=1)


def test_interpolated_years_are_corrected_and_their_intervals_cover_the_truth():
    """60 panels (reliability about 0.79): plain OLS on the interpolated scores comes out at 0.83 of
    the effect (measured); the correction with the shared errors recovers it (1.01; asserted within
    0.05 of 1) and its 90% intervals cover the truth 90% of the time (asserted 85-97%). Without the
    off-diagonal (each row's error taken as its own) the within-area error is overstated and the
    estimate over-corrected (1.09)."""
    plain, corrected, covered, diagonal_only = [], [], [], []
    for seed in range(60):
        inputs, truth = _survey_inputs(seed)
        (panel,) = build_panels(inputs=inputs)
        assert panel.factor_flags["fac_s"] == ["interpolated_years"]
        assert np.isfinite(panel.factor_error_var["fac_s"]).all()
        assert (panel.factor_error_offdiag["fac_s"] > 0).any()
        a = estimate_outcome(panel, PLAIN).set_index("factor_id").loc["fac_s"]
        b = estimate_outcome(panel, EIV).set_index("factor_id").loc["fac_s"]
        assert "corrected_for_measurement_error" in b["flags"]
        plain.append(a["estimate"] / truth)
        corrected.append(b["estimate"] / truth)
        covered.append(b["ci90_lower"] <= truth <= b["ci90_upper"])
        panel.factor_error_offdiag = None
        diagonal_only.append(estimate_outcome(panel, EIV).set_index("factor_id").loc["fac_s", "estimate"] / truth)
    assert np.mean(plain) < 0.9, np.mean(plain)
    assert np.mean(corrected) == pytest.approx(1.0, abs=0.05), np.mean(corrected)
    assert 0.85 <= np.mean(covered) <= 0.97, np.mean(covered)
    assert np.mean(diagonal_only) > np.mean(corrected) + 0.05, (np.mean(diagonal_only), np.mean(corrected))


def test_a_wijk_score_in_a_buurt_panel_keeps_the_threshold_of_its_few_wijken():
    """A buurt panel of 60 buurten has enough clusters for a correction from a reliability of 0.2,
    but a factor scored per wijk rests on its wijken (here 10), which keep 0.7."""
    from models_ml.associations import factor_thresholds

    cfg = AssociationConfig()
    wijk = np.repeat(np.arange(10), 6)
    assert factor_thresholds(cfg, 60, 3, (wijk, [1])).tolist() == [0.2, 0.7, 0.2]
    assert factor_thresholds(cfg, 60, 2, None).tolist() == [0.2, 0.2]
    assert factor_thresholds(cfg, 12, 2, None).tolist() == [0.7, 0.7]
    many = np.repeat(np.arange(40), 6)
    assert factor_thresholds(cfg, 240, 2, (many, [0])).tolist() == [0.2, 0.2]
