"""How a mart is read into pandas for its Great Expectations suite (``read_table_compact``)."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.quality.validate import read_table_compact


def test_text_as_categories_and_whole_numbers_as_int64_over_several_chunks():
    """Text arrives as categories and INTEGER columns without gaps as int64 (GE's range check is
    vectorised only for int64 and float64), with every value as in the table, across chunks."""
    con = duckdb.connect()
    con.execute("create table t as select i::integer as n, case when i % 3 = 0 then null else i end::integer as gaps, "
                "'code' || (i % 7) as code, i / 2 as half from range(5000) as r(i)")
    frame = read_table_compact(con, "select * from t order by n", rows_per_chunk=2048)
    expected = con.execute("select * from t order by n").df()
    assert frame["n"].dtype == "int64" and isinstance(frame["code"].dtype, pd.CategoricalDtype)
    assert frame["gaps"].isna().sum() == expected["gaps"].isna().sum() == 1667
    for column in expected.columns:
        assert frame[column].astype(object).where(frame[column].notna(), None).tolist() == \
            expected[column].astype(object).where(expected[column].notna(), None).tolist(), column


def test_text_read_through_an_enum_or_as_text_gives_the_same_values(monkeypatch):
    """Text with few distinct values is cast to an ENUM in DuckDB (a category without a Python string
    per cell); text with more than MAX_ENUM_VALUES stays text and is made a category per chunk. Both
    give every value as in the table: quotes, empty strings and NULLs included."""
    import pipelines.quality.validate as validate

    monkeypatch.setattr(validate, "MAX_ENUM_VALUES", 50)
    con = duckdb.connect()
    con.execute("create table t as select i as n, "
                "case i % 4 when 0 then null when 1 then '' when 2 then 'o''neill' else 'wijk \"3\"' end as few, "
                "'area' || i as many, null::varchar as empty from range(3000) as r(i)")
    assert "enum(" in validate._text_as_enum(con, "select few, many from t")
    assert "cast(\"many\"" not in validate._text_as_enum(con, "select few, many from t")
    frame = read_table_compact(con, "select * from t order by n", rows_per_chunk=2048)
    expected = con.execute("select * from t order by n").df()
    assert isinstance(frame["few"].dtype, pd.CategoricalDtype) and isinstance(frame["many"].dtype, pd.CategoricalDtype)
    for column in expected.columns:
        assert frame[column].astype(object).where(frame[column].notna(), None).tolist() == \
            expected[column].astype(object).where(expected[column].notna(), None).tolist(), column
