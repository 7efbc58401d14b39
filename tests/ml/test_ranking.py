"""The ranking: total effects through chains, Monte Carlo rank intervals, and why it is not a
ranking by prevalence. Small hand-made factor models, so that every number can be checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml.ranking import RankingConfig, rank_factors, room_for_improvement
from models_ml.ranking_model import build_model, total_effects

FACTORS = pd.DataFrame({
    "factor_id": ["armoede", "schulden", "pesten", "sport"],
    "factor_type": ["risk", "risk", "risk", "protective"],
    "name_nl": ["Armoede", "Schulden", "Pesten", "Sport"],
})
SUBGOALS = pd.DataFrame({
    "subgoal_id": ["gezond_mentaal", "kansrijk_zelfstandig"],
    "domain_id": ["gezond", "kansrijk"],
    "name_nl": ["Mentale gezondheid", "Zelfstandig"],
})


def merged(rows):
    return pd.DataFrame(rows, columns=["factor_id", "subgoal_id", "d_merged", "se_merged"])


def chains(rows=()):
    return pd.DataFrame(list(rows), columns=["from_factor_id", "to_factor_id", "coefficient", "std_error"])


def scores(gaps: dict[str, list[float]], year: int = 2024) -> pd.DataFrame:
    """Wijk scores whose best quartile is 0 for risk factors (and the top for protective ones)."""
    rows = []
    for factor, values in gaps.items():
        for i, v in enumerate(values):
            rows.append({"area_code": f"WK9999{i + 1:02d}", "area_level": "wijk", "year": year,
                         "factor_id": factor, "score": v})
    return pd.DataFrame(rows)


def test_total_effects_run_through_the_chains():
    model = build_model(FACTORS, SUBGOALS,
                        merged([("schulden", "gezond_mentaal", 0.5, 0.0)]),
                        chains([("armoede", "schulden", 0.6, 0.0)]))
    t = total_effects(model.d_mean, model.b_mean)
    f = list(model.factors["factor_id"])
    s = list(model.subgoals["subgoal_id"])
    # armoede has no direct effect, only 0.6 x 0.5 through schulden
    assert t[s.index("gezond_mentaal"), f.index("armoede")] == pytest.approx(0.3)
    assert t[s.index("gezond_mentaal"), f.index("schulden")] == pytest.approx(0.5)


def test_room_for_improvement_is_the_gap_to_the_best_quartile():
    s = scores({"armoede": [0.0, 0.0, 1.0, 2.0], "sport": [0.0, 0.0, 1.0, 2.0]})
    gaps = room_for_improvement(s, FACTORS).set_index(["factor_id", "area_code"])["gap"]
    # risk: best quartile is low (q25 = 0): gaps 0, 0, 1, 2; protective: best is high (q75 = 1.25)
    assert list(gaps["armoede"]) == [0.0, 0.0, 1.0, 2.0]
    assert list(gaps["sport"]) == pytest.approx([1.25, 1.25, 0.25, 0.0])


def test_a_withheld_score_gives_no_gap_and_stays_out_of_the_best_quartile():
    """Disclosure control: WK999905's score is withheld (a small cell), so it gets no gap (its gap
    and the impact, gap times effects shared by every wijk, would give the score back) and the
    quartiles come from the four published scores: risk q25 of [0, 0, 1, 2] = 0."""
    s = scores({"armoede": [0.0, 0.0, 1.0, 2.0, -5.0]}).assign(withheld=[False] * 4 + [True])
    s.loc[s["withheld"], "score"] = np.nan  # as load_scores gives it: no published score
    gaps = room_for_improvement(s, FACTORS).set_index("area_code")
    assert list(gaps["gap"].iloc[:4]) == [0.0, 0.0, 1.0, 2.0]
    assert np.isnan(gaps.loc["WK999905", "gap"]) and gaps.loc["WK999905", "withheld"]
    # the withheld score itself is never read, even where a caller passes it
    s_with_value = s.assign(score=[0.0, 0.0, 1.0, 2.0, -5.0])
    assert room_for_improvement(s_with_value, FACTORS)["gap"].equals(room_for_improvement(s, FACTORS)["gap"])


def test_a_wijk_whose_score_is_withheld_is_listed_unranked_and_says_why():
    model = build_model(FACTORS, SUBGOALS, merged([("armoede", "gezond_mentaal", 0.5, 0.05),
                                                   ("schulden", "gezond_mentaal", 0.3, 0.05)]), chains())
    s = scores({"armoede": [0.0, 0.0, 1.0, 2.0], "schulden": [0.0, 0.5, 1.0, 2.0]}).assign(withheld=False)
    hidden = (s["factor_id"] == "armoede") & (s["area_code"] == "WK999904")
    s.loc[hidden, "withheld"], s.loc[hidden, "score"] = True, np.nan
    life = pd.DataFrame({"factor_id": FACTORS["factor_id"], "life_phase_id": "jeugd"})
    city, areas = rank_factors(model, s, life, RankingConfig(n_draws=200))
    row = areas.set_index(["area_code", "factor_id"]).loc[("WK999904", "armoede")]
    assert not row["rankable"]
    assert row[["room_for_improvement", "impact", "rank_median", "p_top5"]].isna().all()
    assert "niet gepubliceerd" in row["explanation"] and row["not_ranked_reason"] == "score_withheld"
    assert areas.set_index(["area_code", "factor_id"]).loc[("WK999903", "armoede"), "rankable"]
    # city-wide: the mean gap of the wijken with a published score (0, 0, 1 -> 1/3)
    g = city[city["scope_type"] == "gemeente"].set_index("factor_id")
    assert g.loc["armoede", "room_for_improvement"] == pytest.approx(1 / 3)
    # a factor withheld in every wijk is not ranked city-wide either, and says why
    s_all = s.assign(withheld=s["withheld"] | (s["factor_id"] == "schulden"))
    s_all.loc[s_all["withheld"], "score"] = np.nan
    city_all, _ = rank_factors(model, s_all, life, RankingConfig(n_draws=200))
    row = city_all[city_all["scope_type"] == "gemeente"].set_index("factor_id").loc["schulden"]
    assert not row["rankable"] and "niet gepubliceerd" in row["explanation"]
    assert row["not_ranked_reason"] == "score_withheld"


def test_ranking_is_not_a_ranking_by_prevalence():
    """pesten has the most room for improvement but a weak effect; armoede less room but strong
    effects, directly and through schulden: armoede ranks first, pesten would win on prevalence."""
    model = build_model(
        FACTORS, SUBGOALS,
        merged([("armoede", "kansrijk_zelfstandig", 0.6, 0.05), ("schulden", "gezond_mentaal", 0.4, 0.05),
                ("pesten", "gezond_mentaal", 0.05, 0.02), ("sport", "gezond_mentaal", -0.2, 0.05)]),
        chains([("armoede", "schulden", 0.5, 0.05)]),
    )
    s = scores({"armoede": [0, 0, 0.5, 1.0], "schulden": [0, 0, 0.5, 1.0], "pesten": [0, 0, 3.0, 4.0],
                "sport": [1.0, 1.0, 0.0, 0.0]})
    life = pd.DataFrame({"factor_id": FACTORS["factor_id"], "life_phase_id": "jeugd"})
    city, areas = rank_factors(model, s, life, RankingConfig(n_draws=500))
    g = city[city["scope_type"] == "gemeente"].set_index("factor_id")
    assert g.loc["pesten", "rank_by_room_for_improvement"] == 1
    assert g.loc["armoede", "rank_median"] == 1 and g.loc["pesten", "rank_median"] == 4
    assert g.loc["armoede", "p_top5"] == 1.0
    assert g.loc["armoede", "direct_share"] < 1.0  # part of armoede's impact runs through schulden
    assert "Schulden" in g.loc["armoede", "explanation"] and "niet op bewezen oorzakelijke" in g.loc["armoede", "explanation"]
    # per wijk: a wijk without room on armoede does not get armoede on top
    w = areas[areas["area_code"] == "WK999901"].set_index("factor_id")
    assert w.loc["armoede", "room_for_improvement"] == 0 and w.loc["armoede", "impact"] == 0


def test_uncertainty_widens_rank_intervals():
    tight = build_model(FACTORS, SUBGOALS, merged([("armoede", "gezond_mentaal", 0.30, 0.001),
                                                   ("pesten", "gezond_mentaal", 0.28, 0.001)]), chains())
    loose = build_model(FACTORS, SUBGOALS, merged([("armoede", "gezond_mentaal", 0.30, 0.3),
                                                   ("pesten", "gezond_mentaal", 0.28, 0.3)]), chains())
    s = scores({f: [0, 0, 1.0, 1.0] for f in ("armoede", "pesten", "schulden", "sport")})
    life = pd.DataFrame({"factor_id": FACTORS["factor_id"], "life_phase_id": "jeugd"})
    width = {}
    for name, model in (("tight", tight), ("loose", loose)):
        city, _ = rank_factors(model, s, life, RankingConfig(n_draws=800))
        g = city[city["scope_type"] == "gemeente"].set_index("factor_id")
        width[name] = g.loc["armoede", "rank_ci90_upper"] - g.loc["armoede", "rank_ci90_lower"]
        assert g.loc["armoede", "rank_ci90_lower"] <= g.loc["armoede", "rank_median"] <= g.loc["armoede", "rank_ci90_upper"]
    assert width["tight"] == 0 and width["loose"] >= 1


def test_a_factor_without_local_scores_is_listed_but_not_ranked():
    model = build_model(FACTORS, SUBGOALS, merged([("armoede", "gezond_mentaal", 0.3, 0.05),
                                                   ("pesten", "gezond_mentaal", 0.3, 0.05)]), chains())
    s = scores({"armoede": [0, 0, 1.0, 1.0]})
    life = pd.DataFrame({"factor_id": FACTORS["factor_id"], "life_phase_id": "jeugd"})
    city, _ = rank_factors(model, s, life, RankingConfig(n_draws=100))
    g = city[city["scope_type"] == "gemeente"].set_index("factor_id")
    assert not g.loc["pesten", "rankable"] and pd.isna(g.loc["pesten", "rank_median"])
    assert "geen lokale gegevens" in g.loc["pesten", "explanation"]
    assert g.loc["pesten", "not_ranked_reason"] == "no_local_scores"
    assert g.loc[g["rankable"], "not_ranked_reason"].isna().all()
    assert set(city["scope_type"]) == {"gemeente", "domain", "life_phase"}
    assert set(city.loc[city["scope_type"] == "domain", "scope_id"]) == {"gezond", "kansrijk"}


def rank_city(model, s, n_draws: int = 50):
    """Rank with every factor in one life phase; returns (gemeente rows by factor, city rows, wijk rows)."""
    life = pd.DataFrame({"factor_id": FACTORS["factor_id"], "life_phase_id": "jeugd"})
    city, areas = rank_factors(model, s, life, RankingConfig(n_draws=n_draws))
    return city[city["scope_type"] == "gemeente"].set_index("factor_id"), city, areas


def merged_with_sources(rows):
    """Merge rows with the columns that say what each effect rests on:
    (factor, sub-goal, d_local, d_literature, local_share, literature_is_placeholder)."""
    out = pd.DataFrame(rows, columns=["factor_id", "subgoal_id", "d_local", "d_literature", "local_share",
                                      "literature_is_placeholder"])
    d_loc, d_lit = out["d_local"].fillna(0.0), out["d_literature"].fillna(0.0)
    out["d_merged"] = out["local_share"] * d_loc + (1 - out["local_share"]) * d_lit
    out["se_merged"] = 0.01
    out["literature_is_placeholder"] = out["literature_is_placeholder"].astype("boolean")
    return out


def test_evidence_shares_say_what_each_impact_rests_on():
    """armoede: a merged pair, a quarter of its weight local, the rest a placeholder; schulden:
    cited literature only; pesten: local data only; sport: no direct effect, only through a chain
    to schulden, so it rests on schulden's cited literature."""
    m = merged_with_sources([
        ("armoede", "gezond_mentaal", 0.4, 0.2, 0.25, True),        # 0.1 local + 0.15 placeholder
        ("armoede", "kansrijk_zelfstandig", 0.3, 0.6, 0.5, False),  # 0.15 local + 0.3 literature
        ("schulden", "gezond_mentaal", np.nan, 0.5, 0.0, False),
        ("pesten", "gezond_mentaal", 0.3, np.nan, 1.0, pd.NA),
    ])
    model = build_model(FACTORS, SUBGOALS, m, chains([("sport", "schulden", -0.4, 0.01)]))
    np.testing.assert_allclose(model.evidence.sum(axis=0), model.d_mean, atol=1e-15)
    s = scores({f: [0, 0, 1.0, 1.0] for f in ("armoede", "schulden", "pesten")} | {"sport": [1.0, 1.0, 0, 0]})
    g, city, areas = rank_city(model, s)
    cols = ["evidence_local", "evidence_literature", "evidence_placeholder"]
    # armoede, equal goal weights: local 0.1 + 0.15, literature 0.3, placeholder 0.15 (of 0.7)
    assert g.loc["armoede", cols].tolist() == pytest.approx([0.25 / 0.7, 0.3 / 0.7, 0.15 / 0.7])
    assert g.loc["schulden", cols].tolist() == pytest.approx([0, 1, 0])
    assert g.loc["pesten", cols].tolist() == pytest.approx([1, 0, 0])
    assert g.loc["sport", cols].tolist() == pytest.approx([0, 1, 0])  # through the chain
    assert "Onderbouwing: 36% lokale gegevens, 43% onderzoeksliteratuur, 21% aannames zonder bron." in g.loc["armoede", "explanation"]
    assert "Let op" not in g.loc["armoede", "explanation"]
    # the caveat names the sources the impact rests on, no others
    caveat = "Gebaseerd op samenhangen ({}), niet op bewezen oorzakelijke effecten."
    assert caveat.format("lokaal binnen elke buurt of wijk door de jaren heen, uit de literatuur en aangenomen zonder "
                         "bron") in g.loc["armoede", "explanation"]
    assert caveat.format("uit de literatuur") in g.loc["schulden", "explanation"]
    assert caveat.format("lokaal binnen elke buurt of wijk door de jaren heen") in g.loc["pesten", "explanation"]
    # a domain ranking weighs only its sub-goals: kansrijk sees armoede's second pair alone
    k = city[(city["scope_type"] == "domain") & (city["scope_id"] == "kansrijk")].set_index("factor_id")
    assert k.loc["armoede", cols].tolist() == pytest.approx([1 / 3, 2 / 3, 0])
    # per wijk the same shares (the room for improvement multiplies every contribution alike)
    w = areas[areas["area_code"] == "WK999903"].set_index("factor_id")
    assert w.loc["armoede", cols].tolist() == pytest.approx(g.loc["armoede", cols].tolist())


