"""What the ranking tells a policy adviser (ranking-1.6.0, merge-1.2.0; a review by a policy adviser
and a statistician of the published demo ranking): the place and 90% rank interval in every ranked
text, local data that contradict the literature flagged in the merge and not counted as support,
factors without any link to a scope's sub-goals not ranked there, the newest year with published
scores, two distinct chain messages, sub-goals resting on literature only, the caveat's wording."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from models_ml import merge, ranking, ranking_model, ranking_text
from models_ml.associations import NOTE
from models_ml.ranking import RankingConfig, rank_factors
from models_ml.ranking_model import build_model
from tests.ml.test_ranking import FACTORS, SUBGOALS, chains, merged, merged_with_sources, rank_city, scores
from tests.ml.test_ranking_equivalence import synthetic

SENTENCE = re.compile(r" Plaats (\d+) van (\d+)(?: \(gedeeld met (\d+) andere factor(?:en)?\))?; met 90% zekerheid "
                      r"tussen plaats (\d+) en (\d+)\.( De gegevens kunnen deze factor dus niet onderscheiden van de "
                      r"meeste andere factoren\.)?$")


# --- H1: the place and its 90% rank interval --------------------------------------------------

def _check_rank_sentences(rows: pd.DataFrame) -> tuple[int, int]:
    """Every ranked row's text ends with its place and interval, as its own numbers give them; no
    unranked row has one. Returns the number of wide intervals seen and of intervals widened to
    the places the text gives."""
    key = ["scope_type", "scope_id", "area_code"]
    n_ranked = rows.groupby(key)["rankable"].transform("sum")
    same_median = rows[rows["rankable"]].groupby(key + ["rank_median"])["factor_id"].transform("size")
    first_place = rows[rows["rankable"]].groupby(key + ["rank_median"])["priority"].transform("min")
    wide = widened = 0
    for i, row in rows.iterrows():
        found = SENTENCE.search(row["explanation"])
        if not row["rankable"]:
            assert found is None and "Plaats" not in row["explanation"], row["explanation"]
            continue
        assert found, row["explanation"]
        place, n, shared, lower, upper, is_wide = found.groups()
        assert int(place) == first_place[i] and int(n) == n_ranked[i]  # a shared place: the group's first
        assert int(shared or 0) == same_median[i] - 1
        # the rank interval in whole places, widened to the places the text gives (the group's, if shared)
        assert int(lower) == min(np.floor(row["rank_ci90_lower"]), int(place))
        assert int(upper) == max(np.ceil(row["rank_ci90_upper"]), int(place) + int(shared or 0))
        assert int(lower) <= int(place) <= int(place) + int(shared or 0) <= int(upper)
        widened += (int(lower), int(upper)) != (np.floor(row["rank_ci90_lower"]), np.ceil(row["rank_ci90_upper"]))
        assert bool(is_wide) == (int(upper) - int(lower) + 1 > max(0.5 * int(n), 1))
        wide += bool(is_wide)
    return wide, widened


@pytest.mark.parametrize("seed", [1, 2])
def test_every_ranked_text_gives_its_place_and_rank_interval(seed):
    model, s, phases = synthetic(seed)
    city, areas = rank_factors(model, s, phases, RankingConfig(n_draws=200, seed=seed))
    (wide_city, widened_city), (wide_areas, widened_areas) = _check_rank_sentences(city), _check_rank_sentences(areas)
    assert wide_city + wide_areas > 0 and (areas["rank_ci90_lower"] % 1 == 0.5).any()  # wide intervals and half ranks exercised
    assert widened_city + widened_areas > 0  # and places outside the rank interval


def test_the_rank_sentence_reads_as_in_the_review():
    """A tight interval: no warning; a shared median rank (pesten and schulden: equal exact effects
    and gaps, so they tie in every draw at rank 2.5): said so, the half ranks widened to whole places."""
    model = build_model(FACTORS, SUBGOALS, merged([("armoede", "gezond_mentaal", 0.8, 0.01),
                                                   ("schulden", "gezond_mentaal", 0.1, 0.0),
                                                   ("pesten", "gezond_mentaal", 0.1, 0.0)]), chains())
    g, _, _ = rank_city(model, scores({f: [0, 0, 1.0, 1.0] for f in ("armoede", "schulden", "pesten")}))
    assert g.loc["armoede", "explanation"].endswith(" Plaats 1 van 3; met 90% zekerheid tussen plaats 1 en 1.")
    assert g.loc["pesten", "explanation"].endswith(  # 2 of 3 places: more than half the list
        " Plaats 2 van 3 (gedeeld met 1 andere factor); met 90% zekerheid tussen plaats 2 en 3. De gegevens kunnen "
        "deze factor dus niet onderscheiden van de meeste andere factoren.")
    assert g.loc["schulden", "priority"] == 3


# --- H3: local data that contradict the literature --------------------------------------------

def test_conflict_z_uses_the_merges_variances_and_flags_clear_opposite_signs():
    """The review's pair vroeg_alcoholgebruik -> gezond_gedrag: local d -0.525 (SE 0.296), literature
    +0.729 (SE 0.038): z = -2.76 under v_lit = se^2 + tau^2 and v_loc = (se^2 + tau^2) / w."""
    z, clash = merge.source_conflict([0.729, 0.729, 0.729, 0.3, np.nan, 0.4],
                                     [0.038, 0.038, 0.038, 0.05, np.nan, 0.1],
                                     [-0.525, -0.1, 1.9, 0.1, 0.2, np.nan],
                                     [0.296, 0.6, 0.05, 0.05, 0.1, np.nan], tau=0.1, local_weight=0.5)
    v_lit, v_loc = 0.038**2 + 0.01, (0.296**2 + 0.01) / 0.5
    assert z[0] == pytest.approx((-0.525 - 0.729) / np.sqrt(v_lit + v_loc)) and z[0] == pytest.approx(-2.76, abs=0.005)
    assert clash[0] is True or bool(clash[0]) is True
    assert abs(z[1]) < 1.645 and not clash[1]  # opposite signs, but within the noise
    assert z[2] > 1.645 and not clash[2]  # clearly different, same sign: no contradiction
    assert not clash[3]
    assert np.isnan(z[4]) and np.isnan(z[5]) and pd.isna(clash[4]) and pd.isna(clash[5])  # one source only


def test_the_merge_publishes_the_conflict_and_keeps_its_estimates():
    assoc = pd.DataFrame([
        {"outcome_indicator_id": "o1", "factor_id": f, "subgoal_id": "sub", "status": "estimated", "note": NOTE,
         "estimate": est, "std_error": se}
        for f, est, se in [("against", -0.25, 0.14), ("agrees", 0.3, 0.05), ("local", 0.2, 0.05)]])
    lit = pd.DataFrame([(f"{f}__sub", f, "sub", 0.729, 0.038, "A", False, "X 2020") for f in ("against", "agrees", "lit")],
                       columns=["link_id", "factor_id", "subgoal_id", "effect_size_d", "se_d", "evidence_grade",
                                "is_placeholder", "citation"])
    cfg = merge.MergeConfig(shrink_local_only=False)
    out = merge.merge_effects(assoc, lit, cfg).set_index("factor_id")
    assert list(merge.merge_effects(assoc, lit, cfg).columns) == merge.COLUMNS
    row = out.loc["against"]
    v = row["se_literature"] ** 2 + 0.01 + (row["se_local"] ** 2 + 0.01) / 0.5
    assert row["conflict_z"] == pytest.approx((row["d_local"] - row["d_literature"]) / np.sqrt(v))
    assert row["conflict_z"] < -1.645 and bool(row["sources_conflict"]) is True
    assert bool(out.loc["agrees", "sources_conflict"]) is False
    for single in ("local", "lit"):
        assert pd.isna(out.loc[single, "conflict_z"]) and pd.isna(out.loc[single, "sources_conflict"])
    # the estimate is the merge's precision-weighted mean, flag or not
    d, sd, _ = merge.pool(row["d_literature"], row["se_literature"], row["d_local"], row["se_local"])
    assert row["d_merged"] == pytest.approx(float(d)) and row["se_merged"] == pytest.approx(float(sd))


def test_local_data_that_point_the_other_way_are_reported_not_counted_as_support():
    """armoede: literature +0.6 on mentaal with a local -0.5 that pulls the other way (local share
    0.1: local part -0.05, literature part 0.54), and a local +0.2 on zelfstandig that agrees with
    its literature (+0.2, share 0.5). Before ranking-1.6.0 the contradicting -0.05 counted as local
    support (0.15 of 0.79); now the support is 0.1 local + 0.1 + 0.54 literature, and the text says
    the local data on mentaal point the other way."""
    m = merged_with_sources([
        ("armoede", "gezond_mentaal", -0.5, 0.6, 0.1, False),
        ("armoede", "kansrijk_zelfstandig", 0.2, 0.2, 0.5, False),
        ("schulden", "gezond_mentaal", 0.3, 0.6, 0.5, False),  # agrees: nothing to report
    ])
    model = build_model(FACTORS, SUBGOALS, m, chains())
    g, _, _ = rank_city(model, scores({f: [0, 0, 1.0, 1.0] for f in ("armoede", "schulden")}))
    cols = ["evidence_local", "evidence_literature", "evidence_placeholder"]
    assert g.loc["armoede", cols].tolist() == pytest.approx([0.1 / 0.74, 0.64 / 0.74, 0])
    text = g.loc["armoede", "explanation"]
    assert ('Voor het doel "Mentale gezondheid" wijzen de lokale gegevens de andere kant op dan de literatuur; '
            "ze tellen daarom niet mee in de onderbouwing. Onderbouwing: 14% lokale gegevens") in text
    assert "andere kant op dan de literatuur" not in g.loc["schulden", "explanation"]
    assert ranking_model.local_against(model).sum() == 1


def test_local_data_against_a_placeholder_are_not_said_to_contradict_the_literature():
    """armoede as above, but its +0.6 on mentaal is a placeholder (no source): the local data point
    the other way from an assumption, and the text says so instead of naming the literature
    (in the demo, digitale_vaardigheden read "dan de literatuur" beside "0% onderzoeksliteratuur").
    schulden has both: a cited figure on mentaal and a placeholder on zelfstandig, each against its local data."""
    m = merged_with_sources([
        ("armoede", "gezond_mentaal", -0.5, 0.6, 0.1, True),
        ("armoede", "kansrijk_zelfstandig", 0.2, 0.2, 0.5, False),
        ("schulden", "gezond_mentaal", -0.3, 0.6, 0.1, False),
        ("schulden", "kansrijk_zelfstandig", -0.3, 0.6, 0.1, True),
    ])
    model = build_model(FACTORS, SUBGOALS, m, chains())
    g, _, _ = rank_city(model, scores({f: [0, 0, 1.0, 1.0] for f in ("armoede", "schulden")}))
    assert ('Voor het doel "Mentale gezondheid" wijzen de lokale gegevens de andere kant op dan de aannames zonder '
            "bron; ze tellen daarom niet mee in de onderbouwing.") in g.loc["armoede", "explanation"]
    assert "dan de literatuur" not in g.loc["armoede", "explanation"]
    assert ("wijzen de lokale gegevens de andere kant op dan de literatuur en de aannames zonder bron;"
            in g.loc["schulden", "explanation"])
    sources = ranking_model.outweighing_sources(model, np.ones(len(SUBGOALS)) / len(SUBGOALS),
                                                 ranking_model.chain_multipliers(model.b_mean, model.direct_part,
                                                                                 len(SUBGOALS)))
    assert (sources >= 0).all() and (sources.sum(axis=(0, 1)) > 0).sum() == 2  # armoede and schulden only


def test_local_data_that_outweigh_a_literature_figure_of_the_other_sign_are_its_support():
    """pesten: local +0.5 with share 0.8 against a placeholder -0.2: the merged effect (0.36) has the
    local sign, so the local data are its support, not data that point the other way."""
    m = merged_with_sources([("pesten", "gezond_mentaal", 0.5, -0.2, 0.8, True)])
    model = build_model(FACTORS, SUBGOALS, m, chains())
    g, _, _ = rank_city(model, scores({"pesten": [0, 0, 1.0, 1.0]}))
    assert not ranking_model.local_against(model).any()
    assert g.loc["pesten", "evidence_local"] == pytest.approx(0.4 / 0.44)
    assert "andere kant op" not in g.loc["pesten", "explanation"]


# --- M1: no link to the scope's sub-goals -----------------------------------------------------

def test_a_factor_without_any_link_to_a_domain_is_not_ranked_in_it():
    """pesten affects only zelfstandig (kansrijk); sport only through a chain to schulden, which
    affects mentaal (gezond). In the gezond domain pesten is listed, not ranked (no numbers, no
    place), and does not count in the places of the others; sport is ranked there, and not in kansrijk."""
    model = build_model(FACTORS, SUBGOALS, merged([("pesten", "kansrijk_zelfstandig", 0.3, 0.01),
                                                   ("armoede", "gezond_mentaal", 0.3, 0.01),
                                                   ("schulden", "gezond_mentaal", 0.3, 0.01)]),
                        chains([("sport", "schulden", -0.4, 0.01)]))
    s = scores({"pesten": [0, 0, 1.0, 1.0], "armoede": [0, 0, 1.0, 1.0], "schulden": [0, 0, 1.0, 1.0],
                "sport": [1.0, 1.0, 0, 0]})
    _, city, areas = rank_city(model, s)
    scope = lambda d: city[(city["scope_type"] == "domain") & (city["scope_id"] == d)].set_index("factor_id")  # noqa: E731
    gezond, kansrijk = scope("gezond"), scope("kansrijk")
    numbers = ["impact", "impact_ci90_lower", "impact_ci90_upper", "rank_median", "rank_ci90_lower", "rank_ci90_upper",
               "priority", "p_top5", "room_for_improvement", "rank_by_room_for_improvement", "direct_share",
               "evidence_local"]
    assert not gezond.loc["pesten", "rankable"] and gezond.loc["pesten", numbers].isna().all()
    assert "niet samen met de doelen van deze rangorde" in gezond.loc["pesten", "explanation"]
    assert gezond["rankable"].sum() == 3 and sorted(gezond["priority"].dropna()) == [1, 2, 3]
    assert gezond["rank_ci90_upper"].max() <= 3
    assert gezond.loc["sport", "rankable"] and not kansrijk.loc["sport", "rankable"]
    assert kansrijk["rankable"].sum() == 1 and kansrijk.loc["pesten", "priority"] == 1
    # every factor reaches some sub-goal: all ranked city-wide and per wijk
    assert city.loc[city["scope_type"] == "gemeente", "rankable"].all() and areas["rankable"].all()
    # factors in code order: armoede, pesten, schulden, sport; only the gezond sub-goal weighed
    assert ranking_model.linked_factors(model, np.array([1.0, 0.0])).tolist() == [True, False, True, True]


# --- M4: the newest year with published scores -----------------------------------------------

def test_each_factor_uses_its_newest_year_with_published_wijk_scores():
    """armoede: every 2024 wijk score withheld, 2023 published: ranked on 2023 (it dropped out of
    the ranking before). schulden: 2024 partly published: 2024, its withheld wijk unranked and says
    why. pesten: never published: listed on its newest year, unranked everywhere."""
    rows = []
    for factor in ("armoede", "schulden", "pesten"):
        for year in (2023, 2024):
            for i, v in enumerate([0.0, 0.0, 1.0, 1.0, 2.0]):
                withheld = ((factor == "armoede" and year == 2024) or factor == "pesten"
                            or (factor == "schulden" and year == 2024 and i == 4))
                rows.append({"area_code": f"WK9999{i + 1:02d}", "area_level": "wijk", "year": year, "factor_id": factor,
                             "score": np.nan if withheld else v + (year == 2024), "withheld": withheld})
    s = pd.DataFrame(rows)
    newest = ranking.newest_scores(s, FACTORS)
    assert newest.groupby("factor_id")["year"].unique().map(list).to_dict() == {
        "armoede": [2023], "schulden": [2024], "pesten": [2024]}
    model = build_model(FACTORS, SUBGOALS, merged([(f, "gezond_mentaal", 0.3, 0.01)
                                                   for f in ("armoede", "schulden", "pesten")]), chains())
    g, city, areas = rank_city(model, s)
    assert city.groupby("factor_id")["score_year"].unique().map(list).to_dict() == {
        "armoede": [2023], "schulden": [2024], "pesten": [2024], "sport": [pd.NA]}
    assert g.loc["armoede", "rankable"] and areas.loc[areas["factor_id"] == "armoede", "rankable"].all()
    w5 = areas[areas["area_code"] == "WK999905"].set_index("factor_id")
    assert not w5.loc["schulden", "rankable"] and "wordt hier niet gepubliceerd" in w5.loc["schulden", "explanation"]
    assert w5.loc["armoede", "rankable"] and w5.loc["armoede", "room_for_improvement"] == pytest.approx(2.0)
    assert not areas.loc[areas["factor_id"] == "pesten", "rankable"].any() and not g.loc["pesten", "rankable"]


def test_each_gemeente_uses_its_own_newest_year_with_published_wijk_scores():
    """A region of two gemeenten: GM9998 has armoede scores up to 2024, GM9999 only up to 2023 (its
    2024 figures are not in yet). Each gemeente is ranked on its own wijken, so GM9999 ranks armoede
    on 2023; taking the region's newest year left it unranked in GM9999 (ranking-1.6.0)."""
    rows = []
    for gemeente, years in (("9998", (2023, 2024)), ("9999", (2023,))):
        for year in years:
            for i, v in enumerate([0.0, 0.0, 1.0, 1.0, 2.0]):
                rows.append({"area_code": f"WK{gemeente}{i + 1:02d}", "area_level": "wijk", "year": year,
                             "factor_id": "armoede", "score": v + (year == 2024), "withheld": False})
    s = pd.DataFrame(rows)
    newest = ranking.newest_scores(s, FACTORS)
    assert newest.groupby("gemeente_code")["year"].unique().map(list).to_dict() == {"GM9998": [2024], "GM9999": [2023]}
    model = build_model(FACTORS, SUBGOALS, merged([("armoede", "gezond_mentaal", 0.3, 0.01)]), chains())
    _, city, areas = rank_city(model, s)
    arm = city[(city["scope_type"] == "gemeente") & (city["factor_id"] == "armoede")].set_index("scope_id")
    assert arm["score_year"].to_dict() == {"GM9998": 2024, "GM9999": 2023}
    assert arm["rankable"].all()
    in_9999 = areas[(areas["factor_id"] == "armoede") & areas["area_code"].str.startswith("WK9999")]
    assert len(in_9999) == 5 and in_9999["rankable"].all() and (in_9999["score_year"] == 2023).all()
    assert in_9999.set_index("area_code").loc["WK999905", "room_for_improvement"] == pytest.approx(2.0)


