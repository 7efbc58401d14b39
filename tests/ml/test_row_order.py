"""The ML stage does not depend on the order in which DuckDB returns rows.

DuckDB scans large tables in parallel and returns their rows in a different order from run to
run; sums over rows then differ in the last bits. The loaders sort, so the same warehouse with its
rows stored in another order gives the same panels, associations and chain estimates, to the bit.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from models_ml import chains
from models_ml.associations import estimate_associations
from models_ml.panel import build_panels

TABLES = ["factor_model.indicators", "factor_model.factors", "factor_model.factor_subgoal_links",
          "factor_model.factor_factor_links",
          "intermediate.int_indicator_value", "intermediate.int_factor_score", "marts.dim_area"]


@pytest.fixture(scope="module")
def shuffled(demo_run, tmp_path_factory):
    """A copy of the tables the ML stage reads, every table's rows stored in a random order."""
    settings, _ = demo_run
    path = tmp_path_factory.mktemp("shuffled") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(f"attach '{settings.warehouse_path}' as src (read_only)")
        for t in TABLES:
            schema = t.split(".")[0]
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {t} as select * from src.{t} order by hash(random())")
        con.execute("detach src")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as a, \
            duckdb.connect(str(path), read_only=True) as b:
        yield a, b


def test_the_copy_really_is_in_another_order(shuffled):
    a, b = shuffled
    q = "select area_code, year, factor_id from intermediate.int_factor_score limit 50"
    assert not a.execute(q).df().equals(b.execute(q).df())


def test_panels_and_associations_do_not_depend_on_row_order(shuffled):
    a, b = shuffled
    pa, pb = build_panels(a), build_panels(b)
    assert [p.outcome_indicator_id for p in pa] == [p.outcome_indicator_id for p in pb]
    for x, y in zip(pa, pb):
        pd.testing.assert_frame_equal(x.data, y.data, check_exact=True)
    pd.testing.assert_frame_equal(estimate_associations(pa), estimate_associations(pb), check_exact=True)


def test_chains_do_not_depend_on_row_order(shuffled):
    a, b = shuffled
    links = "select * from factor_model.factor_factor_links order by link_id"
    sa, sb = chains.load_scores(a), chains.load_scores(b)
    pd.testing.assert_frame_equal(sa, sb, check_exact=True)
    ca = chains.estimate_chains(a.execute(links).df(), sa, sa)
    cb = chains.estimate_chains(b.execute(links).df(), sb, sb)
    pd.testing.assert_frame_equal(ca, cb, check_exact=True)