def test_an_impact_resting_on_placeholders_is_flagged():
    m = merged_with_sources([("pesten", "gezond_mentaal", 0.05, 0.2, 0.2, True),   # 0.01 local, 0.16 placeholder
                             ("armoede", "gezond_mentaal", 0.3, np.nan, 1.0, pd.NA)])
    model = build_model(FACTORS, SUBGOALS, m, chains())
    g, _, _ = rank_city(model, scores({f: [0, 0, 1.0, 1.0] for f in ("armoede", "pesten")}))
    assert g.loc["pesten", "evidence_placeholder"] == pytest.approx(0.16 / 0.17)
    assert "94% aannames zonder bron. Let op: deze plaats in de rangorde rust vooral op aannames zonder bron" in g.loc["pesten", "explanation"]
    assert "Let op" not in g.loc["armoede", "explanation"]


def test_without_the_merge_columns_the_evidence_is_unknown_not_invented():
    model = build_model(FACTORS, SUBGOALS, merged([("armoede", "gezond_mentaal", 0.3, 0.05)]), chains())
    assert model.evidence is None
    g, _, _ = rank_city(model, scores({"armoede": [0, 0, 1.0, 1.0]}))
    assert g[["evidence_local", "evidence_literature", "evidence_placeholder"]].isna().all().all()
    assert "Onderbouwing" not in g.loc["armoede", "explanation"]


