"""Print where the results of a run are and what the warehouse holds (read-only)."""

from __future__ import annotations

import os

import duckdb

from pipelines.settings import PROJECT_DIR, load_settings


def warehouse_tables(path: str) -> list[tuple[str, str, int]]:
    with duckdb.connect(path, read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog') order by 1, 2"
        ).fetchall()
        return [(s, t, con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]) for s, t in tables]


def main() -> None:
    settings = load_settings()
    print("\nFactorenmodel: run finished. Results:")
    print(f"  warehouse (DuckDB):   {settings.warehouse_path}")
    if settings.is_demo:
        print(f"  demo extracts:        {settings.extract_dir}  (SYNTHETIC: Demostad, GM9999)")
        print(f"  demo ground truth:    {settings.demo_dir / 'ground_truth'}")
    print(f"  serving copy for BI:  {settings.serving_dir / 'current' / 'factorenmodel.duckdb'}  (read-only; Parquet in current/parquet/)")
    print(f"  data quality docs:    {settings.data_docs_dir}  (Great Expectations Data Docs)")
    print(f"  Dagster run history:  {os.environ.get('DAGSTER_HOME') or PROJECT_DIR / '.dagster_home'}  (open with: make ui)")
    print("\n  schema.table                                   rows")
    for schema, table, rows in warehouse_tables(str(settings.warehouse_path)):
        print(f"  {schema + '.' + table:<45} {rows:>7}")


if __name__ == "__main__":
    main()
