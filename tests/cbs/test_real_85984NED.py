"""Real CBS material (../shared/cbs/85984NED, Kerncijfers wijken en buurten 2024): the connector
parses the real DataProperties and TableInfos exactly, and the real 2024 values of Rotterdam
(GM0599) and its wijken go through the connector (replayed OData pages) and the contract-checked
ingestion into raw.cbs_kerncijfers unchanged, and on through a real ``dbt build`` into the marts.
Skipped where ../shared/cbs is absent.

The real subset holds 8 topics per area and no buurten; the TypedDataSet pages replayed here are
built from it: the 8 real topics as served, the area code padded to 10 characters as the API pads
it, Gemeentenaam_1 / SoortRegio_2 / Codering_3 derived from the code (the subset lacks them), and
``null`` for every other topic (what the API serves for a value it does not give).

To the marts (``real_marts``): the real 2024 pages together with the recorded 2023 key figures and
youth-care table of tests/cbs/fixtures (constructed figures, with buurten), so that two key-figures
years and the youth-care table go through connector, ingestion and dbt in one build. None of the
factor model's 66 indicators can be computed from the 8 real topics (each needs a figure the subset
lacks), so the dbt project is built from a copy whose indicators seed has two extra, test-only
indicators made of real topics (men as a percentage of the residents; the population density, a
mean weighted by land area, which CBS leaves out ('.') for three Rotterdam wijken); everything else
is the project as it is. The other sources are empty, as for a deployment that switched them off.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from data_contracts.contract import load_contract, load_contracts
from data_contracts.pandera_schema import Scope
from pipelines.cbs import CbsClient, ReplayTransport, fetch_jeugdzorg, fetch_kerncijfers, load_mapping, parse_data_properties
from pipelines.cbs import odata
from pipelines.ingest import ingest_source
from pipelines.ingest.load import write_source
from pipelines.ingest.parse import LINEAGE_COLUMNS
from pipelines.settings import PROJECT_DIR
from tests.cbs.helpers import FIXTURES, SHARED_CBS
from tests.marts.dbt_copy import copy_project, dbt

TABLE = SHARED_CBS / "85984NED"
pytestmark = pytest.mark.skipif(not (TABLE / "DataProperties.json").exists(), reason=f"real CBS material not found at {TABLE}")
META = "https://opendata.cbs.nl/ODataApi/OData/85984NED/$metadata#Cbs.OData.WebAPI."
TOPICS = ["AantalInwoners_5", "Mannen_6", "Vrouwen_7", "Bevolkingsdichtheid_34", "Woningvoorraad_35",
          "OppervlakteTotaal_122", "OppervlakteLand_123", "OppervlakteWater_124"]  # the 8 topics of the real subset


def load(name: str):
    return json.loads((TABLE / name).read_text("utf-8"))


def test_real_data_properties_are_parsed_exactly():
    raw = load("DataProperties.json")
    meta = parse_data_properties("85984NED", raw, load("TableInfos.json"))
    assert meta.title == "Kerncijfers wijken en buurten 2024" and meta.period == "2024"
    assert meta.region_key == "WijkenEnBuurten" and meta.period_key is None  # one table per year: no time dimension
    topics = [e for e in raw if e["Type"] == "Topic"]
    assert [t.key for t in meta.topics] == [e["Key"] for e in topics]  # every topic, in the table's order
    for entry in topics:
        prop = meta.properties[entry["Key"]]
        assert (prop.datatype, prop.unit, prop.decimals) == (entry["Datatype"], entry["Unit"], entry["Decimals"])
    assert meta.properties["AantalInwoners_5"].kind == "integer"
    assert meta.properties["GemiddeldeHuishoudensgrootte_33"].kind == "number" and meta.properties["GemiddeldeHuishoudensgrootte_33"].decimals == 1
    assert meta.properties["Gemeentenaam_1"].kind == "string"
    assert len(meta.topics) == 128 and len(meta.dimensions) == 1


def _replay_dir(tmp_path: Path) -> tuple[Path, dict[str, dict]]:
    """OData pages for GM0599 and its wijken built from the real files, recorded for ReplayTransport."""
    values = load("values_gemeente_wijk_subset.json")
    rotterdam = {code: v for code, v in values.items() if code == "GM0599" or code.startswith("WK0599")}
    mapping = load_mapping("cbs_kerncijfers").for_year(2024)
    select = [k for k in mapping.columns if k not in ("ID", "WijkenEnBuurten")]
    rows = []
    for i, (code, figures) in enumerate(sorted(rotterdam.items())):
        level = "Gemeente" if code.startswith("GM") else "Wijk"
        row = {"ID": 10000 + i, "WijkenEnBuurten": code.ljust(10)}
        for key in select:
            row[key] = figures.get(key)
        row.update({"Gemeentenaam_1": "Rotterdam".ljust(40), "SoortRegio_2": level.ljust(10), "Codering_3": code.ljust(10)})
        rows.append(row)
    url = odata.query_url(odata.entity_url("85984NED", "TypedDataSet"), odata.region_filter("WijkenEnBuurten", ["GM0599"]),
                          ["ID", "WijkenEnBuurten", *select])
    half = len(rows) // 2
    responses = {
        odata.query_url(odata.entity_url("85984NED", "DataProperties")): {"odata.metadata": META + "DataProperties", "value": load("DataProperties.json")},
        odata.query_url(odata.entity_url("85984NED", "TableInfos")): {"odata.metadata": META + "TableInfos", "value": load("TableInfos.json")},
        url: {"odata.metadata": META + "TypedDataSet", "value": rows[:half], "odata.nextLink": url + f"&$skip={half}"},
        url + f"&$skip={half}": {"odata.metadata": META + "TypedDataSet", "value": rows[half:]},
    }
    folder = tmp_path / "replay"
    folder.mkdir()
    index = {}
    for n, (u, payload) in enumerate(responses.items()):
        (folder / f"{n}.json").write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
        index[u] = f"{n}.json"
    (folder / "index.json").write_text(json.dumps(index), "utf-8")
    return folder, rotterdam


def test_rotterdam_2024_through_connector_and_ingestion(tmp_path):
    folder, rotterdam = _replay_dir(tmp_path)
    client = CbsClient(transport=ReplayTransport(folder), cache_dir=tmp_path / "cache", sleep=lambda s: None)
    extracts = tmp_path / "extracts"
    report = fetch_kerncijfers(client, 2024, ["GM0599"], extracts)
    assert report.rows == len(rotterdam) == 22 and report.metadata.title == "Kerncijfers wijken en buurten 2024"
    header = report.path.read_text("utf-8").splitlines()[0].split(";")
    assert header == [c.name for c in load_contract("cbs_kerncijfers").file_columns]  # 2024 keys are the contract's names

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        result = ingest_source(load_contract("cbs_kerncijfers"), extracts, con, Scope(gemeenten=frozenset({"GM0599"}), last_year=2024))
        assert result.rows_quarantined == 0 and result.rows_loaded == 22
        loaded = con.execute("""select "WijkenEnBuurten", "AantalInwoners_5", "Mannen_6", "Vrouwen_7", "Bevolkingsdichtheid_34",
                                       "Woningvoorraad_35", "OppervlakteTotaal_122", "OppervlakteLand_123", "OppervlakteWater_124"
                                from raw.cbs_kerncijfers where jaar = 2024""").fetchall()
    got = {row[0]: row[1:] for row in loaded}
    assert got == {code: tuple(v[k] for k in TOPICS) for code, v in rotterdam.items()}  # every figure exactly, nulls as nulls
    assert got["GM0599"][0] == rotterdam["GM0599"]["AantalInwoners_5"] == 670610
    assert got["WK059922"][3] is None  # a secret value (null in the API, '.' in the extract) arrives as NULL
    # a re-run answers from the cache: no transport call
    again = CbsClient(transport=ReplayTransport(folder), cache_dir=tmp_path / "cache", sleep=lambda s: None)
    fetch_kerncijfers(again, 2024, ["GM0599"], tmp_path / "extracts2")
    assert again.transport_calls == 0 and again.transport.calls == []


# --------------------------------------------------------------------------- into the marts

SCOPE = Scope(gemeenten=frozenset({"GM0599"}), first_year=2020, last_year=2024)
MIN_PERSONS = 10  # dbt var min_persons, default
# test-only: two real topics make a percentage (men among the residents), so that an indicator can reach the
# marts from the real figures; measures buurt_achterstand only to satisfy the factor model's seed tests
TEST_INDICATOR = {
    "indicator_id": "test_mannen_pct", "name_nl": "Mannen (testindicator)", "name_en": "Men (test indicator)",
    "measures": "factor", "factor_id": "buurt_achterstand", "source": "cbs_kerncijfers", "numerator_column": "Mannen_6",
    "denominator_column": "AantalInwoners_5", "unit": "percentage", "multiplier": "100", "direction": "higher_is_worse",
    "area_level": "buurt", "life_phase_id": "volwassenen",
    "description": "TEST ONLY (tests/cbs/test_real_85984NED.py): mannen als percentage van de inwoners (CBS).",
}
# test-only: the population density per km2 as CBS gives it, weighted by land area (ha) when summed; CBS gives it
# as '.' for wijken without (almost) any residents, but gives its own figure for the gemeente
TEST_DENSITY = {
    **TEST_INDICATOR, "indicator_id": "test_dichtheid", "name_nl": "Bevolkingsdichtheid (testindicator)",
    "name_en": "Population density (test indicator)", "numerator_column": "", "value_column": "Bevolkingsdichtheid_34",
    "denominator_column": "OppervlakteLand_123", "unit": "mean", "multiplier": "1",
    "description": "TEST ONLY (tests/cbs/test_real_85984NED.py): inwoners per km2 land, gewogen met het landoppervlak (CBS).",
}


def _replay_with_recorded_fixtures(tmp_path: Path) -> tuple[Path, dict[str, dict]]:
    """The real 2024 pages plus the recorded 2023 key figures and youth-care table in one replay folder (not the
    recorded 85984NED responses of tests/cbs/fixtures: here 2024 is the real table)."""
    folder, rotterdam = _replay_dir(tmp_path)
    index = json.loads((folder / "index.json").read_text("utf-8"))
    for url, file in json.loads((FIXTURES / "index.json").read_text("utf-8")).items():
        if file.startswith("85984NED/"):
            continue
        (folder / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / file, folder / file)
        index[url] = file
    (folder / "index.json").write_text(json.dumps(index), "utf-8")
    return folder, rotterdam


def _write_area_division(extracts: Path) -> None:
    """gebieden_rotterdam.csv (the area division, which a deployment must always deliver) from the codes of
    the key-figures extracts: code, level and parent as CBS gives them; the gemeente's name; for wijken and
    buurten the code as name (the real subset has no names)."""
    rows = []
    for path in sorted(extracts.glob("kerncijfers_wijken_en_buurten_*.csv")):
        year = path.stem.rsplit("_", 1)[1]
        with path.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh, delimiter=";"):
                code = r["WijkenEnBuurten"].strip()
                level = r["SoortRegio_2"].strip().lower()
                parent = {"gemeente": "", "wijk": "GM" + code[2:6], "buurt": "WK" + code[2:8]}[level]
                name = r["Gemeentenaam_1"].strip() if level == "gemeente" else code
                rows.append(f"{year};{code};{name};{level};{parent}")
    (extracts / "gebieden_rotterdam.csv").write_text(
        "jaar;gebiedscode;gebiedsnaam;soort;bovenliggende_code\n" + "\n".join(rows) + "\n", "utf-8")


def _write_empty_source(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """An empty raw.<source>, as the asset of a source switched off in the configuration writes it."""
    contract = load_contract(name)
    loaded = pd.DataFrame(columns=[*contract.column_names, "_source_file", "_source_row"])
    quarantined = pd.DataFrame(columns=[*contract.column_names, *LINEAGE_COLUMNS, "_reason"])
    log = pd.DataFrame(columns=["source", "source_file", "file_sha256", "rows_in", "rows_loaded", "rows_quarantined", "run_id"])
    write_source(con, contract, loaded.astype(object), quarantined.astype(object), log.astype(object))


@pytest.fixture(scope="module")
def real_marts(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    """Connector (replayed real 2024 pages, recorded 2023 and youth-care responses) -> contract-checked
    ingestion -> ``dbt build`` (seeds, models, data and unit tests; not the ML marts, which the statistics
    stage feeds) into a temporary warehouse. Returns the warehouse and the real Rotterdam figures."""
    tmp = tmp_path_factory.mktemp("real_marts")
    folder, rotterdam = _replay_with_recorded_fixtures(tmp)
    client = CbsClient(transport=ReplayTransport(folder), cache_dir=tmp / "cache", sleep=lambda s: None)
    extracts = tmp / "extracts"
    assert fetch_kerncijfers(client, 2024, ["GM0599"], extracts).rows == 22
    assert fetch_kerncijfers(client, 2023, ["GM0599"], extracts).rows == 6
    assert fetch_jeugdzorg(client, [2023, 2024], ["GM0599"], extracts).cells_filled == 1  # 2023 only; 2024 is secret
    _write_area_division(extracts)

    (tmp / "ingest").mkdir()
    warehouse = tmp / "ingest" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        for name, contract in load_contracts().items():
            if name in ("cbs_kerncijfers", "gebiedsindeling"):
                result = ingest_source(contract, extracts, con, SCOPE)
                assert result.rows_quarantined == 0, result.quarantine_preview
            else:
                _write_empty_source(con, name)

    project, env = copy_project(tmp, warehouse)
    seed = project / "seeds" / "factor_model" / "indicators.csv"
    with seed.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    with seed.open("a", encoding="utf-8", newline="") as fh:
        csv.DictWriter(fh, fieldnames=header, lineterminator="\n").writerows([TEST_INDICATOR, TEST_DENSITY])
    done = dbt(project, env, "build", "--exclude", "path:models/marts/ml")
    assert done.returncode == 0, done.stdout[-6000:]  # every data test, unit test and contract passes, other sources empty
    return tmp / "warehouse.duckdb", rotterdam


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def test_no_indicator_of_the_factor_model_can_be_computed_from_the_8_real_topics():
    with (PROJECT_DIR / "dbt_project" / "seeds" / "factor_model" / "indicators.csv").open(encoding="utf-8") as fh:
        indicators = list(csv.DictReader(fh))
    assert len(indicators) == 66
    # a row of an indicator needs its own figure (numerator or value) from its source; denominators alone make none
    own = {i["indicator_id"]: {i["numerator_column"], i["value_column"]} - {""} for i in indicators}
    assert all(cols for cols in own.values())
    assert [i for i, cols in own.items() if cols & set(TOPICS)] == []
    # the real topics serve only as denominators (residents, dwellings) of these seven
    uses = sorted(i["indicator_id"] for i in indicators if set(i["denominator_column"].split("+")) & set(TOPICS))
    assert uses == ["cbs_corporatiewoningen_pct", "cbs_inkomen_per_inwoner", "cbs_wmo_per_1000", "cbs_woz_waarde",
                    "pol_geweld_per_1000", "pol_misdrijven_per_1000", "pol_woninginbraken_per_1000"]


@pytest.mark.slow  # a dbt build (about 20 s, once for these tests)
def test_real_figures_arrive_in_staging_and_the_long_table_exactly(real_marts):
    warehouse, rotterdam = real_marts
    got = query(warehouse, "select area_code, source_column, value from intermediate.int_source_values "
                           "where source = 'cbs_kerncijfers' and year = 2024")
    expected = {(code, key): float(v[key]) for code, v in rotterdam.items() for key in TOPICS if v.get(key) is not None}
    assert len(expected) == 22 * 8 - 3  # three secret densities (null) are left out
    assert {(r.area_code, r.source_column): r.value for r in got.itertuples()} == expected
    gm = query(warehouse, "select * from staging.stg_cbs_kerncijfers where year = 2024 and area_code = 'GM0599'").iloc[0]
    assert gm["AantalInwoners_5"] == 670610 and gm["area_level"] == "gemeente" and gm["gemeente_name"] == "Rotterdam"


@pytest.mark.slow  # a dbt build (about 20 s, once for these tests)
def test_dim_area_holds_rotterdam_and_its_21_wijken(real_marts):
    warehouse, rotterdam = real_marts
    wijken = sorted(code for code in rotterdam if code.startswith("WK"))
    assert len(wijken) == 21
    area = query(warehouse, "select * from marts.dim_area where valid_to_year = 2024 order by area_code")
    assert list(area["area_code"]) == ["GM0599", *wijken]
    assert set(area["gemeente_code"]) == {"GM0599"} and area["is_current"].all()
    assert list(area["area_level"]) == ["gemeente"] + ["wijk"] * 21
    assert area.loc[area["area_code"] == "GM0599", "area_name"].item() == "Rotterdam"


@pytest.mark.slow  # a dbt build (about 20 s, once for these tests)
def test_rotterdam_2024_wijken_feed_the_marts_and_the_gemeente_is_their_exact_sum(real_marts):
    warehouse, rotterdam = real_marts
    values = query(warehouse, "select * from marts.fct_indicator_value where year = 2024")
    # the only indicators of 2024 with a figure: the test indicators; the factor model's own whose
    # denominators the real topics give (see above) have a withheld row for every area, not_published:
    # the subset holds none of their figures, as where CBS has not published them yet
    not_published = values[values["suppression_reason"] == "not_published"]
    values = values[values["suppression_reason"].ne("not_published") | values["suppression_reason"].isna()]
    assert set(values["indicator_id"]) == {"test_mannen_pct", "test_dichtheid"}
    assert set(not_published["indicator_id"]) == {"cbs_corporatiewoningen_pct", "cbs_inkomen_per_inwoner",
                                                  "cbs_wmo_per_1000", "cbs_woz_waarde", "test_dichtheid"}
    assert not_published["value"].isna().all() and not_published["is_suppressed"].all()
    values = values[values["indicator_id"] == "test_mannen_pct"]
    wijk = values[values["area_level"] == "wijk"].set_index("area_code")
    assert len(wijk) == 21 and set(values["area_level"]) == {"wijk", "gemeente"}  # no buurten in the real subset
    assert (wijk["derived_from_level"] == "wijk").all() and not wijk["is_aggregate"].any()
    for code, row in wijk.iterrows():
        men, residents = rotterdam[code]["Mannen_6"], rotterdam[code]["AantalInwoners_5"]
        small = residents < MIN_PERSONS or 0 < men < MIN_PERSONS
        assert row["is_suppressed"] == small, code
        if not small:
            assert (row["numerator"], row["denominator"]) == (men, residents), code
            assert row["value"] == pytest.approx(100 * men / residents, rel=1e-12), code
    assert sorted(wijk.index[wijk["is_suppressed"]]) == ["WK059922", "WK059924", "WK059925"]  # 0, 5 and 0 residents
    assert wijk.loc["WK059901", "denominator"] == 42565 and wijk.loc["WK059901", "value"] == pytest.approx(52.2260073)

    gemeente = values[values["area_level"] == "gemeente"].iloc[0]
    assert gemeente["area_code"] == "GM0599" and gemeente["is_aggregate"] and gemeente["derived_from_level"] == "wijk"
    # the sum of the wijken that have residents (19 of 21), not CBS's gemeente row (670610 residents, 332267 men):
    # CBS rounds wijk figures to fives, so the exact sum of the published wijken differs from it a little
    assert gemeente["areas_aggregated"] == 19
    assert (gemeente["numerator"], gemeente["denominator"]) == (332270, 670595)
    assert gemeente["numerator"] == sum(v["Mannen_6"] for c, v in rotterdam.items() if c.startswith("WK"))
    assert gemeente["denominator"] == sum(v["AantalInwoners_5"] for c, v in rotterdam.items() if c.startswith("WK"))
    assert gemeente["value"] == pytest.approx(100 * 332270 / 670595, rel=1e-12)
    assert rotterdam["GM0599"]["AantalInwoners_5"] == 670610
    # the Staat van de Jeugd takes the gemeente value
    staat = query(warehouse, "select * from marts.mart_staat_van_de_jeugd where year = 2024 and indicator_id = 'test_mannen_pct'")
    assert staat["value"].item() == pytest.approx(gemeente["value"])


@pytest.mark.slow  # a dbt build (about 20 s, once for these tests)
def test_rotterdam_density_is_cbs_own_gemeente_figure_not_the_sum_of_the_wijken_that_have_one(real_marts):
    """Real '.' figures: CBS gives no population density for three Rotterdam wijken (WK059922, WK059924,
    WK059925: 0, 5 and 0 residents on 840 ha of land), but its own figure for Rotterdam (3,070 per km2 on
    21,842 ha) includes them. Summed from the 18 wijken that have a density, Rotterdam came out at 3,192 per
    km2 on 21,003 ha, 4 % too dense, and was published as a complete sum of all its wijken. Now the gemeente
    carries CBS's own figure and says so; the wijken are as CBS gives them, the three without a density have
    no value."""
    warehouse, rotterdam = real_marts
    wijken = {c: v for c, v in rotterdam.items() if c.startswith("WK")}
    secret = sorted(c for c, v in wijken.items() if v["Bevolkingsdichtheid_34"] is None)
    assert secret == ["WK059922", "WK059924", "WK059925"]
    given = {c: v for c, v in wijken.items() if c not in secret}
    partial = sum(v["Bevolkingsdichtheid_34"] * v["OppervlakteLand_123"] for v in given.values()) / sum(
        v["OppervlakteLand_123"] for v in given.values())
    assert partial == pytest.approx(3192.32, abs=0.01) and sum(v["OppervlakteLand_123"] for v in given.values()) == 21003

    values = query(warehouse, "select * from marts.fct_indicator_value where year = 2024 and indicator_id = 'test_dichtheid'")
    values = values.set_index("area_code")
    assert sorted(values.index) == sorted(["GM0599", *wijken])
    # the wijken without the figure: a withheld row that says CBS does not publish it
    assert values.loc[secret, "suppression_reason"].eq("not_published").all() and values.loc[secret, "value"].isna().all()
    assert values.drop(index=secret)["suppression_reason"].isna().all()
    gm = values.loc["GM0599"]
    own = rotterdam["GM0599"]
    assert (gm["value"], gm["denominator"]) == (own["Bevolkingsdichtheid_34"], own["OppervlakteLand_123"]) == (3070, 21842)
    assert gm["numerator"] == 3070 * 21842
    assert gm["derived_from_level"] == "gemeente" and not gm["is_aggregate"] and gm["areas_aggregated"] == 1
    assert gm["children_without_figure"] == 3 and gm["is_complete"] and not gm["is_suppressed"]
    assert pd.isna(gm["children_expected"]) and pd.isna(gm["children_present"])
    for code, v in given.items():
        row = values.loc[code]
        assert (row["value"], row["denominator"], row["derived_from_level"]) == (v["Bevolkingsdichtheid_34"], v["OppervlakteLand_123"], "wijk")
    # why: the sum it replaces would have had 18 of Rotterdam's 21 wijken, the three others delivered without it
    completeness = query(warehouse, """select * from intermediate.int_aggregate_completeness
                                       where indicator_id = 'test_dichtheid' and year = 2024""")
    assert len(completeness) == 1
    completeness = completeness.iloc[0]
    assert (completeness["area_code"], completeness["children_expected"], completeness["children_present"],
            completeness["children_without_figure"], completeness["children_missing"]) == ("GM0599", 21, 18, 3, ",".join(secret))


@pytest.mark.slow  # a dbt build (about 20 s, once for these tests)
def test_2023_extract_with_buurten_is_summed_from_its_buurten_only(real_marts):
    """The recorded 2023 table has the gemeente, two wijken and three buurten: the buurten feed the marts,
    their wijk rows and the gemeente row do not (nothing counted twice)."""
    warehouse, _ = real_marts
    values = query(warehouse, """select * from marts.fct_indicator_value
                                 where year = 2023 and indicator_id = 'cbs_corporatiewoningen_pct'""").set_index("area_code")
    assert set(values.index) == {"BU05990110", "BU05990111", "BU05990310", "WK059901", "WK059903", "GM0599"}
    assert (values["derived_from_level"] == "buurt").all()
    assert list(values.loc[["WK059901", "GM0599"], "areas_aggregated"]) == [2, 3]
    # dwellings (the denominator) of the three buurten: 16010 // 2 + 26000 // 2 + 310 // 2; the gemeente's own
    # row would say 664311 // 2, and buurten plus wijken twice as much
    assert values.loc["GM0599", "denominator"] == 8005 + 13000 + 155
    assert values.loc["GM0599", "value"] == pytest.approx(44.0)
    years = query(warehouse, "select year, min(derived_from_level) as lo, max(derived_from_level) as hi "
                             "from marts.fct_indicator_value where indicator_id = 'test_mannen_pct' group by year order by year")
    assert years.values.tolist() == [[2023, "buurt", "buurt"], [2024, "wijk", "wijk"]]  # per year the finest level


@pytest.mark.slow  # a dbt build (about 20 s, once for these tests)
def test_youth_care_figure_arrives_as_the_gemeentes_own_row_but_is_suppressed_without_a_count(real_marts):
    """The youth-care table gives Rotterdam's 2023 percentage only (no buurt or wijk figure, no count of young
    people): it reaches fct_indicator_value as the gemeente's own row and is withheld by disclosure control,
    because a value whose basis is unknown is never published."""
    warehouse, _ = real_marts
    raw = query(warehouse, """select "PercentageJongerenMetJeugdzorg_99" as pct from raw.cbs_kerncijfers
                              where jaar = 2023 and "WijkenEnBuurten" = 'GM0599'""")
    assert raw["pct"].item() == 12.6
    row = query(warehouse, "select * from marts.fct_indicator_value where indicator_id = 'cbs_jeugdzorg_pct'")
    assert len(row) == 1
    row = row.iloc[0]
    assert (row["area_code"], row["year"], row["derived_from_level"], row["is_aggregate"]) == ("GM0599", 2023, "gemeente", False)
    assert row["is_suppressed"] and pd.isna(row["value"])