def test_a_sub_goal_that_works_the_other_way_is_named():
    """Percentages are of the gain (the sub-goals that help add up to 100); a sub-goal that works
    the other way is named with the part of that gain it costs (here 0.2 of 0.6)."""
    model = build_model(FACTORS, SUBGOALS, merged([("armoede", "gezond_mentaal", 0.6, 0.01),
                                                   ("armoede", "kansrijk_zelfstandig", -0.2, 0.01)]), chains())
    g, _, _ = rank_city(model, scores({"armoede": [0, 0, 1.0, 1.0]}))
    text = g.loc["armoede", "explanation"]
    assert 'de winst komt vooral bij het doel "Mentale gezondheid" (100%).' in text
    assert 'Voor het doel "Zelfstandig" werkt de samenhang juist de andere kant op; dat kost 33% van die winst.' in text
    assert "onzeker" not in text  # the impact's interval lies above 0


def test_percentages_stay_readable_when_a_chain_cancels_the_direct_effect():
    """pesten harms mentaal directly (0.3) but, through a chain that lowers schulden (-0.9), helps
    zelfstandig about as much (0.9 x 0.3 = 0.27): the net impact is small and uncertain. The text
    gives shares of the gain (no 1000%), the chain's part of the association (0.27 of 0.57) and
    that it works the other way, what it costs, and that the gain is uncertain; direct_share stays
    a share."""
    model = build_model(FACTORS, SUBGOALS,
                        merged([("pesten", "gezond_mentaal", 0.3, 0.1), ("schulden", "kansrijk_zelfstandig", 0.3, 0.1)]),
                        chains([("pesten", "schulden", -0.9, 0.01)]))
    g, _, _ = rank_city(model, scores({"pesten": [0, 0, 1.0, 1.0], "schulden": [0, 0, 1.0, 1.0]}), n_draws=400)
    row = g.loc["pesten"]
    assert row["impact_ci90_lower"] < 0 < row["impact_ci90_upper"]
    assert 'de winst komt vooral bij het doel "Mentale gezondheid" (100%).' in row["explanation"]
    assert ("Van de samenhang loopt 47% via de keten naar Schulden, maar die keten werkt in de gegevens andersom "
            "dan het factorenmodel aanneemt, zodat dit deel de winst juist verkleint." in row["explanation"])
    assert ('Voor het doel "Zelfstandig" werkt de samenhang juist de andere kant op; dat kost 90% van die winst.'
            in row["explanation"])
    assert "De winst is onzeker: de 90%-marge loopt van verlies tot winst." in row["explanation"]
    # |direct| 0.3 of |direct| + |through schulden| 0.3 + 0.27
    assert row["direct_share"] == pytest.approx(0.3 / 0.57)


