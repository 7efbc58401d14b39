"""publish_marts writes a complete, read-only serving copy of every mart and swaps it in."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import duckdb
import pytest
import sqlalchemy as sa

from pipelines.publish import PublishError, current_release, publish_marts
from pipelines.settings import PROJECT_DIR
from tests.publish.marts import expected_rows, write_warehouse


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    write_warehouse(path, version=1)
    return path


def test_every_mart_is_published_with_identical_rows_in_duckdb_and_parquet(warehouse, tmp_path):
    serving = tmp_path / "serving"
    result = publish_marts(warehouse, serving, "run-1")

    expected = expected_rows(1)
    assert result.row_counts == expected
    assert current_release(serving) == result.release_dir
    with duckdb.connect(str(warehouse), read_only=True) as wh:
        source = {t: wh.execute(f"select * from marts.{t} order by all").fetchall() for t in expected}
    with duckdb.connect(str(serving / "current" / "factorenmodel.duckdb"), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name='marts'").fetchall()}
        assert tables == set(expected), "every table and view of marts, and nothing else"
        for table, rows in source.items():
            assert con.execute(f"select * from marts.{table} order by all").fetchall() == rows, table
        assert con.execute("select run_id from meta.release").fetchone() == ("run-1",)
        # the warehouse by file name, not by its path on the server (a disclosure review's finding)
        assert con.execute("select warehouse from meta.release").fetchone() == (warehouse.name,)
        assert dict(con.execute("select * from meta.tables").fetchall()) == expected
        # dbt documentation (persist_docs comments) survives for BI tools
        assert con.execute("select comment from duckdb_tables() where table_name='dim_area'").fetchone() == (
            "Areas: buurten, wijken, gemeenten",)
        for table, rows in source.items():
            parquet = serving / "current" / "parquet" / f"{table}.parquet"
            assert con.execute(f"select * from read_parquet('{parquet}') order by all").fetchall() == rows, table


def test_manifest_records_counts_sizes_and_checksums(warehouse, tmp_path):
    result = publish_marts(warehouse, tmp_path / "serving", "run-1")
    manifest = json.loads((result.release_dir / "manifest.json").read_text())
    assert manifest["run_id"] == "run-1" and manifest["warehouse"] == warehouse.name  # no server path
    assert {name: t["rows"] for name, t in manifest["tables"].items()} == expected_rows(1)
    database = result.release_dir / "factorenmodel.duckdb"
    assert manifest["database"]["sha256"] == hashlib.sha256(database.read_bytes()).hexdigest()
    for name, table in manifest["tables"].items():
        data = (result.release_dir / table["parquet"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (table["parquet_bytes"], table["parquet_sha256"]), name
    assert not list(result.release_dir.glob("*.wal")), "a release is a single self-contained file"


@pytest.mark.parametrize("url_style", ["access_mode query", "connect_args"])
def test_sqlalchemy_duckdb_engine_reads_every_mart_read_only(warehouse, tmp_path, url_style):
    serving = tmp_path / "serving"
    publish_marts(warehouse, serving, "run-1")
    path = (serving / "current" / "factorenmodel.duckdb").absolute()
    if url_style == "access_mode query":  # the form for Superset / Metabase connection strings
        engine = sa.create_engine(f"duckdb:///{path}?access_mode=read_only")
    else:
        engine = sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True})
    try:
        with engine.connect() as con:
            marts = sa.inspect(con).get_table_names(schema="marts") + sa.inspect(con).get_view_names(schema="marts")
            assert set(marts) == set(expected_rows(1))
            for mart, rows in expected_rows(1).items():
                assert con.execute(sa.text(f"select count(*) from marts.{mart}")).scalar_one() == rows
        with engine.connect() as con, pytest.raises(sa.exc.DBAPIError, match="read-only"):
            con.execute(sa.text("create table marts.scribble (x int)"))
    finally:
        engine.dispose()


def test_only_the_newest_releases_are_kept_and_current_is_never_removed(warehouse, tmp_path):
    serving = tmp_path / "serving"
    results = []
    for version in range(1, 6):
        write_warehouse(warehouse, version)
        results.append(publish_marts(warehouse, serving, f"run-{version}", keep=3))
    kept = sorted(p.name for p in (serving / "releases").iterdir())
    assert kept == [r.release_dir.name for r in results[-3:]]
    assert os.readlink(serving / "current") == f"releases/{results[-1].release_dir.name}"
    assert results[-1].previous_release == results[-2].release_dir
    with duckdb.connect(str(serving / "current" / "factorenmodel.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_indicator_value").fetchone()[0] == expected_rows(5)[
            "fct_indicator_value"]


def test_a_reader_holding_a_connection_keeps_its_release_while_newer_ones_replace_it(warehouse, tmp_path):
    serving = tmp_path / "serving"
    first = publish_marts(warehouse, serving, "run-1", keep=1)
    with duckdb.connect(str(serving / "current" / "factorenmodel.duckdb"), read_only=True) as held:
        for version in (2, 3):
            write_warehouse(warehouse, version)
            publish_marts(warehouse, serving, f"run-{version}", keep=1)
        assert not first.release_dir.exists(), "the old release was removed from disk"
        assert held.execute("select count(*) from marts.dim_area").fetchone()[0] == expected_rows(1)["dim_area"]
        assert held.execute("select run_id from meta.release").fetchone() == ("run-1",)


def test_nothing_to_publish_is_refused_and_keeps_the_serving_copy(warehouse, tmp_path):
    serving = tmp_path / "serving"
    good = publish_marts(warehouse, serving, "run-1")
    with duckdb.connect(str(warehouse)) as con:
        for table in ("dim_area", "fct_indicator_value", "mart_staat_van_de_jeugd"):
            con.execute(f"drop table marts.{table} cascade")
        con.execute("drop view if exists marts.v_area_names")
    with pytest.raises(PublishError, match="holds no tables"):
        publish_marts(warehouse, serving, "run-2")
    assert current_release(serving) == good.release_dir
    assert [p.name for p in (serving / "releases").iterdir()] == [good.release_dir.name]


def test_a_warehouse_open_for_writing_in_another_process_is_refused_cleanly(warehouse, tmp_path):
    serving = tmp_path / "serving"
    good = publish_marts(warehouse, serving, "run-1")
    writer = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)",
         str(warehouse)],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "open"
        with pytest.raises(PublishError, match="read-only"):
            publish_marts(warehouse, serving, "run-2")
    finally:
        writer.kill()
        writer.wait()
    assert current_release(serving) == good.release_dir
    assert [p.name for p in (serving / "releases").iterdir()] == [good.release_dir.name]
