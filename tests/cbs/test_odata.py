"""URL construction of the CBS OData v3 API (pure functions)."""

from __future__ import annotations

import pytest

from pipelines.cbs import odata


def test_entity_url_and_table_id():
    assert odata.entity_url("85984NED", "TypedDataSet") == "https://opendata.cbs.nl/ODataApi/odata/85984NED/TypedDataSet"
    with pytest.raises(ValueError, match="not a CBS table identifier"):
        odata.entity_url("85984NED/../x", "TypedDataSet")


def test_region_filter_matches_gemeente_wijken_and_buurten_by_prefix():
    assert odata.region_filter("WijkenEnBuurten", ["GM0599"]) == (
        "(startswith(WijkenEnBuurten,'GM0599') or startswith(WijkenEnBuurten,'WK0599') or startswith(WijkenEnBuurten,'BU0599'))"
    )
    two = odata.region_filter("RegioS", ["GM0599", "GM0363"], levels=("GM",))
    assert two == "(startswith(RegioS,'GM0363') or startswith(RegioS,'GM0599'))"  # sorted: one cache key per set
    for bad in (["0599"], ["GM599"], []):
        with pytest.raises(ValueError):
            odata.region_filter("RegioS", bad)


def test_period_filter_and_keys():
    assert odata.period_key(2022) == "2022JJ00"
    assert odata.year_of_period("2022JJ00") == 2022
    assert odata.period_filter("Perioden", [2024, 2023]) == "(Perioden eq '2023JJ00' or Perioden eq '2024JJ00')"
    assert odata.and_filters("(a)", None, "(b)") == "(a) and (b)"
    assert odata.and_filters(None) is None


def test_query_url_encodes_spaces_keeps_odata_syntax_and_fixed_order():
    url = odata.query_url("https://x/odata/85984NED/TypedDataSet", "(startswith(WijkenEnBuurten,'GM0599') or Perioden eq '2023JJ00')", ["ID", "AantalInwoners_5"])
    assert url == (
        "https://x/odata/85984NED/TypedDataSet?$filter=(startswith(WijkenEnBuurten,'GM0599')%20or%20Perioden%20eq%20'2023JJ00')"
        "&$select=ID,AantalInwoners_5&$format=json"
    )
    assert odata.query_url("https://x/odata/85984NED/DataProperties") == "https://x/odata/85984NED/DataProperties?$format=json"