def test_the_chain_sentence_gives_the_part_of_the_gain_it_carries():
    """armoede -> schulden (0.5) -> mentaal (0.4), and armoede -> zelfstandig (0.6) directly: of the
    association 0.6 + 0.2, a quarter runs through the chain (already inside the sub-goal percentages)."""
    model = build_model(FACTORS, SUBGOALS,
                        merged([("armoede", "kansrijk_zelfstandig", 0.6, 0.01), ("schulden", "gezond_mentaal", 0.4, 0.01)]),
                        chains([("armoede", "schulden", 0.5, 0.01)]))
    g, _, _ = rank_city(model, scores({"armoede": [0, 0, 1.0, 1.0], "schulden": [0, 0, 1.0, 1.0]}))
    text = g.loc["armoede", "explanation"]
    assert 'de winst komt vooral bij de doelen "Zelfstandig" (75%) en "Mentale gezondheid" (25%).' in text
    assert "Van de samenhang loopt 25% via de keten naar Schulden." in text
    assert g.loc["armoede", "direct_share"] == pytest.approx(0.75)


def test_little_to_gain_says_why():
    """pesten: no association with the domain's sub-goals (not ranked there, ranking-1.6.0); sport (protective) whose association
    points to a loss (more sport, worse mentaal: d 0.2, uncertain); schulden: no room in the wijk.
    None is called harmful or explained by a caveat it does not need."""
    model = build_model(FACTORS, SUBGOALS, merged([("pesten", "kansrijk_zelfstandig", 0.3, 0.01),
                                                   ("sport", "gezond_mentaal", 0.2, 0.3),
                                                   ("schulden", "gezond_mentaal", 0.3, 0.01)]), chains())
    s = scores({"pesten": [0, 0, 1.0, 1.0], "sport": [1.0, 1.0, 0, 0], "schulden": [0, 0, 1.0, 1.0]})
    _, city, areas = rank_city(model, s, n_draws=400)
    gezond = city[(city["scope_type"] == "domain") & (city["scope_id"] == "gezond")].set_index("factor_id")
    assert gezond.loc["pesten", "explanation"] == ("Pesten: niet gerangschikt, want deze factor hangt niet samen met "
                                                   "de doelen van deze rangorde, direct noch via andere factoren.")
    assert not gezond.loc["pesten", "rankable"] and pd.isna(gezond.loc["pesten", "direct_share"])
    assert gezond.loc["pesten", "not_ranked_reason"] == "not_linked"
    sport = gezond.loc["sport", "explanation"]
    assert sport.startswith("Sport: weinig te winnen (de gevonden samenhang wijst eerder op verlies dan op winst, "
                            "maar dat is onzeker: de 90%-marge reikt tot winst).")
    assert "schadelijke" not in sport
    wijk1 = areas[areas["area_code"] == "WK999901"].set_index("factor_id")
    assert wijk1.loc["schulden", "explanation"].startswith(
        "Schulden: weinig te winnen (geen ruimte voor verbetering: dit gebied hoort op deze factor al bij het beste kwart")


