"""dbt's own guards can fail: a mart that breaks its contract, or a model that breaks a data test."""

from __future__ import annotations

import json
import re

import pytest

from tests.marts.dbt_copy import copy_project, dbt

pytestmark = pytest.mark.slow


def broken_copy(tmp_path, warehouse, model: str, old: str, new: str):
    """A copy of the dbt project and warehouse in which ``model`` (path under dbt_project/) has
    ``old`` replaced by ``new``; returns (project, env) for ``dbt``."""
    project, env = copy_project(tmp_path, warehouse)
    sql = project / model
    original = sql.read_text()
    broken = original.replace(old, new)
    assert broken != original, f"{old!r} not found in {model}"
    sql.write_text(broken)
    return project, env


def test_a_mart_that_breaks_its_contract_fails_the_build(demo_run, tmp_path):
    settings, _ = demo_run
    project, env = broken_copy(tmp_path, settings.warehouse_path, "models/marts/dim_goal.sql",
                               "s.sort_order,", "s.sort_order::varchar as sort_order,")
    done = dbt(project, env, "run", "--select", "dim_goal")
    assert done.returncode != 0
    assert "contract" in done.stdout.lower() and "sort_order" in done.stdout


def _key_assertions(dbt_json_log: str) -> dict[str, list[list[str]]]:
    """Per mart, the primary keys its build asserted between the model's BEGIN and COMMIT, read from
    the statements of dbt's JSON log (``--log-format json --debug``)."""
    asserted: dict[str, list[list[str]]] = {}
    in_transaction: dict[str, bool] = {}
    for line in dbt_json_log.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event["info"]["name"] != "SQLQuery":
            continue
        node = event["data"].get("node_info", {}).get("node_name")
        sql = " ".join(event["data"]["sql"].split())
        if sql in ("BEGIN", "COMMIT"):
            in_transaction[node] = sql == "BEGIN"
        key = re.search(r"\.\"(\w+)\": the primary key \(' \|\| '([^']*)'", sql)
        if key and in_transaction.get(node):
            asserted.setdefault(key.group(1), []).append(key.group(2).split(", "))
    return asserted


def test_every_mart_asserts_its_primary_key_before_its_table_is_committed(demo_run, tmp_path):
    """The primary key of each mart's contract is checked in the model's transaction
    (macros/primary_keys.sql); no index of it is kept in the warehouse."""
    import duckdb

    from tests.marts.test_docs import mart_primary_keys

    settings, _ = demo_run
    project, env = copy_project(tmp_path, settings.warehouse_path)
    done = dbt(project, env, "run", "--select", "path:models/marts", "--log-format", "json", "--debug")
    assert done.returncode == 0, done.stdout[-3000:]
    assert _key_assertions(done.stdout) == mart_primary_keys()
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        indexed = con.execute("select count(*) from duckdb_constraints() "
                              "where schema_name = 'marts' and constraint_type = 'PRIMARY KEY'").fetchone()[0]
    assert indexed == 0


def test_a_mart_with_a_duplicate_key_fails_the_build(demo_run, tmp_path):
    """A mart whose rows repeat its primary key fails its dbt run, naming the table, the key and the
    repeated value, and leaves the table as it was (the transaction is rolled back)."""
    import duckdb

    settings, _ = demo_run
    project, env = broken_copy(tmp_path, settings.warehouse_path, "models/marts/dim_goal.sql",
                               "inner join {{ ref('domains') }} as d on d.domain_id = s.domain_id",
                               "inner join {{ ref('domains') }} as d on d.domain_id = s.domain_id\n"
                               "cross join (select 1 union all select 2) as twice")
    done = dbt(project, env, "run", "--select", "dim_goal")
    assert done.returncode != 0
    assert '"marts"."dim_goal": the primary key (subgoal_id) = (' in done.stdout, done.stdout[-3000:]
    assert ") occurs 2 times" in done.stdout, done.stdout[-3000:]
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        rows, keys = con.execute("select count(*), count(distinct subgoal_id) from marts.dim_goal").fetchone()
    assert rows == keys > 0


def test_unsuppressed_small_cells_fail_the_disclosure_test(demo_run, tmp_path):
    settings, _ = demo_run
    project, env = broken_copy(tmp_path, settings.warehouse_path, "models/marts/fct_indicator_value.sql",
                               ") as is_small_cell,", ") and false as is_small_cell,")
    done = dbt(project, env, "build", "--select", "fct_indicator_value")  # with its tests
    assert done.returncode != 0
    assert "FAIL" in done.stdout and "disclosure_rule_fct_indicator_value" in done.stdout


