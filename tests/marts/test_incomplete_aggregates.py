"""A wijk or gemeente summed from only the buurten that survived quarantine is withheld, not
published as complete.

A review corrupted buurt rows of one year in the municipal registrations: they were quarantined on
arrival, and wijk WK999901 came out with `reg_jeugdhulp_pct` 9.29 for 2023 from 1 of its 8 buurten
(denominator 280 instead of 3,480), GM9999 from 73 of its 80, unflagged and published. Here the same
happens to a copy of the demo warehouse through the real ingestion and a real dbt build.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from data_contracts.contract import load_contracts
from pipelines.defs.ops.health import incomplete_aggregates, incomplete_report
from pipelines.ingest import ingest_source
from tests.marts.dbt_copy import copy_project, dbt

pytestmark = pytest.mark.slow

YEAR = 2023
WIJK = "WK999901"
CORRUPTED = [f"BU999901{n:02d}" for n in range(2, 9)]  # 7 of the wijk's 8 buurten; BU99990101 survives
REGISTRATIES = "registraties_demostad_2015-2024.csv"
# the indicators built from the registrations: their own and the police rates per resident of an age
FROM_REGISTRATIES = 13 + 3


def _corrupt(extracts, buurten, year):
    """Give the rows of ``buurten`` in ``year`` a negative count of young people in youth care."""
    path = extracts / REGISTRATIES
    lines = path.read_text("utf-8").split("\n")
    column = lines[0].split(";").index("jeugdigen_met_jeugdhulp")
    hit = 0
    for n, line in enumerate(lines[1:], start=1):
        fields = line.split(";")
        if len(fields) > column and fields[0] == str(year) and fields[1] in buurten:
            fields[column] = "-3"
            lines[n] = ";".join(fields)
            hit += 1
    assert hit == len(buurten)
    path.write_text("\n".join(lines), "utf-8")


def test_clean_demo_has_no_incomplete_aggregate(demo_run):
    """Toddler counts of 0 do not make a wijk incomplete. The CBS income figures that the demo leaves out
    ('.') for buurten under 500 residents would: a sum of the other buurten leaves their residents out. The
    demo's CBS extract gives its own wijk and gemeente rows (which include those buurten), so those wijken
    and the gemeente carry CBS's own figure instead of the partial sum, and nothing is withheld."""
    settings, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert incomplete_aggregates(con) == []
        (aggregates, counted) = con.execute(
            "select count(*), count(*) filter (where children_present = children_expected and children_expected > 0) "
            "from marts.fct_indicator_value where is_aggregate").fetchone()
        assert aggregates == counted > 0
        # every sum has all its children's figures; CBS's own figure where a buurt is '.'
        assert con.execute("select count(*) from marts.fct_indicator_value "
                           "where is_aggregate and children_without_figure > 0").fetchone() == (0,)
        own = con.execute(
            """select area_level, count(*), count(distinct indicator_id), bool_and(derived_from_level = area_level),
                      bool_and(not is_suppressed)
               from marts.fct_indicator_value where not is_aggregate and children_without_figure > 0
               group by area_level order by area_level""").fetchall()
        # the three income indicators: 20 wijk values each over the ten years, and the gemeente every year
        assert own == [("gemeente", 30, 3, True, True), ("wijk", 60, 3, True, True)]