def test_factors_with_equal_impact_share_their_rank():
    """In WK999901 armoede, schulden and pesten have no room for improvement: impact 0 in every
    draw. They share the mean of ranks 2-4 instead of being ordered by position."""
    model = build_model(FACTORS, SUBGOALS, merged([(f, "gezond_mentaal", 0.3, 0.05)
                                                   for f in ("armoede", "schulden", "pesten")]
                                                  + [("sport", "gezond_mentaal", -0.3, 0.05)]), chains())
    s = scores({"armoede": [0, 0, 1.0, 1.0], "schulden": [0, 0, 2.0, 1.0], "pesten": [0, 0, 1.0, 3.0],
                "sport": [0.0, 1.0, 1.0, 1.0]})
    _, _, areas = rank_city(model, s, n_draws=200)
    w = areas[areas["area_code"] == "WK999901"].set_index("factor_id")
    assert w.loc["sport", "rank_median"] == 1 and w.loc["sport", "p_top5"] == 1
    for f in ("armoede", "schulden", "pesten"):
        assert w.loc[f, ["rank_median", "rank_ci90_lower", "rank_ci90_upper"]].tolist() == [3.0, 3.0, 3.0], f
    # with distinct impacts the ranks stay whole numbers
    w3 = areas[areas["area_code"] == "WK999904"].set_index("factor_id")
    assert w3.loc["pesten", "rank_median"] == 1.0