def test_without_complementary_suppression_a_small_cell_is_recoverable_and_the_test_fails(demo_run, tmp_path):
    """A review worked out a withheld buurt (1 young person in youth care) as its wijk's total minus
    the published buurten: 212 such cells in the demo. With complementary suppression there are
    none; switched off, the dbt test finds them and names the wijk."""
    import duckdb

    settings, _ = demo_run
    # wijken with exactly one withheld buurt (for any reason, a '.' buurt, not_published, included)
    lone = """with c as (select *, 'WK' || substr(area_code, 3, 6) as wijk from marts.fct_indicator_value
                         where area_level = 'buurt')
              select count(*) from (select c.wijk, c.year, c.indicator_id from c
                  join marts.fct_indicator_value w on w.area_code = c.wijk and w.year = c.year
                   and w.indicator_id = c.indicator_id and not w.is_suppressed
                  group by all having count(*) filter (where c.is_suppressed) = 1)"""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute(lone).fetchone() == (0,)
        (complementary,) = con.execute("""select count(*) from marts.fct_indicator_value
                                          where suppression_reason = 'complementary'""").fetchone()
        assert complementary > 0
    project, env = broken_copy(tmp_path, settings.warehouse_path, "macros/complementary_suppression.sql",
                               "(c.suppressed_siblings = 1 or c.suppressed_siblings_ours = 1)", "false")
    # the unit tests of the macro fail too and would skip the model: the data test is what is shown here
    done = dbt(project, env, "build", "--select", "fct_indicator_value", "--exclude-resource-type", "unit_test")
    assert done.returncode != 0
    assert "FAIL" in done.stdout and "no_cell_recoverable_by_subtraction_fct_indicator_value" in done.stdout
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute(lone).fetchone()[0] > 100


# published parents with exactly one withheld child, that child a figure the source does not publish
# (CBS's '.', not_published): the parent minus its published children gives it back
LONE_NOT_PUBLISHED = """
    with c as (select *, case area_level when 'buurt' then 'WK' || substr(area_code, 3, 6)
                                         when 'wijk' then 'GM' || substr(area_code, 3, 4) end as parent
               from marts.fct_indicator_value)
    select c.parent, c.year, c.indicator_id from c
    join marts.fct_indicator_value p on p.area_code = c.parent and p.year = c.year
     and p.indicator_id = c.indicator_id and not p.is_suppressed
    group by all
    having count(*) filter (where c.is_suppressed) = 1 and bool_or(c.suppression_reason = 'not_published')"""


def test_without_counting_not_published_cells_a_cbs_withheld_buurt_is_recoverable_and_the_test_fails(demo_run, tmp_path):
    """A review worked out buurt BU99990703, whose income figures CBS does not publish ('.',
    not_published), as its wijk WK999907's CBS figure minus the six published buurten: the three
    income indicators in every year (30 cells; in 2024, 10 of its 175 households with a low
    income). Complementary suppression now counts the '.' cells as withheld children, so none is
    recoverable; counted as before (only the cells withheld by us), the dbt test finds them again."""
    import duckdb

    settings, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute(LONE_NOT_PUBLISHED).fetchall() == []
        # the sibling withheld for it says complementary; the '.' buurt keeps its own reason
        (protecting,) = con.execute("""select count(*) from marts.fct_indicator_value
                                       where area_code like 'BU999907%' and suppression_reason = 'complementary'
                                         and indicator_id in ('cbs_laag_inkomen_pct', 'cbs_sociaal_minimum_pct',
                                                              'cbs_inkomen_per_inwoner')""").fetchone()
        assert protecting >= 30
        (dots,) = con.execute("""select count(*) from marts.fct_indicator_value
                                 where area_code = 'BU99990703' and suppression_reason = 'not_published'""").fetchone()
        assert dots == 30  # three income indicators, ten years
    project, env = broken_copy(tmp_path, settings.warehouse_path, "macros/complementary_suppression.sql",
                               "(c.suppressed_siblings = 1 or c.suppressed_siblings_ours = 1)",
                               "c.suppressed_siblings_ours = 1")
    done = dbt(project, env, "build", "--select", "fct_indicator_value", "--exclude-resource-type", "unit_test")
    assert done.returncode != 0
    assert "FAIL" in done.stdout and "no_cell_recoverable_by_subtraction_fct_indicator_value" in done.stdout
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        recoverable = con.execute(LONE_NOT_PUBLISHED).fetchall()
    assert {parent for parent, _, _ in recoverable} == {"WK999907"}
    assert {indicator for _, _, indicator in recoverable} == {"cbs_laag_inkomen_pct", "cbs_sociaal_minimum_pct",
                                                              "cbs_inkomen_per_inwoner"}
    assert len(recoverable) == 30


