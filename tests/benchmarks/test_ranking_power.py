"""The alternative plants of ``benchmarks/ranking_power.py --plant``: which effects each plants,
and that the demo generator plants them (and writes them as its ground truth) only while asked."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from ranking_power import (  # noqa: E402
    PLANTS, parse_range, parse_set_size, plant_effects, planted, sign_failures, with_sizes)

from pipelines.demo import truth  # noqa: E402
from pipelines.demo.config import DemoConfig  # noqa: E402
from pipelines.demo.generator import generate_demo  # noqa: E402

DEMO = (("armoede", "reg_jeugdhulp_pct", 0.3), ("pesten", "ggd_roken_jeugd", 0.15))
PAIRS = pd.DataFrame(
    [("armoede", "risk", "reg_jeugdhulp_pct", "buurt", "estimated", "corrected_for_measurement_error"),
     ("armoede", "risk", "cbs_jeugdzorg_pct", "buurt", "estimated", None),
     ("sociale_cohesie", "protective", "pol_halt_per_1000", "buurt", "estimated", "interpolated_years;wijk_score_for_buurt"),
     ("sociale_cohesie", "protective", "ggd_vrijwilligerswerk_volw", "wijk", "estimated", "interpolated_years"),
     ("pesten", "risk", "ggd_roken_jeugd", "wijk", "not_estimable", "too_little_data"),
     ("prosociale_waarden", "protective", "pol_halt_per_1000", "buurt", "not_estimable", "no_factor_data")],
    columns=["factor_id", "factor_type", "outcome_indicator_id", "area_level", "status", "flags"])


def _pairs(effects) -> set[tuple[str, str]]:
    return {(f, o) for f, o, _ in effects}


def test_the_demo_plant_is_the_demos_own():
    assert plant_effects("demo", PAIRS, 0.05, 0.5, DEMO) == DEMO


def test_buurt_spread_plants_every_buurt_pair_one_size_per_factor_signed_by_its_type():
    effects = plant_effects("buurt-spread", PAIRS, 0.2, 1.0, DEMO)
    assert _pairs(effects) == {("armoede", "reg_jeugdhulp_pct"), ("armoede", "cbs_jeugdzorg_pct"),
                               ("sociale_cohesie", "pol_halt_per_1000"), ("prosociale_waarden", "pol_halt_per_1000")}
    size = {}
    for f, _, e in effects:
        assert size.setdefault(f, abs(e)) == abs(e), f  # one size per factor
        assert (e < 0) == (f in {"sociale_cohesie", "prosociale_waarden"}), (f, e)  # protective: better outcome
    # the sizes are spread evenly over the range across all four factors of the pairs (the same
    # factor gets the same size whichever plant is asked), distinct per factor
    grid = {0.2, 0.467, 0.733, 1.0}
    assert set(size.values()) <= grid and len(set(size.values())) == 3, size
    assert plant_effects("linked-spread", PAIRS, 0.2, 1.0, DEMO)[0][2] == effects[0][2]


def test_the_other_plants_choose_their_pairs():
    assert _pairs(plant_effects("estimable-spread", PAIRS, 0.05, 0.5, DEMO)) == {
        (f, o) for f, o, s in PAIRS[["factor_id", "outcome_indicator_id", "status"]].itertuples(index=False)
        if s == "estimated"}
    assert _pairs(plant_effects("linked-spread", PAIRS, 0.05, 0.5, DEMO)) == set(
        PAIRS[["factor_id", "outcome_indicator_id"]].itertuples(index=False, name=None))
    both = plant_effects("demo+buurt-spread", PAIRS, 0.05, 0.5, DEMO)
    assert both[:2] == DEMO  # the demo's effect on a buurt pair is kept, not replaced
    assert _pairs(both[2:]) == {("armoede", "cbs_jeugdzorg_pct"), ("sociale_cohesie", "pol_halt_per_1000"),
                                ("prosociale_waarden", "pol_halt_per_1000")}
    # buurt outcomes only, and only from factors with buurt scores of their own: not sociale_cohesie
    # (its wijk score stands in for the buurt's), not prosociale_waarden (no data)
    own = plant_effects("buurt-measured-spread", PAIRS, 0.2, 1.0, DEMO)
    assert _pairs(own) == {("armoede", "reg_jeugdhulp_pct"), ("armoede", "cbs_jeugdzorg_pct")}
    assert {e for _, _, e in own} == {plant_effects("buurt-spread", PAIRS, 0.2, 1.0, DEMO)[0][2]}


def test_an_unknown_plant_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown plant 'dense'; choose from demo, buurt-spread"):
        plant_effects("dense", PAIRS, 0.05, 0.5, DEMO)
    assert set(PLANTS) >= {"demo", "buurt-spread", "estimable-spread", "linked-spread", "demo+buurt-spread",
                           "buurt-measured-spread"}


def test_the_generator_plants_and_writes_the_swapped_effects_only_inside_the_block(tmp_path):
    effects = (("armoede", "reg_jeugdhulp_pct", 0.8), ("werkloosheid", "pol_halt_per_1000", 0.6))
    demo = truth.PLANTED_EFFECTS
    with planted(effects):
        generate_demo(tmp_path / "swapped", seed=1, config=DemoConfig.small())
    assert truth.PLANTED_EFFECTS == demo
    generate_demo(tmp_path / "demo", seed=1, config=DemoConfig.small())

    def written(run: str) -> set[tuple[str, str, float]]:
        gt = pd.read_csv(tmp_path / run / "ground_truth" / "planted_effects.csv")
        return set(zip(gt["factor_id"], gt["outcome_indicator_id"], gt["effect_sd"]))

    assert written("swapped") == set(effects)
    assert written("demo") == {(f, o, round(e, 2)) for f, o, e in demo}


def test_plant_sizes_are_parsed_as_low_high_with_a_message_naming_the_expected_form():
    assert parse_range("0.2, 1.0") == (0.2, 1.0)
    for bad in ("0.2", "0.2,1.0,2", "low,high", "1.0,0.2", "-0.1,0.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="LOW"):
            parse_range(bad)


def test_sign_failures_name_the_pairs_below_95_percent_worst_first():
    by_pair = {("schoolverzuim", "pol_halt_per_1000"): 0.85, ("armoede", "reg_jeugdhulp_pct"): 1.0,
               ("kindermishandeling", "pol_halt_per_1000"): 0.9, ("werkloosheid", "cbs_wmo_per_1000"): 0.95}
    assert sign_failures(by_pair) == ["schoolverzuim -> pol_halt_per_1000: 0.85",
                                      "kindermishandeling -> pol_halt_per_1000: 0.90"]
    assert sign_failures({("armoede", "reg_jeugdhulp_pct"): 1.0}) == []


def test_set_size_changes_one_factors_effects_keeping_their_signs():
    effects = (("armoede", "reg_jeugdhulp_pct", 0.3), ("sociale_cohesie", "pol_halt_per_1000", -0.4),
               ("sociale_cohesie", "cbs_jeugdzorg_pct", -0.4))
    assert with_sizes(effects, {"sociale_cohesie": 1.0}) == (
        ("armoede", "reg_jeugdhulp_pct", 0.3), ("sociale_cohesie", "pol_halt_per_1000", -1.0),
        ("sociale_cohesie", "cbs_jeugdzorg_pct", -1.0))
    assert with_sizes(effects, {}) == effects
    with pytest.raises(ValueError, match="kindermishandelng has no effect in this plant"):
        with_sizes(effects, {"kindermishandelng": 1.0})
    with pytest.raises(ValueError, match="schulden has no effect"):  # planted at 0: no sign to keep
        with_sizes(effects + (("schulden", "cbs_wmo_per_1000", 0.0),), {"schulden": 0.5})
    assert parse_set_size("kindermishandeling=1.0") == ("kindermishandeling", 1.0)
    for bad in ("kindermishandeling", "=1.0", "kindermishandeling=groot", "kindermishandeling=-1"):
        with pytest.raises(argparse.ArgumentTypeError, match="FACTOR=SIZE"):
            parse_set_size(bad)
