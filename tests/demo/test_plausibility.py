"""Values a Dutch city could have: percentages 0-100, numerators <= denominators, sums add up."""

from __future__ import annotations

import pandas as pd
import pytest

from data_contracts.contract import load_contracts
from tests.demo.helpers import read_source


@pytest.fixture(scope="module")
def cbs(demo):
    frame = read_source(demo.extract_dir, "cbs_kerncijfers")
    frame["level"] = frame["SoortRegio_2"].str.strip()
    frame["code"] = frame["Codering_3"].str.strip()
    return frame


def test_percentage_columns_within_0_100(demo):
    for source, contract in load_contracts().items():
        frame = read_source(demo.extract_dir, source)
        for column in contract.columns:
            if column.maximum == 100:
                values = frame[column.name].dropna()
                assert values.between(0, 100).all(), (source, column.name)


def test_contract_rules_hold_numerically(demo):
    for source, contract in load_contracts().items():
        frame = read_source(demo.extract_dir, source)
        for rule in contract.rules:
            left = frame[list(rule.left)].sum(axis=1, min_count=len(rule.left))
            right = frame[list(rule.right)].sum(axis=1, min_count=len(rule.right))
            assert ((left <= right) | left.isna() | right.isna()).all(), (source, rule.expression)


def test_buurt_populations_plausible_and_add_up(cbs):
    buurten = cbs[cbs.level == "Buurt"]
    assert buurten["AantalInwoners_5"].between(300, 6000).all()
    ages = ["k_0Tot15Jaar_8", "k_15Tot25Jaar_9", "k_25Tot45Jaar_10", "k_45Tot65Jaar_11", "k_65JaarOfOuder_12"]
    assert (cbs[ages].sum(axis=1) == cbs["AantalInwoners_5"]).all()
    assert (cbs["Mannen_6"] + cbs["Vrouwen_7"] == cbs["AantalInwoners_5"]).all()
    buurten = buurten.assign(wijk="WK" + buurten["code"].str[2:8])
    per_wijk = buurten.groupby(["jaar", "wijk"])["AantalInwoners_5"].sum()
    wijken = cbs[cbs.level == "Wijk"].set_index(["jaar", "code"])["AantalInwoners_5"]
    wijken.index.names = ["jaar", "wijk"]
    pd.testing.assert_series_equal(per_wijk.sort_index(), wijken.sort_index(), check_names=False)
    gemeente = cbs[cbs.level == "Gemeente"].set_index("jaar")["AantalInwoners_5"]
    assert (buurten.groupby("jaar")["AantalInwoners_5"].sum() == gemeente).all()


def test_registrations_use_the_cbs_buurten_and_consistent_denominators(demo, cbs):
    reg = read_source(demo.extract_dir, "gemeente_registraties")
    keys = set(zip(reg.jaar, reg.buurtcode))
    assert keys == set(zip(cbs[cbs.level == "Buurt"].jaar, cbs[cbs.level == "Buurt"].code))
    merged = reg.merge(cbs, left_on=["jaar", "buurtcode"], right_on=["jaar", "code"])
    assert (merged["huishoudens"] == merged["HuishoudensTotaal_29"]).all()
    assert (merged["inwoners_0_17"] <= merged["k_0Tot15Jaar_8"] + merged["k_15Tot25Jaar_9"]).all()
    assert (merged["inwoners_12_17"] <= merged["inwoners_0_17"]).all()
    assert (merged["leerplichtigen"] <= merged["inwoners_0_17"]).all()


def test_rates_plausible(demo):
    reg = read_source(demo.extract_dir, "gemeente_registraties")
    share = reg["jeugdigen_met_jeugdhulp"].sum() / reg["inwoners_0_17"].sum()
    assert 0.05 < share < 0.2
    ggd = read_source(demo.extract_dir, "ggd_monitor")
    assert ggd["aantal_respondenten"].between(400, 1500).all()
    assert ((ggd.ci_ondergrens <= ggd.percentage) & (ggd.percentage <= ggd.ci_bovengrens)).all()
    youth = ggd.doelgroep == "jeugd_12_18"
    assert (ggd.loc[youth, "jaar"] % 2 == 1).all() and (ggd.loc[~youth, "jaar"] % 2 == 0).all()


def test_small_buurten_have_suppressed_income_only(cbs):
    suppressed = cbs[cbs["GemiddeldInkomenPerInwoner_83"].isna()]
    assert 0 < suppressed["code"].nunique() <= 6
    assert (suppressed.level == "Buurt").all()
    assert (suppressed["AantalInwoners_5"] < 500).all()
    income = ["GemiddeldInkomenPerInwoner_83", "HuishoudensMetEenLaagInkomen_89", "HuishOnderOfRondSociaalMinimum_90"]
    assert cbs.drop(columns=income).drop(columns=["IndelingswijzigingGemeenteWijkBuurt_4"]).notna().all().all()