def test_priority_gives_every_scope_one_list_where_median_ranks_tie():
    """rank_median can tie (WK999901: three factors share 3.0) or start above 1 (two factors tied
    at the top share 1.5); ``priority`` still places every rankable factor once, 1..n, by median
    rank, then p_top5 and impact, then the factor code; an unrankable factor has no place."""
    model = build_model(FACTORS, SUBGOALS, merged([(f, "gezond_mentaal", 0.3, 0.05)
                                                   for f in ("armoede", "schulden", "pesten")]
                                                  + [("sport", "gezond_mentaal", -0.3, 0.05)]), chains())
    s = scores({"armoede": [0, 0, 1.0, 1.0], "schulden": [0, 0, 2.0, 1.0], "pesten": [0, 0, 1.0, 3.0],
                "sport": [0.0, 1.0, 1.0, 1.0]}).assign(withheld=False)
    hidden = (s["factor_id"] == "pesten") & (s["area_code"] == "WK999903")
    s.loc[hidden, "withheld"], s.loc[hidden, "score"] = True, np.nan
    life = pd.DataFrame({"factor_id": FACTORS["factor_id"], "life_phase_id": "jeugd"})
    city, areas = rank_factors(model, s, life, RankingConfig(n_draws=200))
    w1 = areas[areas["area_code"] == "WK999901"].set_index("factor_id")
    assert w1["rank_median"].to_dict() == {"armoede": 3.0, "schulden": 3.0, "pesten": 3.0, "sport": 1.0}
    assert w1["priority"].to_dict() == {"armoede": 2, "pesten": 3, "schulden": 4, "sport": 1}
    w3 = areas[areas["area_code"] == "WK999903"].set_index("factor_id")
    assert not w3.loc["pesten", "rankable"] and pd.isna(w3.loc["pesten", "priority"])
    for _, scope in pd.concat([city, areas]).groupby(["scope_type", "scope_id", "area_code"]):
        ranked = scope[scope["rankable"]].sort_values("priority")
        assert ranked["priority"].tolist() == list(range(1, len(ranked) + 1))
        assert ranked["rank_median"].is_monotonic_increasing
    # two factors tied at the top share rank_median 1.5: places 1 and 2 all the same
    twins = build_model(FACTORS, SUBGOALS, merged([(f, "gezond_mentaal", 0.3, 0.0) for f in ("armoede", "schulden")]),
                        chains())
    city2, _ = rank_factors(twins, scores({"armoede": [0, 1.0], "schulden": [0, 1.0], "pesten": [0, 1.0], "sport": [0, 1.0]}),
                            life, RankingConfig(n_draws=50, score_error=False))
    top = city2[(city2["scope_type"] == "gemeente") & city2["rankable"]].set_index("factor_id")
    assert top.loc[["armoede", "schulden"], "rank_median"].tolist() == [1.5, 1.5]
    assert top.loc[["armoede", "schulden"], "priority"].tolist() == [1, 2]


