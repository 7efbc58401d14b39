"""The room for improvement's sampling error in the ranking (``RankingConfig.score_error``,
ranking-1.5.0): each Monte Carlo draw draws every published wijk score from its sampling
distribution (since ranking-1.6.0 its empirical-Bayes posterior, ``score_shrinkage``) and
recomputes the best quartile and the gap, so a noisy score widens the rank intervals; the
published scores' error variances come from published values only."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from models_ml import panel, ranking, ranking_model
from models_ml.simulation import score_error_known_answer
from tests.ml.test_ranking import FACTORS, SUBGOALS, chains, merged, scores

LIFE = pd.DataFrame({"factor_id": FACTORS["factor_id"], "life_phase_id": "jeugd"})


def small_case(error_var: float) -> tuple[ranking_model.Model, pd.DataFrame]:
    """One gemeente of 4 wijken; in WK999904 armoede (gap 3, d 0.5) leads by far, schulden (gap 2,
    d 0.3) and pesten (gap 1.8, d 0.3) are close, and only schulden's score there is noisy."""
    model = build(0.0)
    s = scores({"armoede": [0.0, 0.0, 1.0, 3.0], "schulden": [0.0, 0.0, 1.0, 2.0],
                "pesten": [0.0, 0.0, 1.0, 1.8], "sport": [1.0, 1.0, 0.0, 0.0]})
    noisy = (s["factor_id"] == "schulden") & (s["area_code"] == "WK999904")
    return model, s.assign(error_var=np.where(noisy, error_var, 0.0))


def build(se: float) -> ranking_model.Model:
    return ranking_model.build_model(FACTORS, SUBGOALS, merged([
        ("armoede", "gezond_mentaal", 0.5, se), ("schulden", "gezond_mentaal", 0.3, se),
        ("pesten", "gezond_mentaal", 0.3, se), ("sport", "gezond_mentaal", -0.1, se)]), chains())


def wijk4(areas: pd.DataFrame) -> pd.DataFrame:
    return areas[areas["area_code"] == "WK999904"].set_index("factor_id")


def width(rows: pd.DataFrame) -> pd.Series:
    return rows["rank_ci90_upper"] - rows["rank_ci90_lower"]


def test_a_noisy_score_widens_its_rank_interval_and_an_exact_one_does_not():
    """The draws around the observed score (ranking-1.5.0, score_shrinkage off), whose numbers can be
    checked by hand; with shrinkage, below."""
    model, s = small_case(error_var=0.25)  # schulden's gap in WK999904: 2 +- 0.5, pesten's 1.8 exact
    _, off = ranking.rank_factors(model, s, LIFE, ranking.RankingConfig(n_draws=1000, score_error=False))
    _, on = ranking.rank_factors(model, s, LIFE, ranking.RankingConfig(n_draws=1000, score_shrinkage=False))
    off, on = wijk4(off), wijk4(on)
    assert (width(off) == 0).all()  # exact effects, exact gaps: one ranking in every draw
    assert width(on)["schulden"] >= 1 and on.loc["schulden", "rank_ci90_lower"] == 2
    assert 2 <= on.loc["schulden", "rank_median"] <= 3
    assert width(on)["armoede"] == 0 and on.loc["armoede", "rank_median"] == 1  # 1.5 is out of schulden's reach
    assert width(on)["pesten"] >= 1  # the exact score it swaps places with moves too
    # the published room for improvement is the point gap, as before
    assert on["room_for_improvement"].equals(off["room_for_improvement"])
    assert on.loc["schulden", "room_for_improvement"] == 2.0
    # the impact's interval now holds the gap's uncertainty: 0.3 x (2 +- 0.5 x 1.645) / 1
    lower, upper = on.loc["schulden", ["impact_ci90_lower", "impact_ci90_upper"]]
    assert lower == pytest.approx(0.3 * (2 - 0.5 * 1.645) / 2, abs=0.02)  # weights: 1/2 per sub-goal
    assert upper == pytest.approx(0.3 * (2 + 0.5 * 1.645) / 2, abs=0.02)
    assert off.loc["schulden", "impact_ci90_lower"] == off.loc["schulden", "impact_ci90_upper"]


