"""Several synthetic gemeenten: DemoConfig.national() has national scale, a small multi-gemeente
config conforms to the contracts, and each gemeente adds up on its own."""

from __future__ import annotations

import re

import pytest

from data_contracts.contract import load_contracts
from data_contracts.pandera_schema import Scope
from pipelines.demo.generator import DemoConfig, generate_demo
from pipelines.demo.geography import build_geography
from pipelines.ingest import validate_source
from pipelines.ingest.ingest import find_extract_files
from tests.demo.helpers import read_source

THREE = DemoConfig(n_wijken=3, wijken_per_gemeente=(3, 2, 4), buurten_per_wijk=(3, 4, 2), first_year=2019, last_year=2024,
                   gemeente_code="GM9001", gemeente_name="Synthetisch", n_gemeenten=3, change_every=2)
THREE_CODES = frozenset({"GM9001", "GM9002", "GM9003"})


def test_national_config_has_national_scale():
    cfg = DemoConfig.national()
    geo = build_geography(cfg)
    assert len(geo.gemeenten) == 350
    assert 3_200 <= len(geo.wijken) <= 3_400
    assert len(cfg.years) == 10
    for year in (cfg.first_year, cfg.last_year):
        assert 13_500 <= len(geo.division(year).codes) <= 14_500
    codes = [g.code for g in geo.gemeenten]
    assert len(set(codes)) == 350 and "GM9999" not in codes  # no collision with Demostad
    assert all(re.fullmatch(r"GM\d{4}", c) for c in codes)
    assert len({w.code for w in geo.wijken}) == len(geo.wijken)
    assert all(re.fullmatch(r"WK\d{6}", w.code) and w.code[2:6] == codes[w.gemeente_index][2:] for w in geo.wijken)
    buurten = set().union(*(geo.division(y).codes for y in cfg.years))
    assert all(re.fullmatch(r"BU\d{8}", b) for b in buurten)
    changed = {c["old_code"][2:6] for c in geo.changes}
    assert 3 <= len(changed) <= 10  # code changes planted in a few gemeenten
    assert all(g.name.startswith("Synthetisch ") for g in geo.gemeenten)


def test_default_config_is_still_one_gemeente():
    geo = build_geography(DemoConfig())
    assert [(g.code, g.name) for g in geo.gemeenten] == [("GM9999", "Demostad")]
    assert len(geo.wijken) == 12 and len(geo.changes) == 4


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("three"), seed=5, config=THREE)


def test_three_gemeenten_conform_to_the_contracts(three):
    scope = Scope(gemeenten=THREE_CODES, first_year=2000, last_year=2026)
    for contract in load_contracts().values():
        _, quarantined, summary = validate_source(contract, find_extract_files(contract, three.extract_dir), scope)
        assert len(quarantined) == 0, summary.quarantine_preview.to_string()
        assert summary.rows_in > 0


def test_scope_of_one_gemeente_rejects_the_others(three):
    contract = load_contracts()["gemeente_registraties"]
    scope = Scope(gemeenten=frozenset({"GM9001"}), first_year=2000, last_year=2026)
    valid, quarantined, _ = validate_source(contract, find_extract_files(contract, three.extract_dir), scope)
    assert len(valid) > 0 and len(quarantined) > 0


def test_municipal_files_per_gemeente(three):
    names = sorted(p.name for p in three.rows_per_file)
    assert [n for n in names if n.startswith("registraties_")] == [
        f"registraties_synthetisch00{i}_2019-2024.csv" for i in (1, 2, 3)]
    assert [n for n in names if n.startswith("gebieden_")] == [f"gebieden_synthetisch00{i}_2019-2024.csv" for i in (1, 2, 3)]
    # changes planted in the first and third gemeente (change_every=2)
    assert [n for n in names if n.startswith("gebiedswijzigingen_")] == [
        "gebiedswijzigingen_synthetisch001_2019-2024.csv", "gebiedswijzigingen_synthetisch003_2019-2024.csv"]


def test_every_gemeente_adds_up(three):
    cbs = read_source(three.extract_dir, "cbs_kerncijfers")
    cbs["level"] = cbs["SoortRegio_2"].str.strip()
    cbs["gm"] = cbs["Codering_3"].str.slice(2, 6)
    gemeente = cbs[cbs.level == "Gemeente"].set_index(["gm", "jaar"])["AantalInwoners_5"]
    for level in ("Wijk", "Buurt"):
        sums = cbs[cbs.level == level].groupby(["gm", "jaar"])["AantalInwoners_5"].sum()
        assert (sums.sort_index() == gemeente.sort_index()).all()
    assert set(gemeente.index.get_level_values("gm")) == {c[2:] for c in THREE_CODES}