def test_a_chain_whose_strength_is_assumed_counts_as_placeholder():
    """sport works on gezond_mentaal directly (local data) and through schulden, whose effect is
    cited literature; the sport -> schulden strength is the chains' prior (no local data), so that
    path is an assumption. armoede -> schulden is estimated: its path keeps schulden's literature."""
    m = merged_with_sources([("schulden", "gezond_mentaal", np.nan, 0.5, 0.0, False),
                             ("sport", "gezond_mentaal", -0.1, np.nan, 1.0, pd.NA)])
    links = chains([("sport", "schulden", -0.2, 0.15), ("armoede", "schulden", 0.4, 0.05)]).assign(
        source=["prior", "local"])
    model = build_model(FACTORS, SUBGOALS, m, links)
    s = scores({f: [0, 0, 1.0, 1.0] for f in ("armoede", "schulden", "pesten")} | {"sport": [1.0, 1.0, 0, 0]})
    g, _, _ = rank_city(model, s)
    cols = ["evidence_local", "evidence_literature", "evidence_placeholder"]
    # sport: direct 0.1 (local), through the assumed link 0.2 x 0.5 = 0.1 (placeholder)
    assert g.loc["sport", cols].tolist() == pytest.approx([0.5, 0, 0.5])
    assert g.loc["armoede", cols].tolist() == pytest.approx([0, 1, 0])
    text = g.loc["sport", "explanation"]
    assert "Let op: deze plaats in de rangorde rust vooral op aannames zonder bron" in text
    assert "Van de samenhang loopt 50% via de keten naar Schulden (een aangenomen schakel, zonder lokale gegevens)." in text
    assert "aangenomen schakel" not in g.loc["armoede", "explanation"]


