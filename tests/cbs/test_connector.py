"""The connector end to end on recorded responses: key figures of 2023 (keys renumbered and renamed
against the contract's 2024 names) and the youth-care table, written as extracts and ingested
through the contract-checked ingestion; a table whose columns changed fails clearly."""

from __future__ import annotations

import copy
import csv
import json
import shutil

import duckdb
import pytest

from data_contracts.contract import load_contract
from data_contracts.pandera_schema import Scope
from pipelines.cbs import CbsClient, CbsMappingError, ReplayTransport, fetch_jeugdzorg, fetch_kerncijfers, load_mapping
from pipelines.ingest import ingest_source
from tests.cbs.helpers import FIXTURES

SCOPE = Scope(gemeenten=frozenset({"GM0599"}), first_year=2020, last_year=2024)


def read(path):
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


@pytest.fixture
def client(tmp_path):
    return CbsClient(transport=ReplayTransport(FIXTURES), cache_dir=tmp_path / "cache", sleep=lambda s: None)


def test_2023_table_with_changed_keys_is_mapped_to_the_contract_and_ingested(client, tmp_path):
    extracts = tmp_path / "extracts"
    report = fetch_kerncijfers(client, 2023, ["GM0599"], extracts)
    assert report.path.name == "kerncijfers_wijken_en_buurten_2023.csv" and report.rows == 6  # three pages joined
    lines = report.path.read_text("utf-8").splitlines()
    assert lines[0].startswith("ID;WijkenEnBuurten;Gemeentenaam_1;SoortRegio_2;Codering_3;")
    assert "Woningvoorraad_35" in lines[0] and "Woningvoorraad_34" not in lines[0]  # 2023 key -> contract column
    rows = read(report.path)
    assert rows[0]["WijkenEnBuurten"] == "GM0599    " and rows[2]["WijkenEnBuurten"] == "BU05990110"  # CBS padding kept
    assert rows[0]["GemiddeldeHuishoudensgrootte_33"] == "1,9" and rows[0]["GemiddeldInkomenPerInwoner_83"] == "31,4"
    assert rows[4]["GemiddeldInkomenPerInwoner_83"] == "."  # null (secret) -> '.'
    assert rows[0]["BasisonderwijsVmboMbo1_75"] == str(664311 // 5)  # renamed topic OpleidingsniveauLaag_64
    assert "WmoClienten_100" not in rows[0]  # listed under 'unmapped' for 2023: left out

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        result = ingest_source(load_contract("cbs_kerncijfers"), extracts, con, SCOPE)
        assert result.rows_loaded == 6 and result.rows_quarantined == 0
        got = dict(con.execute('select "WijkenEnBuurten", "AantalInwoners_5" from raw.cbs_kerncijfers where jaar = 2023').fetchall())
    assert got == {"GM0599": 664311, "WK059901": 42010, "BU05990110": 16010, "BU05990111": 26000, "WK059903": 310, "BU05990310": 310}


def test_2024_table_with_the_contracts_own_keys_is_written_one_to_one_and_ingested(client, tmp_path):
    extracts = tmp_path / "extracts"
    report = fetch_kerncijfers(client, 2024, ["GM0599"], extracts)
    assert report.table == "85984NED" and report.rows == 6 and report.columns_left_out == ()  # two pages joined
    assert report.metadata.title == "Kerncijfers wijken en buurten 2024" and report.metadata.period_key is None
    header = report.path.read_text("utf-8").splitlines()[0].split(";")
    assert header == [c.name for c in load_contract("cbs_kerncijfers").file_columns]
    rows = read(report.path)
    assert [r["WijkenEnBuurten"] for r in rows] == ["GM0599    ", "WK059901  ", "BU05990110", "BU05990111", "WK059903  ", "BU05990310"]
    assert rows[2]["PercentageJongerenMetJeugdzorg_99"] == "13,0" and rows[2]["InBezitWoningcorporatie_49"] == "48"
    assert rows[5]["InBezitWoningcorporatie_49"] == "." and rows[5]["JongerenMetJeugdzorgInNatura_98"] == "."  # secret

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        result = ingest_source(load_contract("cbs_kerncijfers"), extracts, con, SCOPE)
        assert result.rows_loaded == 6 and result.rows_quarantined == 0
        got = dict(con.execute('select "WijkenEnBuurten", "BasisonderwijsVmboMbo1_75" from raw.cbs_kerncijfers where jaar = 2024').fetchall())
    assert got == {"GM0599": 152300, "WK059901": 11350, "BU05990110": 3900, "BU05990111": 7450, "WK059903": 5, "BU05990310": 5}


def test_youth_care_table_fills_the_key_figures_extract_of_its_year(client, tmp_path):
    extracts = tmp_path / "extracts"
    fetch_kerncijfers(client, 2023, ["GM0599"], extracts)
    # a 2024 key-figures extract with the youth-care column present but secret ('.') for Rotterdam
    (extracts / "kerncijfers_wijken_en_buurten_2024.csv").write_text(
        "WijkenEnBuurten;Gemeentenaam_1;SoortRegio_2;Codering_3;PercentageJongerenMetJeugdzorg_99\n"
        "GM0599    ;Rotterdam;Gemeente  ;GM0599    ;.\n", "utf-8")
    report = fetch_jeugdzorg(client, [2023, 2024], ["GM0599"], extracts)
    assert report.cells_filled == 1 and report.regions_not_in_extract == []
    rows_2023 = read(extracts / "kerncijfers_wijken_en_buurten_2023.csv")
    assert rows_2023[0]["PercentageJongerenMetJeugdzorg_99"] == "12,6"  # column added, gemeente row filled
    assert rows_2023[1]["PercentageJongerenMetJeugdzorg_99"] == "."
    assert read(extracts / "kerncijfers_wijken_en_buurten_2024.csv")[0]["PercentageJongerenMetJeugdzorg_99"] == "."  # null stays '.'
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        result = ingest_source(load_contract("cbs_kerncijfers"), extracts, con, SCOPE)
        assert result.rows_quarantined == 0
        assert con.execute("""select "PercentageJongerenMetJeugdzorg_99" from raw.cbs_kerncijfers
                              where jaar = 2023 and "WijkenEnBuurten" = 'GM0599'""").fetchone()[0] == 12.6


def test_youth_care_without_key_figures_of_the_year_fails_clearly(client, tmp_path):
    with pytest.raises(CbsMappingError, match=r"kerncijfers_wijken_en_buurten_2023.csv, which does not exist; fetch the key figures of 2023"):
        fetch_jeugdzorg(client, [2023, 2024], ["GM0599"], tmp_path)


def _changed_fixtures(tmp_path, change):
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, fixtures)
    path = fixtures / "85618NED" / "DataProperties.json"
    payload = json.loads(path.read_text("utf-8"))
    change(payload["value"])
    path.write_text(json.dumps(payload), "utf-8")
    return CbsClient(transport=ReplayTransport(fixtures), sleep=lambda s: None)


