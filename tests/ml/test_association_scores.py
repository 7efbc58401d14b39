"""``association_scores``: the factor scores the association panels regress on, with indicators on
their link scale where their counts allow; on their own scale exactly ``int_factor_score``."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_ml.association_scores import MIN_COUNT_FOR_LINK, indicator_scales, load_association_scores
from models_ml.panel import build_panels, load_factor_score_errors

KEY = ["area_code", "area_level", "year", "factor_id"]
BUURTEN = ["BU00010101", "BU00010102", "BU00010103", "BU00010104"]


def _warehouse() -> duckdb.DuckDBPyConnection:
    """One gemeente with four buurten in two years and three indicators: a percentage with large
    counts (f_big, protective), a rate per 1000 of a few events (f_small, risk) and a survey prevalence
    with a standard error (f_survey, risk)."""
    rng = np.random.default_rng(5)
    rows = []
    for year in (2022, 2023):
        big_n, small_n = rng.integers(800, 1200, 4), rng.integers(200, 400, 4)
        big_x = (big_n * rng.uniform(0.1, 0.4, 4)).round()
        small_x = rng.integers(0, 6, 4).astype(float)
        p = rng.uniform(0.1, 0.3, 4)
        for i, code in enumerate(BUURTEN):
            rows += [("big_pct", year, code, "buurt", big_x[i], big_n[i], 100 * big_x[i] / big_n[i], None),
                     ("small_rate", year, code, "buurt", small_x[i], small_n[i], 1000 * small_x[i] / small_n[i], None),
                     ("survey", year, code, "buurt", None, None, 100 * p[i], 100 * 0.03)]
        rows += [("big_pct", year, "GM0001", "gemeente", big_x.sum(), big_n.sum(), 100 * big_x.sum() / big_n.sum(), None),
                 ("small_rate", year, "GM0001", "gemeente", small_x.sum(), small_n.sum(),
                  1000 * small_x.sum() / small_n.sum(), None),
                 ("survey", year, "GM0001", "gemeente", None, None, 100 * p.mean(), 100 * 0.01)]
    con = duckdb.connect()
    con.execute("create schema intermediate; create schema factor_model")
    values = pd.DataFrame(rows, columns=["indicator_id", "year", "area_code", "area_level", "numerator", "denominator",
                                         "value", "standard_error"]).assign(is_complete=True)
    con.register("values_df", values)
    con.execute("create table intermediate.int_indicator_value as select * from values_df")
    con.execute("""create table factor_model.indicators as select * from (values
        ('big_pct', 'factor', 'f_big', 'percentage', 100, 'higher_is_worse'),
        ('small_rate', 'factor', 'f_small', 'rate_per_1000', 1000, 'higher_is_worse'),
        ('survey', 'factor', 'f_survey', 'survey_prevalence', 100, 'higher_is_worse'))
        t(indicator_id, measures, factor_id, unit, multiplier, direction)""")
    con.execute("""create table factor_model.factors as select * from (values
        ('f_big', 'protective'), ('f_small', 'risk'), ('f_survey', 'risk')) t(factor_id, factor_type)""")
    return con


def _expected(values: pd.DataFrame, x, var_x, orientation: int) -> pd.DataFrame:
    """z = orientation * (x - gemeente x) / sd of the buurten's x, per year; var_z = var_x / sd^2."""
    v = values.assign(x=x, var_x=var_x)
    out = []
    for _, g in v.groupby("year"):
        b, ref = g[g["area_level"] == "buurt"], g[g["area_level"] == "gemeente"]["x"].item()
        sd = b["x"].std(ddof=1)
        out.append(b.assign(score=orientation * (b["x"] - ref) / sd, error_var=b["var_x"] / sd**2))
    return pd.concat(out).sort_values(["area_code", "year"])[["area_code", "year", "score", "error_var"]]


def _pooled_rate(v: pd.DataFrame) -> pd.Series:
    return v.groupby("area_code")["numerator"].transform("sum") / v.groupby("area_code")["denominator"].transform("sum")