def test_a_noisy_score_is_drawn_from_its_posterior():
    """With shrinkage (the default) schulden's noisy score in WK999904 (2, SD 0.5) is drawn from its
    empirical-Bayes posterior: the gemeente's schulden scores [0, 0, 1, 2] have variance 11/12, of
    which the mean sampling variance is 0.0625, so B = 0.854 / (0.854 + 0.25) and the score's
    posterior is 0.75 + B * 1.25 = 1.717 with SD sqrt(B) * 0.5 = 0.44: its impact interval is centred
    below the point gap's and a little narrower, while the published room for improvement stays 2."""
    model, s = small_case(error_var=0.25)
    _, flat = ranking.rank_factors(model, s, LIFE, ranking.RankingConfig(n_draws=2000, score_shrinkage=False))
    _, on = ranking.rank_factors(model, s, LIFE, ranking.RankingConfig(n_draws=2000))
    flat, on = wijk4(flat), wijk4(on)
    b = (11 / 12 - 0.0625) / (11 / 12 - 0.0625 + 0.25)
    centre, sd = 0.75 + b * 1.25, np.sqrt(b) * 0.5
    assert on.loc["schulden", "room_for_improvement"] == 2.0
    # schulden's gap is its drawn score minus the drawn best quartile, which the exact 0-scores hold at 0
    assert on.loc["schulden", "impact"] == pytest.approx(0.3 * centre / 2, abs=0.01)
    assert on.loc["schulden", "impact"] < flat.loc["schulden", "impact"] - 0.03
    lower, upper = on.loc["schulden", ["impact_ci90_lower", "impact_ci90_upper"]]
    assert upper - lower == pytest.approx(0.3 * 2 * 1.645 * sd / 2, abs=0.02)


def test_posterior_scores_shrink_noise_and_keep_exact_scores():
    score = np.array([[0.0, 0.3, 1.0], [0.0, -0.4, 2.0], [1.0, 0.2, np.nan], [2.0, 0.1, 3.0]])
    sd = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, np.nan], [0.5, 1.0, 0.0]])
    mean, post_sd = ranking.posterior_scores(score, sd)
    assert np.array_equal(mean[:3, 0], score[:3, 0]) and (post_sd[:3, 0] == 0).all()  # exact scores, to the bit
    assert np.array_equal(mean[[0, 1, 3], 2], score[[0, 1, 3], 2]) and np.isnan(mean[2, 2])
    # column 1 is all noise (variance 0.0825 < sampling variance 1): floored at 10% of its variance
    v = np.var(score[:, 1], ddof=1)
    b = 0.1 * v / (0.1 * v + 1.0)
    assert mean[:, 1] == pytest.approx(score[:, 1].mean() + b * (score[:, 1] - score[:, 1].mean()))
    assert post_sd[:, 1] == pytest.approx(np.sqrt(b))
    # a factor with one published score cannot be shrunk
    one, one_sd = ranking.posterior_scores(np.array([[1.5], [np.nan]]), np.array([[0.7], [np.nan]]))
    assert one[0, 0] == 1.5 and one_sd[0, 0] == 0.7


