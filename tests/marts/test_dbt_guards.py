"""dbt's own guards can fail: a mart that breaks its contract, or a model that breaks a data test."""

from __future__ import annotations

import pytest

from tests.marts.dbt_copy import copy_project, dbt

pytestmark = pytest.mark.slow


def test_a_mart_that_breaks_its_contract_fails_the_build(demo_run, tmp_path):
    settings, _ = demo_run
    project, env = copy_project(tmp_path, settings.warehouse_path)
    sql = project / "models/marts/dim_goal.sql"
    original = sql.read_text()
    broken = original.replace("s.sort_order,", "s.sort_order::varchar as sort_order,")
    assert broken != original
    sql.write_text(broken)
    done = dbt(project, env, "run", "--select", "dim_goal")
    assert done.returncode != 0
    assert "contract" in done.stdout.lower() and "sort_order" in done.stdout


def test_unsuppressed_small_cells_fail_the_disclosure_test(demo_run, tmp_path):
    settings, _ = demo_run
    project, env = copy_project(tmp_path, settings.warehouse_path)
    sql = project / "models/marts/fct_indicator_value.sql"
    original = sql.read_text()
    broken = original.replace(") as is_suppressed\n    from v", ") and false as is_suppressed\n    from v")
    assert broken != original
    sql.write_text(broken)
    done = dbt(project, env, "build", "--select", "fct_indicator_value")  # with its tests
    assert done.returncode != 0
    assert "FAIL" in done.stdout and "disclosure_rule_fct_indicator_value" in done.stdout


def test_averaging_percentages_fails_the_exact_aggregation_test(demo_run, tmp_path):
    settings, _ = demo_run
    project, env = copy_project(tmp_path, settings.warehouse_path)
    sql = project / "models/intermediate/int_indicator_value.sql"
    original = sql.read_text()
    broken = original.replace("'wijk' as area_level,\n        sum(numerator) as numerator", "'wijk' as area_level,\n        avg(numerator) as numerator")
    assert broken != original
    sql.write_text(broken)
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
