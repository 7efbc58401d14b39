"""Real CBS material (../shared/cbs/85984NED, Kerncijfers wijken en buurten 2024): the connector
parses the real DataProperties and TableInfos exactly, and the real 2024 values of Rotterdam
(GM0599) and its wijken go through the connector (replayed OData pages) and the contract-checked
ingestion into raw.cbs_kerncijfers unchanged. Skipped where ../shared/cbs is absent.

The real subset holds 8 topics per area and no buurten; the TypedDataSet pages replayed here are
built from it: the 8 real topics as served, the area code padded to 10 characters as the API pads
it, Gemeentenaam_1 / SoortRegio_2 / Codering_3 derived from the code (the subset lacks them), and
``null`` for every other topic (what the API serves for a value it does not give).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from data_contracts.contract import load_contract
from data_contracts.pandera_schema import Scope
from pipelines.cbs import CbsClient, ReplayTransport, fetch_kerncijfers, load_mapping, parse_data_properties
from pipelines.cbs import odata
from tests.cbs.helpers import SHARED_CBS

TABLE = SHARED_CBS / "85984NED"
pytestmark = pytest.mark.skipif(not (TABLE / "DataProperties.json").exists(), reason=f"real CBS material not found at {TABLE}")
META = "https://opendata.cbs.nl/ODataApi/OData/85984NED/$metadata#Cbs.OData.WebAPI."


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
        from pipelines.ingest import ingest_source
        result = ingest_source(load_contract("cbs_kerncijfers"), extracts, con, Scope(gemeenten=frozenset({"GM0599"}), last_year=2024))
        assert result.rows_quarantined == 0 and result.rows_loaded == 22
        loaded = con.execute("""select "WijkenEnBuurten", "AantalInwoners_5", "Mannen_6", "Vrouwen_7", "Bevolkingsdichtheid_34",
                                       "Woningvoorraad_35", "OppervlakteTotaal_122", "OppervlakteLand_123", "OppervlakteWater_124"
                                from raw.cbs_kerncijfers where jaar = 2024""").fetchall()
    got = {row[0]: row[1:] for row in loaded}
    keys = ["AantalInwoners_5", "Mannen_6", "Vrouwen_7", "Bevolkingsdichtheid_34", "Woningvoorraad_35",
            "OppervlakteTotaal_122", "OppervlakteLand_123", "OppervlakteWater_124"]
    assert got == {code: tuple(v[k] for k in keys) for code, v in rotterdam.items()}  # every figure exactly, nulls as nulls
    assert got["GM0599"][0] == rotterdam["GM0599"]["AantalInwoners_5"] == 670610
    assert got["WK059922"][3] is None  # a secret value (null in the API, '.' in the extract) arrives as NULL
    # a re-run answers from the cache: no transport call
    again = CbsClient(transport=ReplayTransport(folder), cache_dir=tmp_path / "cache", sleep=lambda s: None)
    fetch_kerncijfers(again, 2024, ["GM0599"], tmp_path / "extracts2")
    assert again.transport_calls == 0 and again.transport.calls == []
