"""Panels from warehouse-shaped inputs: link scale, orientation, standardisation, missing factors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models_ml.panel import (
    AreaYearGrid, _fill_years, _poisson_pmf, area_year_positions, build_panels, exact_count_variance, link_transform,
    shared_error_offdiagonal,
)


def _inputs(n_buurten=12, years=range(2015, 2021), seed=0):
    rng = np.random.default_rng(seed)
    buurten = [f"BU9999{w:02d}{b:02d}" for w in (1, 2, 3) for b in range(n_buurten // 3)]
    ind = pd.DataFrame([
        ("out_pct", "subgoal", None, "sub", "percentage", 100, "higher_is_better", "buurt"),
        ("fac_a_ind", "factor", "fac_a", None, "rate_per_1000", 1000, "higher_is_worse", "buurt"),
    ], columns=["indicator_id", "measures", "factor_id", "subgoal_id", "unit", "multiplier", "direction", "area_level"])
    links = pd.DataFrame([("fac_a__sub", "fac_a", "sub", "worsens"), ("fac_w__sub", "fac_w", "sub", "worsens"),
                          ("fac_none__sub", "fac_none", "sub", "worsens")],
                         columns=["link_id", "factor_id", "subgoal_id", "effect_direction"])
    vals, scores = [], []
    for a in buurten:
        for y in years:
            n = 400
            x = int(rng.binomial(n, 0.3))
            vals.append(("out_pct", y, a, "buurt", x, n, 100 * x / n, np.nan))
            scores.append((a, "buurt", y, "fac_a", rng.standard_normal()))
    for w in ("WK999901", "WK999902", "WK999903"):
        for y in years:
            if y % 2 == 1:  # a survey factor, measured in odd years only, at wijk level
                scores.append((w, "wijk", y, "fac_w", rng.standard_normal()))
    areas = pd.DataFrame([(a, "buurt", "WK" + a[2:8]) for a in buurten], columns=["area_code", "area_level", "wijk_code"])
    return {
        "indicators": ind, "links": links,
        "values": pd.DataFrame(vals, columns=["indicator_id", "year", "area_code", "area_level", "numerator",
                                              "denominator", "value", "standard_error"]),
        "scores": pd.DataFrame(scores, columns=["area_code", "area_level", "year", "factor_id", "score"]),
        "areas": areas,
    }


def test_outcome_on_oriented_logit_scale_and_standardised():
    inputs = _inputs()
    (p,) = build_panels(inputs=inputs)
    v = inputs["values"].set_index(["area_code", "year"])
    d = p.data.set_index(["area_code", "year"])
    frac = v["value"] / 100
    expected = -np.log(frac / (1 - frac))  # higher_is_better: oriented so that higher = worse
    assert np.allclose(d["y_link"], expected.reindex(d.index))
    assert p.orientation == -1 and p.link == "logit"
    # signal SD: total variance minus the mean binomial sampling variance
    assert p.outcome_sd_signal < p.outcome_sd_total
    assert np.isclose(d["y"].std(ddof=1), p.outcome_sd_total / p.outcome_sd_signal)
    for f in p.factors:
        assert np.isclose(d[f].std(ddof=1), 1.0) and abs(d[f].mean()) < 1e-12


def test_wijk_factor_enters_buurt_panel_interpolated_and_flagged():
    (p,) = build_panels(inputs=_inputs())
    assert p.factors == ["fac_a", "fac_w"]
    assert set(p.factor_flags["fac_w"]) == {"wijk_score_for_buurt", "interpolated_years"}
    d = p.data
    # every buurt of a wijk has the same fac_w value in a year
    wijk = d["area_code"].str[2:8]
    assert (d.groupby([wijk, d["year"]])["fac_w"].nunique() == 1).all()
    assert d["year"].nunique() == 6  # even years filled, none dropped


def test_factor_with_no_indicator_data_is_missing_not_zero():
    (p,) = build_panels(inputs=_inputs())
    assert p.missing_factors == ["fac_none"]
    assert "fac_none" not in p.data.columns


def test_zero_and_full_percentages_stay_finite():
    x = np.array([0.0, 5.0, 10.0])
    out = link_transform(100 * x / 10, x, np.array([10.0] * 3), 100, "logit")
    assert np.isfinite(out).all() and out[0] < out[1] < out[2]


def _fill_years_pandas(score: pd.Series, years: list[int]):
    """The per-area pandas fill that ``_fill_years`` replaced (the reference)."""
    grid = score.unstack("year")
    all_years = sorted(set(grid.columns) | set(years))
    grid = grid.reindex(columns=all_years)
    before = grid.notna()
    filled = grid.interpolate(method="index", axis=1, limit_area="inside").ffill(axis=1).bfill(axis=1)
    new = (filled.notna() & ~before)[years].stack()
    return filled[years].stack().to_dict(), set(new[new].index)


def test_fill_years_gives_the_numbers_of_pandas_interpolate_to_the_bit():
    rng = np.random.default_rng(3)
    rows = []
    for a in range(300):
        measured = sorted(rng.choice(np.arange(2013, 2025), size=rng.integers(1, 8), replace=False))
        rows += [(f"A{a:03d}", int(y), float(rng.normal())) for y in measured]
    score = pd.DataFrame(rows, columns=["area_code", "year", "score"]).set_index(["area_code", "year"])["score"]
    years = list(range(2015, 2023))  # outside and inside the measured years, some never measured
    values, filled = _fill_years_pandas(score, years)
    result = _fill_years(score, years)
    keys = [(a, y) for a in result.areas for y in years]
    codes, uniques = pd.factorize(pd.Series([a for a, _ in keys] + ["unknown"]))
    got, any_filled = result.lookup(codes, uniques, np.array([y for _, y in keys] + [2015]))
    assert np.array_equal(got[:-1], np.array([values[k] for k in keys])) and np.isnan(got[-1])
    assert any_filled and len(filled) > 100
    assert {k for k, f in zip(keys, result.filled.ravel()) if f} == filled


def test_the_area_year_grid_finds_what_the_multiindex_finds():
    rng = np.random.default_rng(5)
    pairs = sorted({(f"BU{a:04d}", int(y)) for a, y in zip(rng.integers(0, 40, 300), rng.integers(2013, 2025, 300))})
    index = pd.MultiIndex.from_tuples(pairs, names=["area_code", "year"])
    grid = AreaYearGrid(index)
    # known and unknown areas (also None: a buurt without a wijk), years inside, outside and -1 (none measured)
    codes = np.array([f"BU{a:04d}" for a in rng.integers(0, 45, 500)] + [None, "BU0001"], dtype=object)
    years = np.concatenate([rng.integers(2010, 2028, 500), [2015, -1]])
    expected = area_year_positions(index, codes, years)
    assert np.array_equal(grid.positions(grid.areas(codes), years), expected)
    assert (expected >= 0).sum() > 100 and (expected == -1).sum() > 100


def test_the_shared_errors_add_up_per_area_and_measured_year_whatever_the_order():
    # the weights of all rows on each (area, measured year) summed: as a groupby of the pairs would
    rng = np.random.default_rng(6)
    n = 400
    area = rng.choice(np.array(["A", "B", "C", "D"], dtype=object), n)
    prev = rng.choice([2015.0, 2017.0, 2019.0, np.nan], n, p=[0.3, 0.3, 0.3, 0.1])
    nxt = np.where(rng.random(n) < 0.5, prev, prev + 2)
    w = np.where(prev == nxt, 0.0, rng.choice([0.5, 0.25, 0.75], n))
    e_p, e_n = rng.uniform(0.1, 1, n), rng.uniform(0.1, 1, n)
    got = shared_error_offdiagonal(area, prev, nxt, w, e_p, e_n)
    pairs = pd.MultiIndex.from_arrays([np.tile(area, 2), np.concatenate([prev, nxt])])
    weight = pd.Series(np.concatenate([np.where(prev == nxt, 1.0, 1 - w), np.where(prev == nxt, 0.0, w)]), index=pairs)
    c = weight.groupby(level=[0, 1]).sum().reindex(pairs).to_numpy()
    c_p, c_n = c[:n], c[n:]
    same = prev == nxt
    expected = np.where(same, e_p * (c_p - 1), (1 - w) * e_p * (c_p - (1 - w)) + w * e_n * (c_n - w))
    assert np.allclose(got, expected, rtol=1e-12, equal_nan=True)
    assert np.isnan(got[np.isnan(prev)]).all() and np.isfinite(got[~np.isnan(prev)]).all()


def test_poisson_pmf_is_scipys_to_the_bit():
    from scipy import stats

    mu = np.concatenate([np.random.default_rng(4).uniform(1e-9, 30, 5000), [1e-6, 0.5, 29.99]])
    k = np.arange(115)
    assert np.array_equal(_poisson_pmf(k, mu), stats.poisson.pmf(k[None, :], mu[:, None]))


def test_a_counts_standard_error_does_not_replace_its_exact_variance_but_a_surveys_does():
    """int_indicator_value gives a count unit a standard error derived from the same count
    (``sqrt(x) / n``): the delta method at the observed count (1/x for a log link), which for the
    police figures per buurt (1-5 events) overstated the noise, so the signal SD came out too small
    and the coefficients too large (1.3-1.7 times in a region of 8). Such rows get the exact
    variance at the area's pooled rate; a survey prevalence keeps the variance of its standard error."""
    rng = np.random.default_rng(3)
    inputs = _inputs()
    ind = inputs["indicators"]
    inputs["indicators"] = pd.concat([ind, pd.DataFrame(
        [("out_rate", "subgoal", None, "sub", "rate_per_1000", 1000, "higher_is_worse", "buurt"),
         ("out_survey", "subgoal", None, "sub", "survey_prevalence", 100, "higher_is_worse", "buurt")],
        columns=ind.columns)], ignore_index=True)
    buurten = inputs["areas"]["area_code"].tolist()
    rows = []
    for a in buurten:
        for y in range(2015, 2021):
            n, x = 300, int(rng.poisson(2.0))
            rows.append(("out_rate", y, a, "buurt", x, n, 1000 * x / n, 1000 * np.sqrt(x) / n))
            rows.append(("out_survey", y, a, "buurt", 60, 400, 15.0 + rng.normal(0, 1), 2.0))
    inputs["values"] = pd.concat([inputs["values"], pd.DataFrame(rows, columns=inputs["values"].columns)],
                                 ignore_index=True)
    panels = {p.outcome_indicator_id: p for p in build_panels(inputs=inputs)}
    rate = inputs["values"][inputs["values"]["indicator_id"] == "out_rate"]
    exact = exact_count_variance(rate["numerator"], rate["denominator"], "log", rate["area_code"].to_numpy())
    got = panels["out_rate"].data.set_index(["area_code", "year"])["y_sampling_var"]
    want = pd.Series(exact, index=pd.MultiIndex.from_frame(rate[["area_code", "year"]])).reindex(got.index)
    np.testing.assert_allclose(got, want)  # before: 1/x wherever x > 0
    survey = panels["out_survey"].data
    p = survey["y_link"].pipe(lambda z: 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(survey["y_sampling_var"], (0.02 / (p * (1 - p))) ** 2)
