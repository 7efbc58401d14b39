"""The suites on the demo pipeline's warehouse: every mart has one, all pass, Data Docs are built."""

from __future__ import annotations

import pytest

from pipelines.defs.quality import CHECK_NAME
from pipelines.quality import suite_marts, warehouse_marts

pytestmark = pytest.mark.slow


def test_every_table_in_schema_marts_has_a_suite(demo_run):
    settings, _ = demo_run
    tables = warehouse_marts(settings.warehouse_path)
    assert "fct_indicator_value" in tables
    missing = sorted(set(tables) - set(suite_marts()))
    assert not missing, f"published marts without a Great Expectations suite: {missing} (see expectations/README.md)"


def test_every_suite_passes_as_a_blocking_check_in_the_demo_run(demo_run):
    settings, result = demo_run
    evaluations = {
        e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations() if e.check_name == CHECK_NAME
    }
    assert set(evaluations) == set(warehouse_marts(settings.warehouse_path))
    failed = {m: e.description for m, e in evaluations.items() if not e.passed}
    assert not failed
    for mart, evaluation in evaluations.items():
        assert evaluation.blocking, mart
        assert evaluation.metadata["expectations_evaluated"].value >= 5
        assert evaluation.metadata["expectations_failed"].value == 0
        assert evaluation.metadata["data_docs"].value.startswith("file://")
    assert result.success
    assert result.asset_materializations_for_node("serving_copy")


def test_data_docs_index_and_a_page_per_mart_exist_after_the_run(demo_run):
    settings, _ = demo_run
    index = settings.data_docs_dir / "index.html"
    assert index.is_file()
    html = index.read_text(encoding="utf-8")
    for mart in warehouse_marts(settings.warehouse_path):
        assert mart in html
        assert list((settings.data_docs_dir / "validations" / mart).rglob("*.html")), mart