# --- M5: two situations, two chain messages ---------------------------------------------------

def _chain_text(coefficient: float, d_schulden: float, directions: str | None = None) -> str:
    """pesten -> schulden -> zelfstandig (a chain of two risk factors), pesten -> mentaal directly."""
    links = chains([("pesten", "schulden", coefficient, 0.01)])
    if directions is not None:
        links["effect_direction"] = directions
    model = build_model(FACTORS, SUBGOALS, merged([("pesten", "gezond_mentaal", 0.3, 0.01),
                                                   ("schulden", "kansrijk_zelfstandig", d_schulden, 0.01)]), links)
    g, _, _ = rank_city(model, scores({"pesten": [0, 0, 1.0, 1.0], "schulden": [0, 0, 1.0, 1.0]}))
    return g.loc["pesten", "explanation"]


AGAINST_MODEL = ("via de keten naar Schulden, maar die keten werkt in de gegevens andersom dan het factorenmodel "
                 "aanneemt, zodat dit deel de winst juist verkleint.")
AGAINST_DOWNSTREAM = ("via de keten naar Schulden; die keten werkt zoals het factorenmodel aanneemt, maar meer Schulden "
                      "gaat in de gegevens zelf samen met betere uitkomsten op deze doelen, zodat dit deel de winst "
                      "juist verkleint.")


