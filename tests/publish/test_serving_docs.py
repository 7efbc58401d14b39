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