def test_a_wijk_summed_from_the_buurten_that_survived_quarantine_is_withheld(demo_run, tmp_path):
    settings, _ = demo_run
    project, env = copy_project(tmp_path, settings.warehouse_path)
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        before = dict(con.execute(
            "select area_code, value from marts.fct_indicator_value "
            "where indicator_id = 'reg_jeugdhulp_pct' and year = ? and area_level = 'wijk'", [YEAR]).fetchall())
    extracts = tmp_path / "extracts"
    shutil.copytree(settings.extract_dir, extracts)
    _corrupt(extracts, CORRUPTED, YEAR)
    with duckdb.connect(str(warehouse)) as con:
        result = ingest_source(load_contracts()["gemeente_registraties"], extracts, con, settings.scope, years=[YEAR])
    assert result.rows_quarantined == len(CORRUPTED)

    done = dbt(project, env, "build", "--select", "path:models/staging", "path:models/intermediate",
               "fct_indicator_value+", "--exclude", "path:models/marts/ml")
    # every test passes (the disclosure rule and complementary suppression among them); the warn test
    # lists the withheld cells
    assert done.returncode == 0, done.stdout[-3000:]
    assert "incomplete_aggregates_withheld_fct_indicator_value" in done.stdout
    assert "WARN" in done.stdout and "warn_incomplete_aggregates" in done.stdout

    with duckdb.connect(str(warehouse), read_only=True) as con:
        def row(area, indicator="reg_jeugdhulp_pct"):
            return con.execute(
                "select value, denominator, is_suppressed, suppression_reason, is_complete, children_present, "
                "children_expected from marts.fct_indicator_value where area_code = ? and year = ? and indicator_id = ?",
                [area, YEAR, indicator]).fetchone()

        # was published as 9.29 from one buurt (denominator 280)
        assert row(WIJK) == (None, None, True, "incomplete", False, 1, 8)
        assert row("GM9999") == (None, None, True, "incomplete", False, 73, 80)
        # a police rate per resident of 12-17 lacks the same buurten' denominators
        assert row(WIJK, "pol_verdachten_12_17_per_1000")[3:] == ("incomplete", False, 1, 8)
        # the surviving buurt is published as before; the other wijken are complete and unchanged
        assert row("BU99990101")[2:5] == (False, None, True)
        after = dict(con.execute(
            "select area_code, value from marts.fct_indicator_value "
            "where indicator_id = 'reg_jeugdhulp_pct' and year = ? and area_level = 'wijk' and is_complete", [YEAR]).fetchall())
        assert after == {k: v for k, v in before.items() if k != WIJK}
        # other years are untouched
        assert con.execute("select count(*) from marts.fct_indicator_value where not is_complete and year <> ?",
                           [YEAR]).fetchone() == (0,)

        cells = incomplete_aggregates(con)
        assert {(i, a, y) for i, a, y, *_ in cells} == {
            (i, a, YEAR) for (i,) in con.execute(
                "select indicator_id from factor_model.indicators where 'gemeente_registraties' in (source, denominator_source)"
            ).fetchall() for a in (WIJK, "GM9999")}
        assert len(cells) == 2 * FROM_REGISTRATIES
        # factor scores do not standardise against the incomplete gemeente value: a factor measured only
        # by the registrations has no score that year, inside (int_factor_score) or out
        only_registraties = [f for (f,) in con.execute(
            """select factor_id from factor_model.indicators where measures = 'factor' group by factor_id
               having bool_and('gemeente_registraties' in (source, coalesce(denominator_source, '')))""").fetchall()]
        assert only_registraties
        for table in ("intermediate.int_factor_score", "marts.fct_factor_score"):
            assert con.execute(f"select count(*) filter (where year = ?), count(*) filter (where year = ?) from {table} "
                               "where factor_id in (select unnest(?))", [YEAR, YEAR - 1, only_registraties]).fetchone()[0] == 0

    text, metadata = incomplete_report(cells)
    missing = ",".join(CORRUPTED)
    assert f"reg_jeugdhulp_pct {WIJK} {YEAR}: 1 of 8 child areas (missing {missing})" in text
    assert f"| reg_jeugdhulp_pct | {WIJK} | {YEAR} | 1 | 8 | {missing} |" in metadata["incomplete_aggregates"].value

    # switched off, the withholding is caught by the dbt test, which names the model
    broken_dir = tmp_path / "broken"
    broken_dir.mkdir()
    broken, broken_env = copy_project(broken_dir, warehouse)
    sql = broken / "models/marts/fct_indicator_value.sql"
    original = sql.read_text()
    sql.write_text(original.replace("not v.is_complete as is_incomplete", "false as is_incomplete"))
    assert sql.read_text() != original
    done = dbt(broken, broken_env, "build", "--select", "fct_indicator_value")
    assert done.returncode != 0
    assert "FAIL" in done.stdout and "incomplete_aggregates_withheld_fct_indicator_value" in done.stdout