def test_a_chain_against_the_models_direction_and_a_downstream_factor_against_expectation_read_differently():
    # the link lowers schulden where the model says pesten increases it; schulden harms zelfstandig
    against_model = _chain_text(-0.6, 0.3, "increases")
    # the link as the model says, but more schulden goes with a better zelfstandig
    against_downstream = _chain_text(0.6, -0.3, "increases")
    assert AGAINST_MODEL in against_model and AGAINST_DOWNSTREAM not in against_model
    assert AGAINST_DOWNSTREAM in against_downstream and AGAINST_MODEL not in against_downstream
    # a model that says the link decreases schulden (against the factor types): the chain runs as
    # assumed and schulden harms as a risk factor should; the model's own direction works against
    as_assumed = _chain_text(-0.6, 0.3, "decreases")
    assert ("via de keten naar Schulden, en zo neemt het factorenmodel het ook aan: langs deze keten verkleint de "
            "factor de winst." in as_assumed)
    assert AGAINST_MODEL not in as_assumed and AGAINST_DOWNSTREAM not in as_assumed
    # a chain that helps: no clause
    assert "via de keten naar Schulden. " in _chain_text(0.6, 0.3, "increases")
    # without effect_direction the factor types say it: two risk factors, the link increases
    assert AGAINST_MODEL in _chain_text(-0.6, 0.3) and AGAINST_DOWNSTREAM in _chain_text(0.6, -0.3)
    assert "de andere kant op, en" not in against_model + against_downstream