def test_without_protecting_shared_denominators_a_small_one_is_recoverable_and_the_test_fails(demo_run, tmp_path):
    """A disclosure review worked out 7 births in a buurt from two indicators with the same
    denominator: the wijk's births minus the buurten one indicator publishes, minus a buurt the
    other publishes. Denominators below min_persons and their complementary cells are therefore
    withheld in every indicator with that denominator ('shared_denominator'); switched off, the dbt
    test no_denominator_recoverable_by_subtraction finds small ones again."""
    import duckdb

    settings, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        (shared,) = con.execute("""select count(*) from marts.fct_indicator_value
                                   where suppression_reason = 'shared_denominator'""").fetchone()
        assert shared > 0
    project, env = broken_copy(tmp_path, settings.warehouse_path, "models/marts/fct_indicator_value.sql",
                               "coalesce(bool_or(f.denominator < {{ min_persons }}), false) as is_suppressed",
                               "false as is_suppressed")
    done = dbt(project, env, "build", "--select", "fct_indicator_value")
    assert done.returncode != 0
    assert "FAIL" in done.stdout and "no_denominator_recoverable_by_subtraction_fct_indicator_value" in done.stdout


def test_averaging_percentages_fails_the_exact_aggregation_test(demo_run, tmp_path):
    settings, _ = demo_run
    project, env = broken_copy(tmp_path, settings.warehouse_path, "models/intermediate/int_indicator_value.sql",
                               "'wijk' as area_level,\n        sum(numerator) as numerator", "'wijk' as area_level,\n        avg(numerator) as numerator")
    done = dbt(project, env, "build", "--select", "int_indicator_value", "assert_aggregates_are_exact_sums_of_counts")
    assert done.returncode != 0 and "assert_aggregates_are_exact_sums_of_counts" in done.stdout


def test_the_small_cell_threshold_is_configurable(demo_run, tmp_path):
    settings, _ = demo_run
    project, env = copy_project(tmp_path, settings.warehouse_path)
    done = dbt(project, env, "build", "--select", "fct_indicator_value", "fct_indicator_series",
               "--vars", "{min_persons: 50}")  # with their tests, the disclosure rule among them
    assert "disclosure_rule_fct_indicator_series" in done.stdout
    assert done.returncode == 0, done.stdout
    import duckdb
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        (smallest,) = con.execute("select min(denominator) from marts.fct_indicator_value where not is_suppressed").fetchone()
    assert smallest >= 50


def test_dbt_docs_generate(demo_run, tmp_path):
    settings, _ = demo_run
    project, env = copy_project(tmp_path, settings.warehouse_path)
    done = dbt(project, env, "docs", "generate", "--target-path", str(tmp_path / "docs"))
    assert done.returncode == 0, done.stdout
    assert (tmp_path / "docs" / "index.html").exists() and (tmp_path / "docs" / "catalog.json").exists()


def test_a_code_without_a_dutch_label_fails_the_label_test(demo_run, tmp_path):
    """Policy advisers read Dutch labels (marts.dim_code_label), not the marts' English codes: a code
    that occurs in a labelled mart column without a row in seeds/factor_model/code_labels.csv fails
    the dbt test code_has_label on every column where it occurs, naming the code."""
    settings, _ = demo_run
    project, env = broken_copy(tmp_path, settings.warehouse_path, "seeds/factor_model/code_labels.csv",
                               "direction,higher_is_worse,2,Hoger is slechter,Een hogere waarde is ongunstig.\n", "")
    done = dbt(project, env, "build", "--select", "code_labels", "dim_code_label", "test_name:code_has_label")
    assert done.returncode != 0
    failed = {line.split(" FAIL ")[1].split()[1] for line in done.stdout.splitlines() if " FAIL " in line and " of " in line}
    assert failed == {"code_has_label_dim_indicator_direction__direction",
                      "code_has_label_mart_staat_van_de_jeugd_direction__direction",
                      "code_has_label_mart_staat_van_de_jeugd_report_direction__direction"}, done.stdout[-3000:]