def test_table_whose_columns_changed_fails_naming_table_key_and_mapping_file(tmp_path):
    def rename(entries):
        for e in entries:
            if e["Key"] == "Woningvoorraad_34":
                e["Key"] = "Woningvoorraad_36"
    client = _changed_fixtures(tmp_path, rename)
    with pytest.raises(CbsMappingError) as exc:
        fetch_kerncijfers(client, 2023, ["GM0599"], tmp_path / "extracts")
    message = str(exc.value)
    for part in ("85618NED", "Kerncijfers wijken en buurten 2023", "'Woningvoorraad_34'", "'Woningvoorraad_35'",
                 "data_contracts/mappings/cbs_kerncijfers.yaml", "update 'columns:' of table 85618NED"):
        assert part in message
    assert not (tmp_path / "extracts").exists()  # checked before any data is downloaded or written


def test_text_column_where_the_contract_wants_a_number_fails(tmp_path):
    def retype(entries):
        for e in entries:
            if e["Key"] == "AantalInwoners_5":
                e["Datatype"] = "String"
    with pytest.raises(CbsMappingError, match=r"'AantalInwoners_5' is String \(text\) but .* maps it to the integer column"):
        fetch_kerncijfers(_changed_fixtures(tmp_path, retype), 2023, ["GM0599"], tmp_path / "x")


def test_required_contract_column_unmapped_or_optional_unaccounted_fails(tmp_path):
    text = load_mapping("cbs_kerncijfers").path.read_text("utf-8")
    broken = tmp_path / "cbs_kerncijfers.yaml"
    head, tail = text.split("  - table: 85618NED")  # drop the mapping of a required column from the 2023 table
    broken.write_text(head + "  - table: 85618NED" + tail.replace("      Gemeentenaam_1: Gemeentenaam_1\n", ""), "utf-8")
    client = CbsClient(transport=ReplayTransport(FIXTURES), sleep=lambda s: None)
    with pytest.raises(CbsMappingError, match=r"required column 'Gemeentenaam_1' of contract cbs_kerncijfers is not mapped for CBS table 85618NED"):
        fetch_kerncijfers(client, 2023, ["GM0599"], tmp_path / "x", mapping=broken)
    broken.write_text(text.replace("      - WmoClienten_100\n", ""), "utf-8")
    with pytest.raises(CbsMappingError, match=r"'WmoClienten_100' .* neither mapped nor listed under 'unmapped:'"):
        fetch_kerncijfers(client, 2023, ["GM0599"], tmp_path / "x", mapping=broken)


def test_unmapped_year_fails_with_the_years_known(client, tmp_path):
    with pytest.raises(CbsMappingError, match=r"no CBS table for year 2019; mapped years: \[2023, 2024\]"):
        fetch_kerncijfers(client, 2019, ["GM0599"], tmp_path)


def test_typed_dataset_rejects_a_value_of_the_wrong_type(tmp_path):
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, fixtures)
    page = fixtures / "85618NED" / "TypedDataSet_page1.json"
    payload = json.loads(page.read_text("utf-8"))
    broken = copy.deepcopy(payload)
    broken["value"][0]["AantalInwoners_5"] = "670 610"
    page.write_text(json.dumps(broken), "utf-8")
    client = CbsClient(transport=ReplayTransport(fixtures), sleep=lambda s: None)
    from pipelines.cbs import CbsResponseError
    with pytest.raises(CbsResponseError, match=r"85618NED TypedDataSet row ID 0: AantalInwoners_5 is Long but holds '670 610'"):
        fetch_kerncijfers(client, 2023, ["GM0599"], tmp_path / "x")
