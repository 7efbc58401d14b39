"""The serving copy documents itself: every published mart and column carries its dbt description
as a comment (persist_docs), so a BI tool shows what it means. A review found every comment NULL."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.publish import CURRENT, DATABASE_FILE

pytestmark = pytest.mark.slow


def test_every_served_table_and_column_has_its_description(demo_run):
    settings, result = demo_run
    assert result.success
    with duckdb.connect(str(settings.serving_dir / CURRENT / DATABASE_FILE), read_only=True) as con:
        tables = con.execute("select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall()
        assert len(tables) >= 10
        assert [t for t, comment in tables if not comment] == []
        undocumented = con.execute("""select table_name || '.' || column_name from duckdb_columns()
                                      where schema_name = 'marts' and (comment is null or comment = '')""").fetchall()
        assert undocumented == []
        (comment,) = con.execute("""select comment from duckdb_columns() where schema_name = 'marts'
                                    and table_name = 'mart_factor_ranking' and column_name = 'p_top5'""").fetchone()
        assert "top 5" in comment


def test_the_release_says_what_its_data_are(demo_run):
    """meta.about: synthetic or real, gemeenten, years per source, pipeline version and the settings
    behind the figures; the meta tables are documented like the marts (a BI review found neither)."""
    settings, result = demo_run
    assert result.success
    with duckdb.connect(str(settings.serving_dir / CURRENT / DATABASE_FILE), read_only=True) as con:
        about = {k: v for k, v, _ in con.execute("select key, value, description from meta.about").fetchall()}
        (first, last) = con.execute("select min(year), max(year) from marts.fct_indicator_value").fetchone()
        undocumented = con.execute("""select table_name || '.' || column_name from duckdb_columns()
                                      where schema_name = 'meta' and (comment is null or comment = '')""").fetchall()
    assert about["synthetic"] == "yes" and about["gemeenten"] == "GM9999" and about["municipality"] == "Demostad"
    assert about["data_years"] == f"{first}-{last}"
    assert "ggd_monitor 2015-2024" in about["data_years_by_source"]
    assert about["min_persons"] == "10" and about["baseline_year"] == "first year of the data"
    assert about["pipeline_version"] not in ("", "unknown")
    assert undocumented == []
    with duckdb.connect(str(settings.serving_dir / CURRENT / DATABASE_FILE), read_only=True) as con:
        quality = con.execute("select mart, success, expectations, failed from meta.quality").fetchall()
        marts = {t for (t,) in con.execute("select table_name from meta.tables").fetchall()}
    assert {m for m, *_ in quality} == marts  # every published mart has a suite, and its result is there
    assert all(ok and n > 0 and failed == 0 for _, ok, n, failed in quality)
    manifest = (settings.serving_dir / CURRENT / "manifest.json").read_text("utf-8")
    assert '"synthetic": "yes"' in manifest