# --- M7: sub-goals that rest on literature only -----------------------------------------------

def test_a_sub_goal_whose_part_rests_on_literature_only_says_so():
    m = merged_with_sources([
        ("armoede", "gezond_mentaal", np.nan, 0.6, 0.0, False),     # literature only
        ("armoede", "kansrijk_zelfstandig", 0.4, 0.4, 0.5, False),  # local and literature
        ("schulden", "gezond_mentaal", np.nan, 0.4, 0.0, True),     # a placeholder only
    ])
    model = build_model(FACTORS, SUBGOALS, m, chains())
    g, _, _ = rank_city(model, scores({f: [0, 0, 1.0, 1.0] for f in ("armoede", "schulden")}))
    assert ('de winst komt vooral bij de doelen "Mentale gezondheid" (60%; alleen literatuur) en "Zelfstandig" (40%).'
            in g.loc["armoede", "explanation"])
    assert '"Mentale gezondheid" (100%; alleen aannames zonder bron)' in g.loc["schulden", "explanation"]


def test_a_sub_goal_supported_by_literature_against_the_local_data_says_both():
    m = merged_with_sources([("armoede", "gezond_mentaal", -0.5, 0.6, 0.1, False),
                             ("armoede", "kansrijk_zelfstandig", 0.4, 0.4, 0.5, False)])
    g, _, _ = rank_city(build_model(FACTORS, SUBGOALS, m, chains()), scores({"armoede": [0, 0, 1.0, 1.0]}))
    text = g.loc["armoede", "explanation"]
    assert '"Mentale gezondheid" (55%; alleen literatuur, tegen de lokale gegevens in)' in text
    assert text.endswith(" Plaats 1 van 1; met 90% zekerheid tussen plaats 1 en 1.")  # one place: not wide