def test_a_factor_whose_wijk_differences_are_mostly_noise_says_so():
    """pesten's scores [0, 0, 1, 2] each with sampling variance 4: their variance 11/12 is less than
    the noise, so tau^2 is floored at 10% of it and only 0.0917 / (0.0917 + 4) = 2% of the differences
    is real; the exact factors are 100% real and get no such sentence."""
    model, s = small_case(error_var=0.0)
    s = s.assign(error_var=np.where(s["factor_id"] == "pesten", 4.0, 0.0))
    city, areas = ranking.rank_factors(model, s, LIFE, ranking.RankingConfig(n_draws=300))
    rows = pd.concat([city, areas])
    noisy = rows["explanation"].str.contains("grotendeels toeval")
    assert (noisy == ((rows["factor_id"] == "pesten") & rows["rankable"])).all()
    assert rows.loc[noisy, "explanation"].str.contains("naar schatting 2% is echt verschil").all()
    reliability = ranking.score_reliability(np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]),
                                            np.array([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0], [2.0, 0.0]]))
    assert reliability == pytest.approx([0.1 * 11 / 12 / (0.1 * 11 / 12 + 4), 1.0])
    _, flat = ranking.rank_factors(model, s, LIFE, ranking.RankingConfig(n_draws=300, score_shrinkage=False))
    assert not flat["explanation"].str.contains("grotendeels toeval").any()  # 1.5.0's draws: no such claim


@pytest.mark.parametrize("seed", range(3))
def test_shrinkage_takes_the_noise_out_of_the_impacts(seed):
    """Drawn around the observed scores, noise counts as room for improvement: the city-wide
    impacts of the simulated gemeenten came out 15-25% above the truth (seeds 0-7); drawn from the
    posterior, 0.89-1.01 of it, with the rank intervals still covering the true rank."""
    flat = score_error_known_answer(seed, score_shrinkage=False)
    shrunk = score_error_known_answer(seed)
    assert flat["impact_ratio"] > 1.1
    assert 0.85 <= shrunk["impact_ratio"] <= 1.05
    assert shrunk["coverage"] >= 0.9


def test_an_exact_score_in_a_gemeente_of_exact_scores_keeps_its_interval():
    """Without any error variance, the ranking with score_error on is the ranking with it off, to
    the bit (the drawn gaps are the point gaps)."""
    _, s = small_case(error_var=0.0)
    model = build(0.05)
    on = ranking.rank_factors(model, s, LIFE, ranking.RankingConfig(n_draws=500))
    off = ranking.rank_factors(model, s, LIFE, ranking.RankingConfig(n_draws=500, score_error=False))
    for a, b in zip(on, off):
        pd.testing.assert_frame_equal(a, b)


def test_the_reference_moves_with_the_drawn_scores():
    """A wijk with an exact score still gets an uncertain gap when the best quartile rests on noisy
    scores of other wijken: q25 of [0, 0, 1, 2] lies between the two lowest, both noisy."""
    rng = np.random.default_rng(1)
    score = np.array([[0.0], [0.0], [1.0], [2.0]])
    sd = np.array([[0.5], [0.5], [0.0], [0.0]])
    drawn = ranking.gap_draws(score, sd, np.array([True]), 0.25, 2000, rng)
    assert drawn.shape == (2000, 4, 1)
    assert drawn[:, 3, 0].std() > 0.1  # WK4's own score is exact, its reference is not
    assert (drawn[:, 3, 0] < 2.0).mean() > 0.6  # noise in the lowest scores pulls the best quartile down
    exact = ranking.gap_draws(score, np.zeros_like(sd), np.array([True]), 0.25, 5, rng)
    gaps = ranking.room_for_improvement(scores({"armoede": [0.0, 0.0, 1.0, 2.0]}), FACTORS)["gap"].to_numpy()
    assert np.array_equal(exact[:, :, 0], np.broadcast_to(gaps, (5, 4)))  # no error: the point gaps to the bit


