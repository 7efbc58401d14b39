"""The ranking: total effects through chains, Monte Carlo rank intervals, and why it is not a
ranking by prevalence. Small hand-made factor models, so that every number can be checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml.ranking import RankingConfig, build_model, rank_factors, room_for_improvement, total_effects

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
    model = build_model(FACTORS, SUBGOALS, merged([("armoede", "gezond_mentaal", 0.3, 0.05)]), chains())
    s = scores({"armoede": [0, 0, 1.0, 1.0]})
    life = pd.DataFrame({"factor_id": FACTORS["factor_id"], "life_phase_id": "jeugd"})
    city, _ = rank_factors(model, s, life, RankingConfig(n_draws=100))
    g = city[city["scope_type"] == "gemeente"].set_index("factor_id")
    assert not g.loc["pesten", "rankable"] and pd.isna(g.loc["pesten", "rank_median"])
    assert "geen lokale gegevens" in g.loc["pesten", "explanation"]
    assert set(city["scope_type"]) == {"gemeente", "domain", "life_phase"}
    assert set(city.loc[city["scope_type"] == "domain", "scope_id"]) == {"gezond", "kansrijk"}