# --- L6 and L1: the caveat; the placeholder warning on every row that rests on placeholders --

def test_the_caveat_says_within_each_area_over_time():
    assert "tussen buurten" not in ranking_text.CAVEAT and "door de jaren heen" in ranking_text.CAVEAT
    assert ranking_text.caveat(np.array([0.5, 0.5, 0.0])) == (
        "Gebaseerd op samenhangen (lokaal binnen elke buurt of wijk door de jaren heen en uit de literatuur), "
        "niet op bewezen oorzakelijke effecten.")


def test_every_ranked_row_resting_on_placeholders_carries_the_warning():
    """Also where the area has no room for improvement (before, those texts left it out)."""
    m = merged_with_sources([("pesten", "gezond_mentaal", 0.05, 0.2, 0.2, True),
                             ("armoede", "gezond_mentaal", 0.3, np.nan, 1.0, pd.NA)])
    model = build_model(FACTORS, SUBGOALS, m, chains())
    _, city, areas = rank_city(model, scores({f: [0, 0, 1.0, 1.0] for f in ("armoede", "pesten")}))
    rows = pd.concat([city, areas])
    flagged = rows[rows["rankable"] & (rows["evidence_placeholder"] >= ranking_text.RESTS_ON_PLACEHOLDERS)]
    assert len(flagged) and flagged["explanation"].str.contains("geen ruimte voor verbetering").any()
    assert flagged["explanation"].str.contains("Let op: deze plaats in de rangorde rust vooral op aannames").all()
