"""Small warehouses with a ``marts`` schema whose row counts encode a version, for publish tests.

Version ``v`` of the warehouse holds ``expected_rows(v, scale)``: every mart's row count is a
different function of ``v``, so an answer that mixes two releases is recognisable.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

MARTS = ("dim_area", "fct_indicator_value", "mart_staat_van_de_jeugd")


def expected_rows(version: int, scale: int = 1) -> dict[str, int]:
    return {
        "dim_area": 10 + version,
        "fct_indicator_value": scale * (100 + 7 * version),
        "mart_staat_van_de_jeugd": 20 + 3 * version,
        "v_area_names": 10 + version,
    }


def write_warehouse(path: Path, version: int, scale: int = 1) -> dict[str, int]:
    """(Re)write the marts of the warehouse at ``path`` as version ``version``; returns its row counts."""
    rows = expected_rows(version, scale)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists raw")
        con.execute("create or replace table raw.not_published as select 1 as x")
        con.execute("create schema if not exists marts")
        con.execute(
            f"""
            create or replace table marts.dim_area as
            select 'BU9999' || lpad(i::varchar, 4, '0') as area_code, 'Buurt ' || i as area_name,
                   {version} as version
            from range({rows['dim_area']}) t(i)
            """
        )
        con.execute("comment on table marts.dim_area is 'Areas: buurten, wijken, gemeenten'")
        con.execute("comment on column marts.dim_area.area_code is 'CBS area code'")
        con.execute(
            f"""
            create or replace table marts.fct_indicator_value as
            select i % 500 as area_id, 2015 + i % 10 as year, 'ind_' || (i % 40) as indicator_code,
                   (i % 1000) / 10.0 as value, i % 100 as numerator, 100 as denominator,
                   (i % 13 = 0) as suppressed, {version} as version
            from range({rows['fct_indicator_value']}) t(i)
            """
        )
        con.execute(
            f"""
            create or replace table marts.mart_staat_van_de_jeugd as
            select 'ind_' || i as indicator_code, 2024 as year, i * 1.5 as value,
                   case when i % 3 = 0 then 'better' when i % 3 = 1 then 'worse' else 'within noise' end
                     as assessment,
                   {version} as version
            from range({rows['mart_staat_van_de_jeugd']}) t(i)
            """
        )
        con.execute("create or replace view marts.v_area_names as select area_code, area_name from marts.dim_area")
    return rows