def test_a_negligible_gain_is_called_negligible():
    """pesten's gain is 1/200 of armoede's: not described as if it mattered."""
    model = build_model(FACTORS, SUBGOALS, merged([("armoede", "gezond_mentaal", 0.4, 0.001),
                                                   ("pesten", "gezond_mentaal", 0.002, 0.0001)]), chains())
    g, _, _ = rank_city(model, scores({f: [0, 0, 1.0, 1.0] for f in ("armoede", "pesten")}))
    assert g.loc["pesten", "explanation"].startswith(
        "Pesten: weinig te winnen (de winst is verwaarloosbaar: minder dan 1% van die van de bovenste factor).")
    assert g.loc["armoede", "explanation"].startswith('Armoede: de winst komt vooral bij het doel "Mentale gezondheid"')


def test_evidence_percentages_add_up_to_100():
    from models_ml.ranking_text import whole_percentages

    assert whole_percentages(np.array([0.163, 0.674, 0.163])).tolist() == [16, 68, 16]  # not 16 + 67 + 16 = 99
    assert whole_percentages(np.array([1 / 3, 1 / 3, 1 / 3])).sum() == 100
    assert whole_percentages(np.array([0.0, 0.0, 1.0])).tolist() == [0, 0, 100]


def test_chains_add_to_a_local_effect_but_not_to_a_literature_one_that_already_holds_them():
    """A local estimate holds the co-linked factors fixed (a direct effect): the chain armoede ->
    schulden adds to it. A literature figure is the factor's association alone (a total effect),
    which already holds the path through schulden: adding the chain would count it twice. A merged
    pair adds the chain in proportion to its local share; a factor without an effect of its own on
    a sub-goal reaches it through the chain alone."""
    links = chains([("armoede", "schulden", 0.6, 0.0), ("pesten", "armoede", 0.5, 0.0)])
    schulden = [("schulden", "gezond_mentaal", 0.5, np.nan, 1.0, pd.NA),        # local, direct
                ("schulden", "kansrijk_zelfstandig", np.nan, 0.2, 0.0, False)]  # literature, total
    f, s = sorted(FACTORS["factor_id"]), sorted(SUBGOALS["subgoal_id"])  # the model's matrix order
    gm, kz = s.index("gezond_mentaal"), s.index("kansrijk_zelfstandig")

    def total(armoede_row):
        model = build_model(FACTORS, SUBGOALS, merged_with_sources([armoede_row, *schulden]), links)
        t = total_effects(model.d_mean, model.b_mean, model.direct_part)
        return t, model

    t, model = total(("armoede", "gezond_mentaal", np.nan, 0.4, 0.0, False))  # literature only
    assert t[gm, f.index("armoede")] == pytest.approx(0.4)  # not 0.4 + 0.6 x 0.5
    assert t[gm, f.index("pesten")] == pytest.approx(0.5 * 0.4)  # the path stops where the literature holds it
    assert t[kz, f.index("armoede")] == pytest.approx(0.6 * 0.2)  # no effect of its own: the chain alone
    assert t[gm, f.index("schulden")] == pytest.approx(0.5)
    # the ranking's draws use the same totals (standard errors 0.01: the median impact is near them)
    g, _, _ = rank_city(model, scores({x: [0, 0, 1.0, 1.0] for x in f if x != "sport"}), n_draws=200)
    assert g.loc["armoede", "impact"] == pytest.approx(0.5 * (0.4 + 0.12) * 0.5, abs=0.01)  # goal weights 1/2, gap 0.5
    assert g.loc["armoede", "direct_share"] == pytest.approx(0.4 / 0.52)

    t, _ = total(("armoede", "gezond_mentaal", 0.4, np.nan, 1.0, pd.NA))  # local only: the chain adds
    assert t[gm, f.index("armoede")] == pytest.approx(0.4 + 0.6 * 0.5)
    assert t[gm, f.index("pesten")] == pytest.approx(0.5 * (0.4 + 0.6 * 0.5))

    t, _ = total(("armoede", "gezond_mentaal", 0.4, 0.4, 0.25, False))  # merged, a quarter local
    assert t[gm, f.index("armoede")] == pytest.approx(0.4 + 0.25 * 0.6 * 0.5)
    # without the merge's columns every effect counts as direct (ranking-1.3.0's rule)
    plain = build_model(FACTORS, SUBGOALS, merged([("armoede", "gezond_mentaal", 0.4, 0.0)]), links)
    assert plain.direct_part is None
