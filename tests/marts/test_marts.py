"""The marts, checked against the raw extracts by independent computations in Python.

Uses the session's demo run (tests/conftest.py): a real Dagster materialisation of the whole
pipeline into a temporary DuckDB file.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def con(demo_run):
    settings, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        yield connection


def df(con, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def test_wijk_and_gemeente_rates_are_sums_of_buurt_counts(con):
    """pol_verdachten_12_17_per_1000 per wijk = 1000 x sum(suspects) / sum(residents 12-17) over its buurten."""
    raw = df(con, """
        select p.jaar as year, substr(p.buurtcode, 1, 8) as buurt8, p.buurtcode,
               p.verdachten_12_17 as num, r.inwoners_12_17 as den
        from raw.politie_jeugdverdachten p
        join raw.gemeente_registraties r using (jaar, buurtcode)""")
    raw["wijk"] = "WK" + raw["buurtcode"].str[2:8]
    expected = raw.groupby(["year", "wijk"]).agg(num=("num", "sum"), den=("den", "sum")).reset_index()
    expected["value"] = 1000 * expected["num"] / expected["den"]
    got = df(con, """select year, area_code as wijk, value, numerator, denominator from marts.fct_indicator_value
                     where indicator_id = 'pol_verdachten_12_17_per_1000' and area_level = 'wijk' and not is_suppressed""")
    merged = expected.merge(got, on=["year", "wijk"])
    assert len(merged) == len(got) > 80  # of 120 wijk-years; the others withheld (small or complementary cells)
    assert (merged["numerator"] == merged["num"]).all() and (merged["denominator"] == merged["den"]).all()
    assert ((merged["value_x"] - merged["value_y"]).abs() < 1e-9).all()


def test_gemeente_percentage_is_weighted_by_counts_not_an_average_of_percentages(con):
    """CBS gives a percentage per buurt; the gemeente value weighs it by dwellings. (Low income, where
    CBS leaves small buurten '.', takes CBS's own gemeente figure instead of a partial sum.)"""
    raw = df(con, """select jaar as year, "InBezitWoningcorporatie_49" as pct, "Woningvoorraad_35" as hh
                     from raw.cbs_kerncijfers where trim("WijkenEnBuurten") like 'BU%' and "InBezitWoningcorporatie_49" is not null""")
    raw["num"] = raw["pct"] * raw["hh"] / 100
    by_year = raw.groupby("year").agg(num=("num", "sum"), hh=("hh", "sum"), mean_pct=("pct", "mean"))
    by_year["weighted"] = 100 * by_year["num"] / by_year["hh"]
    got = df(con, """select year, value from marts.fct_indicator_value
                     where indicator_id = 'cbs_corporatiewoningen_pct' and area_level = 'gemeente'""").set_index("year")["value"]
    assert len(got) == len(by_year) and ((got - by_year["weighted"]).abs() < 1e-9).all()
    assert ((got - by_year["mean_pct"]).abs() > 0.01).any(), "the demo should show where averaging percentages would be wrong"
    own = df(con, """select v.value, r."HuishoudensMetEenLaagInkomen_89" as cbs from marts.fct_indicator_value v
                     join raw.cbs_kerncijfers r on r.jaar = v.year and trim(r."WijkenEnBuurten") = v.area_code
                     where v.indicator_id = 'cbs_laag_inkomen_pct' and v.area_level = 'gemeente'""")
    assert len(own) and ((own["value"] - own["cbs"]).abs() < 1e-9).all()


def test_merged_buurt_series_is_the_sum_of_its_predecessors(con):
    change = df(con, "select * from raw.gebiedswijzigingen where soort_wijziging = 'samenvoeging'")
    new_code, year = change["nieuwe_code"].iloc[0], int(change["jaar"].iloc[0])
    old_codes = tuple(change["oude_code"])
    expected = df(con, f"""select jaar as year, sum(misdrijven_totaal) as num from raw.politie_jeugdverdachten
                           where buurtcode in {old_codes} and jaar < {year} group by 1 order by 1""")
    got = df(con, f"""select year, numerator as num, is_comparable_over_time from marts.fct_indicator_series
                      where indicator_id = 'pol_misdrijven_per_1000' and area_code = '{new_code}' and year < {year} order by 1""")
    assert len(expected) > 0 and list(expected["num"]) == list(got["num"])
    assert got["is_comparable_over_time"].all()
    # and the old codes are gone from the newest division
    area = df(con, f"select * from marts.dim_area where area_code in {old_codes}")
    assert (~area["is_current"]).all() and set(area["current_area_codes"]) == {new_code}


def test_split_buurt_series_is_estimated_and_flagged(con):
    change = df(con, "select * from raw.gebiedswijzigingen where soort_wijziging = 'splitsing'")
    series = df(con, f"""select area_code, year, is_exact_in_current_division, is_comparable_over_time
                         from marts.fct_indicator_series
                         where area_code in {tuple(change['nieuwe_code'])} and indicator_id = 'pol_misdrijven_per_1000'""")
    year = int(change["jaar"].iloc[0])
    assert not series["is_comparable_over_time"].any()
    assert not series[series["year"] < year]["is_exact_in_current_division"].any()
    assert series[series["year"] >= year]["is_exact_in_current_division"].all()


def test_no_published_cell_is_based_on_fewer_than_10_persons(con):
    published = df(con, """select v.*, i.unit from marts.fct_indicator_value v join marts.dim_indicator i using (indicator_id)
                           where not is_suppressed""")
    assert (published["denominator"] >= 10).all()
    counted = published[published["unit"].isin(["percentage", "rate_per_1000", "count"])]
    assert not ((counted["numerator"] > 0) & (counted["numerator"] < 10)).any()
    suppressed = df(con, "select * from marts.fct_indicator_value where is_suppressed")
    assert len(suppressed) > 0 and suppressed[["value", "numerator", "denominator"]].isna().all().all()


def test_no_mart_carries_person_level_rows(con):
    columns = df(con, "select table_name, column_name from information_schema.columns where table_schema = 'marts'")
    assert not columns["column_name"].str.contains("bsn|naam_persoon|geboortedatum|person_id", case=False).any()
    for table in columns["table_name"].unique():
        keys = set(columns[columns["table_name"] == table]["column_name"])
        assert keys & {"area_code", "gemeente_code", "factor_id", "subgoal_id", "indicator_id", "link_id",
                       "outcome_indicator_id", "life_phase_id", "code_set"}, table  # code_set: dim_code_label


def test_factor_scores_are_standardised_within_the_gemeente(con):
    # every area's score (the published mart withholds some areas, which are not a random sample)
    scores = df(con, "select * from intermediate.int_factor_score where area_level = 'wijk'")
    assert set(scores["factor_type"]) == {"risk", "protective"}
    per = scores.groupby(["year", "factor_id"])["score"]
    assert (per.std() > 0.3).all() and (per.mean().abs() < 1.0).all()
    assert scores["percentile"].between(0, 100).all()
    trend = scores.sort_values("year").groupby(["area_code", "factor_id"]).nth(1)
    assert trend["change_from_previous_year"].notna().all()


def test_a_change_from_the_previous_year_says_which_year_it_compares_with(con):
    """change_from_previous_year is measured against the area's previous scored year, which is not
    always the year before (survey factors every other year; scores withheld in fct_factor_score):
    previous_year names it, and the change is the difference of the two published scores."""
    scores = df(con, "select area_code, factor_id, year, score, change_from_previous_year, previous_year "
                     "from marts.fct_factor_score")
    prior = scores[["area_code", "factor_id", "year", "score"]].rename(columns={"year": "previous_year",
                                                                               "score": "previous_score"})
    joined = scores.dropna(subset=["previous_year"]).merge(prior, on=["area_code", "factor_id", "previous_year"])
    assert len(joined) == scores["previous_year"].notna().sum() == scores["change_from_previous_year"].notna().sum()
    assert (joined["previous_year"] < joined["year"]).all()
    assert (joined["change_from_previous_year"] - (joined["score"] - joined["previous_score"])).abs().max() < 1e-9
    between = joined.merge(scores[["area_code", "factor_id", "year"]].rename(columns={"year": "y"}),
                           on=["area_code", "factor_id"])
    assert not ((between["y"] > between["previous_year"]) & (between["y"] < between["year"])).any()
    assert (joined["year"] - joined["previous_year"] > 1).sum() > 100  # not the year before: say so


def test_a_withheld_value_leaves_no_published_factor_score_behind(con):
    """For a factor with one indicator, score = (value - gemeente value) / sd: a published score of an
    area whose value is withheld would give the value back. fct_factor_score leaves those z's out; the
    statistics' int_factor_score keeps every area, and both agree wherever nothing is withheld."""
    withheld_z = """select count(*) from {table} s
        join factor_model.indicators i on i.factor_id = s.factor_id and i.measures = 'factor'
        join marts.fct_indicator_value v on v.area_code = s.area_code and v.year = s.year
         and v.indicator_id = i.indicator_id and v.is_suppressed
        where s.factor_id in (select factor_id from factor_model.indicators where measures = 'factor'
                              group by 1 having count(*) = 1)"""
    assert con.execute(withheld_z.format(table="marts.fct_factor_score")).fetchone() == (0,)
    assert con.execute(withheld_z.format(table="intermediate.int_factor_score")).fetchone()[0] > 100


def test_published_factor_scores_rest_on_published_values_only(con):
    """fct_factor_score recomputed in pandas from the *published* fct_indicator_value alone: per
    indicator, level, gemeente and year, z = orientation x (value - gemeente value) / the standard
    deviation of the published values; the score is the mean z of the factor's indicators. With the
    spread over the withheld values too, spread = |value - gemeente value| / |z| gave their sum of
    squares back (113 withheld demo cells recovered exactly; a disclosure review), and fewer than 5
    published areas give no spread (2 published wijken of 12 gave z-scores of 46). The internal
    int_factor_score keeps the spread of every value, so the two differ."""
    values = df(con, """select v.area_code, v.area_level, v.year, v.indicator_id, v.value, i.factor_id,
            case when (f.factor_type = 'risk') = (i.direction = 'higher_is_worse') then 1 else -1 end as orientation
        from marts.fct_indicator_value v
        join factor_model.indicators i on i.indicator_id = v.indicator_id and i.measures = 'factor'
        join factor_model.factors f on f.factor_id = i.factor_id
        where not v.is_suppressed and v.value is not null""")
    values["gemeente_code"] = "GM" + values["area_code"].str[2:6]
    gemeente = values[values["area_level"] == "gemeente"][["gemeente_code", "year", "indicator_id", "value"]]
    areas = values[values["area_level"] != "gemeente"].merge(
        gemeente.rename(columns={"value": "gemeente_value"}), on=["gemeente_code", "year", "indicator_id"])
    group = areas.groupby(["indicator_id", "year", "gemeente_code", "area_level"])["value"]
    sd, published = group.transform("std"), group.transform("count")
    everyone = con.execute("""select v.indicator_id, v.year, v.area_level, 'GM' || substr(v.area_code, 3, 4) as gemeente_code,
        count(*) as n from intermediate.int_indicator_value v where v.value is not null and v.area_level <> 'gemeente'
        and v.is_complete group by all""").df()
    n = areas.merge(everyone, on=["indicator_id", "year", "area_level", "gemeente_code"], how="left")["n"].to_numpy()
    # where values are withheld, a spread of fewer than 5 published areas (dbt var min_areas_for_spread) gives no z
    areas["z"] = areas["orientation"] * (areas["value"] - areas["gemeente_value"]) / sd.where((sd > 0) & ((published >= 5) | (published == n)))
    expected = (areas.dropna(subset=["z"]).groupby(["area_code", "year", "factor_id"])["z"].mean()
                .rename("expected").reset_index())
    got = df(con, "select area_code, year, factor_id, score from marts.fct_factor_score")
    both = expected.merge(got, on=["area_code", "year", "factor_id"], how="outer", indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"].head()
    assert (both["score"] - both["expected"]).abs().max() < 1e-9
    (differ,) = con.execute("""select count(*) from marts.fct_factor_score f join intermediate.int_factor_score i
        using (area_code, year, factor_id) where abs(f.score - i.score) > 1e-9""").fetchone()
    assert differ > 0  # where a value of the same indicator, level and year is withheld


def test_the_report_of_a_year_shows_every_indicator_with_its_newest_measurement(con):
    """mart_staat_van_de_jeugd_report, recomputed in pandas from mart_staat_van_de_jeugd: for every
    report year, each indicator's newest measured year up to it, at most 3 years back (the default
    report_max_age_years of 4), with that year's row. The youth and adult surveys alternate years,
    so a year of the mart lacks half the survey indicators and its report has them all."""
    mart = df(con, "select * from marts.mart_staat_van_de_jeugd")
    report = df(con, "select * from marts.mart_staat_van_de_jeugd_report")
    expected = []
    for report_year in sorted(mart["year"].unique()):
        window = mart[(mart["year"] <= report_year) & (mart["year"] > report_year - 4)]
        newest = window.loc[window.groupby(["gemeente_code", "indicator_id"])["year"].idxmax()]
        expected.append(newest.assign(report_year=report_year))
    expected = pd.concat(expected).rename(columns={"year": "measurement_year"})
    key = ["gemeente_code", "report_year", "indicator_id"]
    both = expected.merge(report, on=key, how="outer", suffixes=("", "_report"), indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"][key + ["_merge"]].head()
    assert (both["measurement_year"] == both["measurement_year_report"]).all()
    assert (both["years_since_measurement"] == both["report_year"] - both["measurement_year"]).all()
    for column in ("value", "change_from_previous", "assessment_previous", "assessment_baseline"):
        pd.testing.assert_series_equal(both[column], both[f"{column}_report"], check_names=False)
    newest_year = mart["year"].max()
    units = df(con, "select indicator_id, unit from marts.dim_indicator")
    surveys = set(units.loc[units["unit"] == "survey_prevalence", "indicator_id"])
    in_mart = surveys & set(mart.loc[mart["year"] == newest_year, "indicator_id"])
    in_report = surveys & set(report.loc[report["report_year"] == newest_year, "indicator_id"])
    assert in_mart < in_report and len(in_report) >= 2 * len(in_mart) - 2, (len(in_mart), len(in_report))
    assert set(report.loc[report["report_year"] == newest_year, "measurement_year"]) >= {newest_year, newest_year - 1}


def test_staat_van_de_jeugd_judges_change_against_noise(con):
    mart = df(con, "select * from marts.mart_staat_van_de_jeugd")
    assert set(mart["assessment_previous"]) <= {"better", "worse", "within_noise", "not_assessed", "no_comparison"}
    assert {"better", "worse", "within_noise"} <= set(mart["assessment_baseline"])
    real = mart[mart["assessment_previous"].isin(["better", "worse"])]
    se = df(con, "select indicator_id, year, standard_error from marts.mart_staat_van_de_jeugd")
    joined = real.merge(mart[["indicator_id", "year", "standard_error"]].rename(columns={"year": "previous_year", "standard_error": "se_prev"}),
                        on=["indicator_id", "previous_year"])
    limit = 1.96 * (joined["standard_error"] ** 2 + joined["se_prev"] ** 2) ** 0.5
    assert (joined["change_from_previous"].abs() > limit).all()
    worse = joined[joined["assessment_previous"] == "worse"]
    higher_worse = worse["direction"] == "higher_is_worse"
    assert ((worse["change_from_previous"] > 0) == higher_worse).all()
    assert len(se) == len(mart)


def test_every_indicator_and_factor_gets_a_trend_from_its_own_first_measurement(con):
    """The baseline of a trend is the first measurement from the baseline year on, per indicator (and per
    area and factor): the adult survey, held in even years, starts in 2016 instead of never having a
    trend (16 indicators and 10 factors had none: a BI review). The baseline row itself compares
    with nothing."""
    mart = df(con, "select indicator_id, year, value, baseline_year, change_from_baseline, assessment_baseline "
                   "from marts.mart_staat_van_de_jeugd")
    first = mart.groupby("indicator_id")["year"].transform("min")
    assert (mart["baseline_year"] == first).all()
    adult = mart[mart["indicator_id"].str.endswith("_volw")]
    assert len(adult) and set(adult["baseline_year"]) == {2016}
    later = mart[mart["year"] > mart["baseline_year"]]
    assert later["change_from_baseline"].notna().all() and (later["assessment_baseline"] != "no_comparison").all()
    base = mart[mart["year"] == mart["baseline_year"]]
    assert base["change_from_baseline"].isna().all() and set(base["assessment_baseline"]) == {"no_comparison"}
    value_at = mart.set_index(["indicator_id", "year"])["value"]
    expected = later["value"].to_numpy() - value_at.loc[list(zip(later["indicator_id"], later["baseline_year"]))].to_numpy()
    assert abs(later["change_from_baseline"].to_numpy() - expected).max() < 1e-9

    scores = df(con, "select area_code, factor_id, year, baseline_year, change_from_baseline from marts.fct_factor_score")
    first = scores.groupby(["area_code", "factor_id"])["year"].transform("min")
    assert (scores["baseline_year"] == first).all()
    assert scores.loc[scores["year"] > scores["baseline_year"], "change_from_baseline"].notna().all()
    never = scores.groupby("factor_id")["change_from_baseline"].count()
    assert (never > 0).all(), never[never == 0]


def test_a_factor_indicator_lists_every_domain_its_factor_works_on(con):
    """dim_indicator.domain_id took the alphabetically first domain of a factor (gezond for
    kindermishandeling, which works on gezond, kansrijk and veilig): now empty for a factor indicator,
    and domain_ids lists them all."""
    dim = df(con, "select indicator_id, measures, factor_id, subgoal_id, domain_id, domain_ids from marts.dim_indicator")
    links = df(con, """select l.factor_id, string_agg(distinct s.domain_id, ',' order by s.domain_id) as expected
                       from factor_model.factor_subgoal_links l join factor_model.subgoals s using (subgoal_id)
                       group by 1""")
    factors = dim[dim["measures"] == "factor"].merge(links, on="factor_id")
    assert len(factors) == (dim["measures"] == "factor").sum() and factors["domain_id"].isna().all()
    assert (factors["domain_ids"] == factors["expected"]).all()
    assert factors["domain_ids"].str.contains(",").any()
    outcomes = dim[dim["measures"] == "subgoal"]
    assert outcomes["domain_id"].notna().all() and (outcomes["domain_id"] == outcomes["domain_ids"]).all()


def test_the_coverage_mart_says_where_the_published_remainder_is_biased(con):
    """mart_indicator_coverage recomputed from fct_indicator_value; a rare outcome whose published buurten
    are all 0 (1-9 withheld, 0 published: a BI review) is not fit for maps per buurt."""
    values = df(con, "select indicator_id, year, area_code, area_level, value, numerator, is_suppressed "
                     "from marts.fct_indicator_value")
    values["gemeente_code"] = "GM" + values["area_code"].str[2:6]
    values["published"] = ~values["is_suppressed"]
    values["zero"] = values["published"] & (values["numerator"] == 0)
    key = ["indicator_id", "year", "gemeente_code", "area_level"]
    expected = values.groupby(key).agg(areas=("published", "size"), areas_published=("published", "sum"),
                                       areas_published_zero=("zero", "sum")).reset_index()
    got = df(con, "select * from marts.mart_indicator_coverage")
    both = expected.merge(got, on=key, suffixes=("", "_mart"), how="outer", indicator=True)
    assert (both["_merge"] == "both").all()
    for column in ("areas", "areas_published", "areas_published_zero"):
        assert (both[column] == both[f"{column}_mart"]).all(), column
    assert (both["fit_for_maps"] == (both["areas_published"] / both["areas"] >= 0.8)).all()
    verzuim = got[(got["indicator_id"] == "reg_absoluut_verzuim_per_1000") & (got["area_level"] == "buurt")]
    assert len(verzuim) and not verzuim["fit_for_maps"].any()
    assert (verzuim["areas_published_zero"] == verzuim["areas_published"]).all()  # every published buurt is 0
    assert (verzuim["gemeente_value"] > 0).all()
    assert got.loc[got["area_level"] == "gemeente", "fit_for_maps"].all()


def test_life_phases_are_published_with_their_labels(con):
    phases = df(con, "select * from marts.dim_life_phase order by sort_order")
    used = df(con, "select distinct life_phase_id from marts.mart_staat_van_de_jeugd")
    assert set(used["life_phase_id"]) <= set(phases["life_phase_id"])
    assert phases.set_index("life_phase_id")["is_youth"].to_dict() == {
        "zwangerschap": True, "jonge_kinderen": True, "kinderen": True, "jeugd": True, "volwassenen": False, "ouderen": False}


def test_every_published_count_based_value_has_a_95_percent_interval(con):
    """Percentages: Wilson; rates and counts: square-root Poisson; surveys keep their own; means none
    (before, only surveys had one: 330 of 495 Staat van de Jeugd rows without, a BI review)."""
    v = df(con, """select v.*, i.unit, i.multiplier from marts.fct_indicator_value v
                   join marts.dim_indicator i using (indicator_id) where not v.is_suppressed""")
    counted = v[v["unit"] != "mean"]
    assert counted["ci_lower"].notna().all() and counted["ci_upper"].notna().all()
    assert ((counted["ci_lower"] <= counted["value"]) & (counted["value"] <= counted["ci_upper"])).all()
    assert v.loc[v["unit"] == "mean", "ci_lower"].isna().all()
    z = 1.96
    pct = counted[(counted["unit"] == "percentage") & (counted["denominator"] > 0)]
    p, n = pct["numerator"] / pct["denominator"], pct["denominator"]
    centre, half = (p + z**2 / (2 * n)) / (1 + z**2 / n), z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert np.allclose(pct["ci_lower"], np.clip(100 * (centre - half), 0, pct["value"]), atol=1e-9)
    assert np.allclose(pct["ci_upper"], np.clip(100 * (centre + half), pct["value"], 100), atol=1e-9)
    rate = counted[counted["unit"] == "rate_per_1000"]
    upper = rate["multiplier"] * (np.sqrt(rate["numerator"] + 1) + z / 2) ** 2 / rate["denominator"]
    assert np.allclose(rate["ci_upper"], upper, atol=1e-9)
    zero = rate[rate["numerator"] == 0]
    assert len(zero) and (zero["ci_lower"] == 0).all() and (zero["ci_upper"] > 0).all()  # 0 cases is not certainty


INCOME_COLUMNS = {"cbs_inkomen_per_inwoner": "GemiddeldInkomenPerInwoner_83",
                  "cbs_laag_inkomen_pct": "HuishoudensMetEenLaagInkomen_89",
                  "cbs_sociaal_minimum_pct": "HuishOnderOfRondSociaalMinimum_90"}


def test_a_figure_the_source_does_not_publish_is_a_withheld_row_with_its_reason(con):
    """CBS publishes '.' for the income figures of buurten under 500 residents (3 demo buurten). A BI
    review found no row at all for them: each such buurt, year and indicator is now a row of
    fct_indicator_value, withheld (no value, no counts) with suppression_reason not_published, and
    nothing else is: the wijken and the gemeente keep CBS's own figure, the series and the coverage
    mart count the buurt as withheld, and the reason has its Dutch label."""
    dots = []
    for indicator, column in INCOME_COLUMNS.items():
        raw = df(con, f"""select jaar as year, trim("WijkenEnBuurten") as area_code from raw.cbs_kerncijfers
                          where trim("WijkenEnBuurten") like 'BU%' and "{column}" is null""")
        dots.append(raw.assign(indicator_id=indicator))
    dots = pd.concat(dots)
    assert set(dots["area_code"]) == {"BU99990401", "BU99990404", "BU99990703"}  # the demo's small buurten
    assert len(dots) == 3 * 3 * dots["year"].nunique()

    key = ["area_code", "year", "indicator_id"]
    rows = df(con, "select * from marts.fct_indicator_value where suppression_reason = 'not_published'")
    assert sorted(map(tuple, rows[key].values)) == sorted(map(tuple, dots[key].values))
    assert rows["is_suppressed"].all() and (rows["area_level"] == "buurt").all() and rows["is_complete"].all()
    assert rows[["value", "numerator", "denominator", "ci_lower", "ci_upper", "standard_error"]].isna().all().all()
    assert (rows["derived_from_level"] == "buurt").all() and not rows["is_aggregate"].any()

    # their wijken carry CBS's own figure, published, as before (the '.' rows add nothing to a sum)
    wijken = df(con, """select v.* from marts.fct_indicator_value as v
                        join (select distinct 'WK' || substr(area_code, 3, 6) as area_code, year, indicator_id
                              from marts.fct_indicator_value where suppression_reason = 'not_published') using (area_code, year, indicator_id)""")
    parents = dots.assign(area_code="WK" + dots["area_code"].str[2:8])[key].drop_duplicates()
    assert len(wijken) == len(parents) == 2 * len(dots) // 3  # two of the buurten lie in one wijk
    assert (wijken["children_without_figure"] > 0).all() and not wijken["is_aggregate"].any()
    assert wijken["value"].notna().all()

    series = df(con, """select s.* from marts.fct_indicator_series as s
                        join marts.fct_indicator_value as v using (area_code, year, indicator_id)
                        where v.suppression_reason = 'not_published'""")
    assert len(series) == len(dots) and series["is_suppressed"].all() and series["value"].isna().all()
    assert (series["suppression_reason"] == "not_published").all()

    coverage = df(con, """select * from marts.mart_indicator_coverage
                          where area_level = 'buurt' and indicator_id in ('cbs_inkomen_per_inwoner',
                              'cbs_laag_inkomen_pct', 'cbs_sociaal_minimum_pct')""")
    assert (coverage["areas_not_published"] == 3).all()
    assert (coverage["areas_withheld"] >= coverage["areas_not_published"]).all()
    assert (coverage["areas"] == coverage["areas_published"] + coverage["areas_withheld"]).all()
    assert df(con, "select count(*) as n from marts.mart_indicator_coverage where area_level <> 'buurt' "
                   "and areas_not_published > 0")["n"].item() == 0

    label = df(con, "select label_nl from marts.dim_code_label where code_set = 'suppression_reason' and code = 'not_published'")
    assert len(label) == 1 and label["label_nl"].item()


def test_every_withheld_series_value_says_why(con):
    """fct_indicator_series gives each withheld value its reason, as fct_indicator_value does: the
    same reason where fct_indicator_value withholds the same code that year (unless the carried
    counts are themselves a small cell), and carried_from_withheld where the code is not withheld
    there but a code its past is carried from is (a merged buurt's past: the sum would give back
    the withheld part)."""
    series = df(con, """select s.*, v.suppression_reason as value_reason, v.area_code is not null as in_values
                        from marts.fct_indicator_series as s
                        left join marts.fct_indicator_value as v using (area_code, year, indicator_id)""")
    assert (series["suppression_reason"].notna() == series["is_suppressed"]).all()
    same = series[series["value_reason"].notna() & (series["suppression_reason"] != "small_cell")]
    assert (same["suppression_reason"] == same["value_reason"]).all()
    carried = series[series["suppression_reason"] == "carried_from_withheld"]
    assert len(carried) > 0 and carried["value_reason"].isna().all()
    assert (~carried["in_values"]).any()  # merged codes, which did not exist in the years carried into them


def test_the_staat_van_de_jeugd_says_which_indicators_are_the_youths(con):
    """Both Staat van de Jeugd marts carry every life phase; is_youth (dim_life_phase) marks the
    youth's indicators, which are the report to the council: the adult survey's are not."""
    for mart in ("mart_staat_van_de_jeugd", "mart_staat_van_de_jeugd_report"):
        rows = df(con, f"""select m.indicator_id, m.is_youth, p.is_youth as phase_is_youth
                           from marts.{mart} as m join marts.dim_life_phase as p using (life_phase_id)""")
        assert (rows["is_youth"] == rows["phase_is_youth"]).all(), mart
        assert rows.loc[rows["indicator_id"].str.endswith("_volw"), "is_youth"].eq(False).all(), mart
        assert rows.loc[rows["indicator_id"].str.endswith("_jeugd"), "is_youth"].all(), mart
        assert rows["is_youth"].any() and not rows["is_youth"].all(), mart


def test_the_wijk_profile_of_a_year_carries_each_factors_newest_published_score(con):
    """mart_wijk_profile: per wijk, profile year and factor, the newest published wijk score of
    fct_factor_score up to the profile year, at most report_max_age_years (4) old. A factor of the
    youth survey (held in odd years) appears in an even year's profile with the odd year's score."""
    profile = df(con, "select * from marts.mart_wijk_profile")
    scores = df(con, "select * from marts.fct_factor_score where area_level = 'wijk' and score is not null")
    # every published wijk score is in the profile of its own year, unchanged
    own = scores.merge(profile, left_on=["area_code", "year", "factor_id"],
                       right_on=["area_code", "profile_year", "factor_id"], suffixes=("", "_profile"))
    assert len(own) == len(scores) and (own["score_year"] == own["year"]).all()
    assert (own["score"] == own["score_profile"]).all() and (own["percentile"] == own["percentile_profile"]).all()
    # rows carried from an earlier year are that year's row, and the newest one within 4 years
    carried = profile[profile["years_since_measurement"] > 0]
    assert len(carried) > 0 and (carried["years_since_measurement"] < 4).all()
    back = carried.merge(scores, left_on=["area_code", "score_year", "factor_id"],
                         right_on=["area_code", "year", "factor_id"], suffixes=("", "_scored"))
    assert len(back) == len(carried) and (back["score"] == back["score_scored"]).all()
    newer = carried.merge(scores, on=["area_code", "factor_id"])
    assert not ((newer["year"] > newer["score_year"]) & (newer["year"] <= newer["profile_year"])).any()
    # a youth-survey factor in the profile of an even year: carried from the odd year before
    years = sorted(profile["profile_year"].unique())
    survey = scores.groupby("factor_id")["year"].agg(lambda y: set(y))
    odd_only = [f for f, y in survey.items() if all(v % 2 == 1 for v in y)]
    assert odd_only, "the demo's youth survey factors are scored in odd years only"
    even = [y for y in years if y % 2 == 0 and y - 1 in years]
    shown = profile[profile["factor_id"].isin(odd_only) & profile["profile_year"].isin(even)]
    assert len(shown) > 0 and (shown["score_year"] == shown["profile_year"] - 1).all()