def test_a_withheld_scores_error_variance_changes_nothing_published():
    """Disclosure control: a withheld score is not ranked and its error variance never read, even
    where a caller passes one (load_scores gives NULL)."""
    model, s = small_case(error_var=0.25)
    s = s.assign(withheld=False)
    hidden = (s["factor_id"] == "pesten") & (s["area_code"] == "WK999903")
    s.loc[hidden, "withheld"], s.loc[hidden, "score"] = True, np.nan
    config = ranking.RankingConfig(n_draws=300)
    base = ranking.rank_factors(model, s.assign(error_var=np.where(hidden, np.nan, s["error_var"])), LIFE, config)
    leaked = ranking.rank_factors(model, s.assign(error_var=np.where(hidden, 9.0, s["error_var"])), LIFE, config)
    for a, b in zip(base, leaked):
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("seed", range(5))
def test_rank_intervals_contain_the_true_rank_when_scores_are_noisy(seed):
    """Simulated gemeenten (``score_error_known_answer``): exact effects, wijk scores with sampling
    SDs of 0.05-0.9. With the scores drawn, the per-wijk 90% rank intervals contain the rank of the
    true, noise-free scores in at least 90% of cases (measured 0.94-0.97 over 20 seeds); treating
    the gaps as exact, the intervals are points and contain it in about 44% (0.71 with effect SE 0.1)."""
    on = score_error_known_answer(seed)
    off = score_error_known_answer(seed, score_error=False)
    assert on["coverage"] >= 0.9
    assert off["coverage"] < 0.6 and off["width"] == 0
    assert score_error_known_answer(seed, effect_se=0.1)["coverage"] >= 0.9


def test_min_areas_for_spread_is_dbts():
    project = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml").read_text())
    assert project["vars"]["min_areas_for_spread"] == panel.MIN_AREAS_FOR_SPREAD


def published_warehouse(values: list[tuple]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with the published indicator values of one factor with two
    indicators, ``values``: (area_code, indicator_id, value, numerator, denominator, is_suppressed)."""
    con = duckdb.connect()
    con.execute("create schema marts; create schema factor_model")
    con.execute("create table factor_model.indicators as select * from (values "
                "('a', 'f', 'percentage', 100.0, 'factor'), ('b', 'f', 'percentage', 100.0, 'factor')) "
                "as t(indicator_id, factor_id, unit, multiplier, measures)")
    rows = pd.DataFrame(values, columns=["area_code", "indicator_id", "value", "numerator", "denominator", "is_suppressed"])
    rows = rows.assign(area_level=np.where(rows["area_code"].str.startswith("GM"), "gemeente", "wijk"), year=2024,
                       standard_error=np.nan, is_complete=True)
    rows.loc[rows["is_suppressed"], ["value", "numerator", "denominator"]] = np.nan
    con.register("rows", rows)
    con.execute("create table marts.fct_indicator_value as select * from rows")
    return con


def test_published_error_variances_use_published_values_only():
    """The error variance of a published score is computed as the published score is: over the
    indicators it averages (a withheld value leaves its indicator out), each on the spread of the
    published values; a withheld value's count never enters."""
    wijken = [f"WK0001{i:02d}" for i in range(1, 7)]
    num_a, den = [10, 20, 30, 40, 50, 60], 100
    values = [("GM0001", "a", 35.0, 210, 600, False), ("GM0001", "b", 30.0, 180, 600, False)]
    values += [(w, "a", float(x), x, den, False) for w, x in zip(wijken, num_a)]
    values += [(w, "b", float(x), x, den, w == "WK000106") for w, x in zip(wijken, [20, 25, 30, 35, 40, 3])]
    errors = panel.load_published_score_errors(published_warehouse(values)).set_index("area_code")
    sd_a = np.std(num_a, ddof=1)
    sd_b = np.std([20, 25, 30, 35, 40], ddof=1)  # the published values only
    var_a = 100**2 * 0.1 * 0.9 / den / sd_a**2  # WK000101: binomial at its rate, 10 of 100
    var_b = 100**2 * 0.2 * 0.8 / den / sd_b**2
    assert errors.loc["WK000101", "error_var"] == pytest.approx((var_a + var_b) / 4)
    assert errors.loc["WK000101", "indicators"] == 2
    # WK000106: indicator b withheld, so its published score is indicator a's z alone
    assert errors.loc["WK000106", "indicators"] == 1
    assert errors.loc["WK000106", "error_var"] == pytest.approx(100**2 * 0.6 * 0.4 / den / sd_a**2)
