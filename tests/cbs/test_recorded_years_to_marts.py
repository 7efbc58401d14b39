"""Two key-figures years and the youth-care table, from recorded CBS responses to the marts, through Dagster.

Fresh-clone safe: only tests/cbs/fixtures (made by make_fixtures.py) is read, nothing from ../shared.
One real Dagster run in a temporary folder, configured by a deployment file as a municipality would be
(``cbs.mode: replay``, gemeente GM0599, years 2020-2024, active sources cbs_kerncijfers and
gebiedsindeling): the asset ``cbs_statline_extracts`` fetches 85618NED (2023, keys renumbered and renamed
against the contract), 85984NED (2024, the contract's own keys) and the youth-care table 85098NED through
the connector from the recorded OData pages; the contract-checked ingestion assets load them (the area
division, which a deployment always delivers by hand, is written from the recorded codes); the dbt
assets build every seed, model and mart with their tests; the Great Expectations checks of the marts
run. Every figure asserted below is computed from the recorded pages.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
import yaml

from pipelines.cbs import load_mapping
from pipelines.defs.partitions import all_years_tags
from pipelines.definitions import build_definitions
from pipelines.settings import Settings, load_settings
from tests.cbs.helpers import FIXTURES

pytestmark = pytest.mark.slow  # one Dagster run with a dbt build (about 45 s)

TABLES = {2023: "85618NED", 2024: "85984NED"}
SELECTION = "group:sources or group:factor_model or group:staging or group:marts"  # not the ML stage, not publishing


def recorded_rows(table: str) -> list[dict]:
    """The recorded TypedDataSet rows of a key-figures table, page after page as the connector follows odata.nextLink."""
    index = json.loads((FIXTURES / "index.json").read_text("utf-8"))
    url = next(u for u, f in index.items() if f == f"{table}/TypedDataSet_page1.json")
    rows = []
    while url:
        page = json.loads((FIXTURES / index[url]).read_text("utf-8"))
        rows += page["value"]
        url = page.get("odata.nextLink")
    return rows


def figures(year: int) -> dict[str, dict]:
    """Recorded figures of a year per area code (trimmed), under the contract's column names (the mapping's translation)."""
    columns = load_mapping("cbs_kerncijfers").for_year(year).columns
    return {r["WijkenEnBuurten"].strip(): {columns[k]: v for k, v in r.items() if k in columns} for r in recorded_rows(TABLES[year])}


def write_area_division(extracts: Path) -> None:
    """gebieden_rotterdam.csv: every code of the recorded key-figures tables, its level and parent, per year."""
    lines = ["jaar;gebiedscode;gebiedsnaam;soort;bovenliggende_code"]
    for year in TABLES:
        for code, f in figures(year).items():
            level = f["SoortRegio_2"].strip().lower()
            parent = {"gemeente": "", "wijk": "GM" + code[2:6], "buurt": "WK" + code[2:8]}[level]
            lines.append(f"{year};{code};{f['Gemeentenaam_1'].strip() if level == 'gemeente' else code};{level};{parent}")
    (extracts / "gebieden_rotterdam.csv").write_text("\n".join(lines) + "\n", "utf-8")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Settings, dg.ExecuteInProcessResult]:
    tmp = tmp_path_factory.mktemp("recorded_to_marts")
    (tmp / "extracts").mkdir()
    write_area_division(tmp / "extracts")
    config = {
        "municipality": {"name": "Rotterdam", "gemeenten": ["GM0599"]},
        "years": {"first": 2020, "last": 2024},
        "sources": ["cbs_kerncijfers", "gebiedsindeling"],  # the other sources get empty raw tables
        "paths": {"data_dir": "data", "extract_dir": "extracts"},
        "cbs": {"mode": "replay", "tables": ["kerncijfers", "jeugdzorg"], "fixtures": str(FIXTURES)},  # years: every mapped one
    }
    (tmp / "factorenmodel.yaml").write_text(yaml.safe_dump(config), "utf-8")
    settings = load_settings({"FACTORENMODEL_CONFIG": str(tmp / "factorenmodel.yaml")})
    defs = build_definitions(settings)
    keys = dg.AssetSelection.from_string(SELECTION).resolve(defs.resolve_asset_graph())
    before = os.environ.get("FACTORENMODEL_WAREHOUSE")  # the dbt asset points dbt at the warehouse through this variable
    try:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), asset_selection=list(keys), raise_on_error=False,
            tags=all_years_tags(settings))  # the source assets are partitioned by year: every year in one run
    finally:
        if before is None:
            os.environ.pop("FACTORENMODEL_WAREHOUSE", None)
        else:
            os.environ["FACTORENMODEL_WAREHOUSE"] = before
    return settings, result


def query(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).df()


def values(settings: Settings, indicator: str, year: int) -> pd.DataFrame:
    return query(settings, f"""select * from marts.fct_indicator_value
                               where indicator_id = '{indicator}' and year = {year}""").set_index("area_code")


def test_the_run_succeeds_with_every_check_passing(run):
    settings, result = run
    failures = [str(e.event_specific_data.error)[:2000] for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert result.success, failures
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"cbs_statline_extracts", "raw/cbs_kerncijfers", "raw/gebiedsindeling", "marts/fct_indicator_value",
            "marts/dim_area", "marts/mart_staat_van_de_jeugd"} <= materialised
    checks = result.get_asset_check_evaluations()
    failed = {(c.asset_key.to_user_string(), c.check_name): c for c in checks if not c.passed}
    # the deployment's years are 2020-2024, the recorded key figures and area division cover 2023 and 2024:
    # the contract checks say so, as a warning (a year without any row: a missing file?)
    contracts = {("raw/gebiedsindeling", "contract_gebiedsindeling"), ("raw/cbs_kerncijfers", "contract_cbs_kerncijfers")}
    # and fct_factor_score has fewer rows than wijk and buurt area-years, as a warning: in 2024 the '.' wijk
    # WK059903 is the only withheld wijk under CBS's own Rotterdam figure (in this subset of two wijken), so
    # WK059901 and its smaller buurt are withheld for every indicator (complementary), which leaves one
    # published area per level, too few for a spread, so no 2024 score is published
    assert set(failed) == contracts | {("marts/fct_factor_score", "great_expectations")}
    for key, check in failed.items():
        assert check.severity == dg.AssetCheckSeverity.WARN
        if key in contracts:
            assert "no rows at all for 2020, 2021, 2022: is that year's file missing?" in check.metadata["probably_incomplete"].value
        else:
            assert "expect_table_row_count_to_be_between on table: observed 5" in check.description
    names = {(c.asset_key.to_user_string(), c.check_name) for c in checks}
    assert {("raw/cbs_kerncijfers", "contract_cbs_kerncijfers"), ("marts/fct_indicator_value", "great_expectations")} <= names

    cbs = {e.partition: e.materialization for e in result.get_asset_materialization_events()
           if e.asset_key == dg.AssetKey("cbs_statline_extracts")}
    assert sorted(cbs) == ["2020", "2021", "2022", "2023", "2024"]  # one materialisation per year partition
    # 2023: metadata, table info and three pages; 2024: metadata, table info and two pages; youth care: three
    # (the figures are the run's, repeated on each year's materialisation)
    assert {m.metadata["requests_made"].value for m in cbs.values()} == {5 + 4 + 3}
    # Rotterdam 2023; its 2024 figure is secret in the table
    assert {m.metadata["youth_care_cells_filled"].value for m in cbs.values()} == {1}
    assert sorted(p.name for p in settings.extract_dir.glob("kerncijfers_*.csv")) == [
        "kerncijfers_wijken_en_buurten_2023.csv", "kerncijfers_wijken_en_buurten_2024.csv"]


@pytest.mark.parametrize("year", sorted(TABLES))
def test_every_recorded_figure_arrives_in_raw_under_the_contracts_name(run, year):
    settings, _ = run
    recorded = figures(year)
    numeric = [c for c in next(iter(recorded.values())) if c not in ("ID", "WijkenEnBuurten", "Gemeentenaam_1", "SoortRegio_2",
                                                                      "Codering_3", "IndelingswijzigingGemeenteWijkBuurt_4")]
    raw = query(settings, f"select * from raw.cbs_kerncijfers where jaar = {year}").set_index("WijkenEnBuurten")
    assert sorted(raw.index) == sorted(recorded)
    assert len(numeric) == {2023: 26, 2024: 37}[year]  # 2023 lacks eleven optional contract columns (mapping: unmapped)
    for code, f in recorded.items():
        for column in numeric:
            got = raw.loc[code, column]
            assert (pd.isna(got) if f[column] is None else got == pytest.approx(f[column])), (year, code, column)
    assert query(settings, "select count(*) as n from quarantine.cbs_kerncijfers")["n"].item() == 0


@pytest.mark.parametrize("year", sorted(TABLES))
def test_a_count_based_percentage_per_buurt_wijk_and_gemeente_is_the_exact_sum_of_the_buurten(run, year):
    """cbs_laag_opgeleid_pct: low-educated residents over residents whose level is known (three counts of the
    key figures, keys OpleidingsniveauLaag_64 ... in 2023, BasisonderwijsVmboMbo1_75 ... in 2024)."""
    settings, _ = run
    f = figures(year)
    num = {c: v["BasisonderwijsVmboMbo1_75"] for c, v in f.items() if c.startswith("BU")}
    den = {c: v["BasisonderwijsVmboMbo1_75"] + v["HavoVwoMbo24_76"] + v["HboWo_77"] for c, v in f.items() if c.startswith("BU")}
    expected = dict((c, (num[c], den[c])) for c in num)
    for wijk in ("WK059901", "WK059903"):
        inside = [c for c in num if c[2:8] == wijk[2:]]
        expected[wijk] = (sum(num[c] for c in inside), sum(den[c] for c in inside))
    expected["GM0599"] = (sum(num.values()), sum(den.values()))  # the buurten, not CBS's row for all of Rotterdam

    got = values(settings, "cbs_laag_opgeleid_pct", year)
    assert set(got.index) == set(expected)
    assert (got["derived_from_level"] == "buurt").all()
    for code, (n, d) in expected.items():
        small = d < 10 or 0 < n < 10
        assert (got.loc[code, "suppression_reason"] == "small_cell") == small, (year, code)
        if not got.loc[code, "is_suppressed"]:
            assert (got.loc[code, "numerator"], got.loc[code, "denominator"]) == (n, d), (year, code)
            assert got.loc[code, "value"] == pytest.approx(100 * n / d, rel=1e-12), (year, code)
    # complementary suppression: in 2024 one of the gemeente's two wijken is a small cell (below) and the
    # gemeente is published, so the other wijk is withheld too (else GM0599 - WK059901 gives WK059903), and
    # so is that wijk's smallest buurt (else its buurten sum to it)
    complementary = set(got.index[got["suppression_reason"] == "complementary"])
    if year == 2023:
        assert complementary == set()
    else:
        smallest = min((c for c in num if c[2:8] == "059901"), key=lambda c: (den[c], c))
        assert complementary == {"WK059901", smallest} and smallest == "BU05990110"
    # the same by hand
    if year == 2023:
        assert expected["WK059901"] == (3202 + 5200, 11206 + 18200) and expected["GM0599"] == (8464, 29622)
        assert got.loc["GM0599", "value"] == pytest.approx(28.5733576, rel=1e-8)
    else:
        assert expected["WK059901"] == (3900 + 7450, 12300 + 20400) and expected["GM0599"] == (11355, 32725)
        assert pd.isna(got.loc["WK059901", "value"])  # complementary, above
        assert got.loc["GM0599", "value"] == pytest.approx(34.6982429, rel=1e-8)
        # the 2024 buurt of 35 residents counts 5 low-educated: suppressed, and so is its wijk (nothing else in it),
        # yet its counts are in the gemeente's sum
        assert got.loc["BU05990310", "is_suppressed"] and got.loc["WK059903", "is_suppressed"]
        assert pd.isna(got.loc["WK059903", "value"]) and got.loc["GM0599", "areas_aggregated"] == 3
        gm_row = f["GM0599"]
        assert 100 * gm_row["BasisonderwijsVmboMbo1_75"] / (gm_row["BasisonderwijsVmboMbo1_75"] + gm_row["HavoVwoMbo24_76"] + gm_row["HboWo_77"]) \
            != pytest.approx(got.loc["GM0599", "value"], abs=1)


def test_a_percentage_the_source_gives_is_turned_into_counts_before_summing(run):
    """cbs_corporatiewoningen_pct 2024: CBS gives the share of dwellings (48 % of 8,300 and 41 % of 12,950); the
    wijk is (0.48 x 8300 + 0.41 x 12950) / (8300 + 12950), not the mean of 48 and 41. The buurt whose share is
    secret (null, with 20 dwellings) has a withheld row (not_published) and no figure, so a sum of the gemeente's buurten would leave it out: the
    gemeente is CBS's own figure (43 % of its 327,600 dwellings), as given, and says so. Its wijk (no other
    buurt) is '.' too, the only withheld wijk under the published gemeente, so the other wijk is withheld
    (complementary; else the gemeente minus it gives the '.' wijk back, in this subset of Rotterdam's wijken),
    and so is that wijk's smaller buurt: the wijk's sum is checked in int_indicator_value."""
    settings, _ = run
    f = figures(2024)
    got = values(settings, "cbs_corporatiewoningen_pct", 2024)
    # the buurt with the secret share, and its wijk (no other buurt): a withheld row, not_published
    secret = got[got["suppression_reason"] == "not_published"]
    assert set(secret.index) == {"BU05990310", "WK059903"} and secret["value"].isna().all()
    got = got.drop(index=secret.index)
    assert set(got.index) == {"BU05990110", "BU05990111", "WK059901", "GM0599"}
    buurten = ["BU05990110", "BU05990111"]
    num = sum(f[c]["InBezitWoningcorporatie_49"] * f[c]["Woningvoorraad_35"] / 100 for c in buurten)
    den = sum(f[c]["Woningvoorraad_35"] for c in buurten)
    assert (num, den) == (3984 + 5309.5, 21250)
    assert set(got.index[got["suppression_reason"] == "complementary"]) == {"WK059901", "BU05990110"}  # 8,300 dwellings
    assert got.loc[["WK059901", "BU05990110"], "value"].isna().all() and not got.loc["BU05990111", "is_suppressed"]
    wijk = got.loc["WK059901"]
    assert wijk["is_aggregate"] and wijk["areas_aggregated"] == 2 and wijk["children_without_figure"] == 0
    wijk = query(settings, """select * from intermediate.int_indicator_value where area_code = 'WK059901'
                              and indicator_id = 'cbs_corporatiewoningen_pct' and year = 2024""").iloc[0]
    assert wijk["numerator"] == pytest.approx(num) and wijk["denominator"] == den
    assert wijk["value"] == pytest.approx(100 * 9293.5 / 21250, rel=1e-12)
    gm = got.loc["GM0599"]
    assert (f["GM0599"]["InBezitWoningcorporatie_49"], f["GM0599"]["Woningvoorraad_35"]) == (43, 327600)
    assert (gm["value"], gm["denominator"], gm["numerator"]) == (43, 327600, pytest.approx(0.43 * 327600))
    assert gm["derived_from_level"] == "gemeente" and not gm["is_aggregate"] and gm["children_without_figure"] == 1
    assert not gm["is_suppressed"] and gm["is_complete"]
    # 2023: every buurt 44 %, so every level 44 %
    assert values(settings, "cbs_corporatiewoningen_pct", 2023)["value"].tolist() == pytest.approx([44.0] * 6)


def test_youth_care_2023_from_the_youth_care_table_arrives_suppressed_2024_from_the_key_figures_published(run):
    """2023: the key figures (85618NED) have no youth-care topic; the youth-care table 85098NED fills Rotterdam's
    percentage (12.6). It reaches fct_indicator_value as the gemeente's own row and is suppressed: a
    percentage without a count of young people has an unknown basis, and a value whose basis is unknown is
    never published (dbt_project: disclosure control). 2024: the table's figure is secret (null), nothing is
    filled; the key figures (85984NED) give count and percentage per buurt, so the marts have them exactly; the
    gemeente, one of whose buurten is secret there, is the key figures' own gemeente row."""
    settings, _ = run
    raw = query(settings, """select jaar, "PercentageJongerenMetJeugdzorg_99" as pct, "JongerenMetJeugdzorgInNatura_98" as n
                             from raw.cbs_kerncijfers where "WijkenEnBuurten" = 'GM0599' order by jaar""")
    assert raw["pct"].tolist() == [12.6, figures(2024)["GM0599"]["PercentageJongerenMetJeugdzorg_99"]] == [12.6, 10.9]
    assert pd.isna(raw["n"][0])

    y2023 = values(settings, "cbs_jeugdzorg_pct", 2023)
    assert list(y2023.index) == ["GM0599"]
    row = y2023.loc["GM0599"]
    assert row["derived_from_level"] == "gemeente" and not row["is_aggregate"]
    assert row["is_suppressed"] and pd.isna(row["value"]) and pd.isna(row["numerator"])

    f = figures(2024)
    y2024 = values(settings, "cbs_jeugdzorg_pct", 2024)
    assert set(y2024.index) == {"BU05990110", "BU05990111", "WK059901", "GM0599"}  # BU05990310: secret
    young = {c: f[c]["JongerenMetJeugdzorgInNatura_98"] * 100 / f[c]["PercentageJongerenMetJeugdzorg_99"] for c in ("BU05990110", "BU05990111")}
    assert young == {"BU05990110": pytest.approx(4000), "BU05990111": pytest.approx(6000)}
    wijk = y2024.loc["WK059901"]
    assert wijk["numerator"] == 520 + 612 and wijk["denominator"] == pytest.approx(10000)
    assert wijk["value"] == pytest.approx(11.32) and not wijk["is_suppressed"]
    # not 520 + 612 of 10,000: BU05990310 is delivered without the figure, CBS's own Rotterdam row includes it
    gm = y2024.loc["GM0599"]
    assert (f["GM0599"]["JongerenMetJeugdzorgInNatura_98"], f["GM0599"]["PercentageJongerenMetJeugdzorg_99"]) == (19400, 10.9)
    assert gm["numerator"] == 19400 and gm["denominator"] == pytest.approx(19400 * 100 / 10.9) and gm["value"] == 10.9
    assert gm["derived_from_level"] == "gemeente" and gm["children_without_figure"] == 1 and not gm["is_suppressed"]


def test_both_years_reach_the_area_dimension_and_the_staat_van_de_jeugd(run):
    settings, _ = run
    area = query(settings, "select * from marts.dim_area order by area_code").set_index("area_code")
    assert set(area.index) == set(figures(2023)) == set(figures(2024))
    assert (area["valid_from_year"] == 2023).all() and (area["valid_to_year"] == 2024).all()
    assert area.loc["GM0599", "area_name"] == "Rotterdam"

    staat = query(settings, """select * from marts.mart_staat_van_de_jeugd
                               where indicator_id = 'cbs_laag_opgeleid_pct' order by year""")
    assert staat["year"].tolist() == [2023, 2024]
    assert staat["value"].tolist() == pytest.approx([100 * 8464 / 29622, 100 * 11355 / 32725])
    latest = staat.iloc[1]
    assert latest["previous_year"] == 2023 and latest["change_from_previous"] == pytest.approx(100 * 11355 / 32725 - 100 * 8464 / 29622)
    assert latest["assessment_previous"] == "worse"  # 6.1 points up on about 30,000 residents each year: beyond noise