def test_large_counts_on_the_logit_small_counts_on_their_own_scale_surveys_from_their_standard_error():
    con = _warehouse()
    values = con.execute("select * from intermediate.int_indicator_value").df()
    got = load_association_scores(con).set_index("factor_id")
    assert indicator_scales(con).set_index("indicator_id")["on_link"].to_dict() == {
        "big_pct": True, "small_rate": False, "survey": True}

    big = values[values["indicator_id"] == "big_pct"]
    p, r = big["value"] / 100, _pooled_rate(big)
    want = _expected(big, np.log(p / (1 - p)), 1 / (big["denominator"] * r * (1 - r)), orientation=-1)
    have = got.loc["f_big"].sort_values(["area_code", "year"])
    np.testing.assert_allclose(have["score"], want["score"], rtol=1e-9)
    np.testing.assert_allclose(have["error_var"], want["error_var"], rtol=1e-6)

    small = values[values["indicator_id"] == "small_rate"]
    r = _pooled_rate(small)
    want = _expected(small, small["value"], 1000**2 * r / small["denominator"], orientation=1)
    have = got.loc["f_small"].sort_values(["area_code", "year"])
    np.testing.assert_allclose(have["score"], want["score"], rtol=1e-9)
    np.testing.assert_allclose(have["error_var"], want["error_var"], rtol=1e-6)

    survey = values[values["indicator_id"] == "survey"]
    p = survey["value"] / 100
    want = _expected(survey, np.log(p / (1 - p)), (0.03 / (p * (1 - p))) ** 2, orientation=1)
    have = got.loc["f_survey"].sort_values(["area_code", "year"])
    np.testing.assert_allclose(have["score"], want["score"], rtol=1e-9)
    np.testing.assert_allclose(have["error_var"], want["error_var"], rtol=1e-6)


def test_the_count_threshold_decides_per_indicator():
    con = _warehouse()
    assert not indicator_scales(con, min_count=1e6).set_index("indicator_id").loc["big_pct", "on_link"]
    assert indicator_scales(con, min_count=0).set_index("indicator_id").loc["small_rate", "on_link"]
    assert not indicator_scales(con, link_scale=False)["on_link"].any()


def test_on_their_own_scale_the_scores_are_int_factor_score_and_their_errors_the_panels_of_before(con):
    own = load_association_scores(con, link_scale=False)
    ref = con.execute("select area_code, area_level, year, factor_id, score from intermediate.int_factor_score "
                      "where area_level in ('buurt', 'wijk')").df()
    both = ref.merge(own, on=KEY, how="outer", suffixes=("_dbt", ""), indicator=True)
    assert (both["_merge"] == "both").all() and len(both) > 1000
    np.testing.assert_allclose(both["score"], both["score_dbt"], atol=1e-9)
    errors = load_factor_score_errors(con).merge(own, on=KEY, suffixes=("_before", ""))
    assert len(errors) == len(own)
    np.testing.assert_allclose(errors["error_var"], errors["error_var_before"], rtol=1e-5)


def test_the_demos_link_scale_scores_leave_the_small_counts_alone(con):
    scales = indicator_scales(con).set_index(["indicator_id", "area_level"])["on_link"]
    assert scales[("cbs_laag_inkomen_pct", "buurt")] and scales[("reg_schuldhulp_pct", "buurt")]
    assert scales[("ggd_sociale_cohesie_volw", "wijk")]  # a survey: from its standard error
    # births and Veilig Thuis reports per buurt: a few a year, below the threshold
    assert not scales[("reg_laag_geboortegewicht_pct", "buurt")]
    assert not scales[("reg_kindermishandeling_per_1000", "buurt")]
    assert MIN_COUNT_FOR_LINK == 20
    link = load_association_scores(con).set_index(KEY)["score"]
    own = load_association_scores(con, link_scale=False).set_index(KEY)["score"]
    raw_only = own.xs("vroeggeboorte_laag_geboortegewicht", level="factor_id").xs("buurt", level="area_level")
    np.testing.assert_array_equal(
        link.xs("vroeggeboorte_laag_geboortegewicht", level="factor_id").xs("buurt", level="area_level"), raw_only)
    armoede = (link - own).xs("armoede", level="factor_id")
    assert armoede.abs().max() > 0.01  # on the logit: another score


def test_the_panels_regress_on_the_association_scores(con):
    panels = {p.outcome_indicator_id: p for p in build_panels(con, outcomes=["reg_jeugdhulp_pct"])}
    before = {p.outcome_indicator_id: p for p in build_panels(con, outcomes=["reg_jeugdhulp_pct"], link_scale=False)}
    p, b = panels["reg_jeugdhulp_pct"], before["reg_jeugdhulp_pct"]
    assert "armoede" in p.factors
    assert not np.allclose(p.data["armoede"], b.data["armoede"])
    # both standardised over the panel: the scale changes the shape, not the units
    assert p.data["armoede"].std(ddof=1) == pytest.approx(1.0)
    assert np.corrcoef(p.data["armoede"], b.data["armoede"])[0, 1] > 0.9
