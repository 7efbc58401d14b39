"""Benchmark: wall time and peak memory of the full demo run, as the README's run command does it.

Runs ``dagster asset materialize --select '*' --partition-range 2015...2024`` (every asset, every
year of the partitioned sources, one run) in a fresh process against a temporary data folder and
Dagster home (so nothing of an earlier run is reused), then prints:

- wall time of the whole run and peak resident memory of the run process tree (children);
- rows loaded per source and the size of the warehouse file.

Usage: ``make bench`` or ``.venv/bin/python benchmarks/demo_run.py [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEMO_YEARS = "2015...2024"  # the demo's year partitions (python -m pipelines.years)


def run_demo(data_dir: Path) -> tuple[float, float]:
    """Materialise every asset; return (wall seconds, peak RSS of the child processes in MiB)."""
    home = data_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "FACTORENMODEL_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(home)}
    start = time.perf_counter()
    subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "--select", "*", "--partition-range", DEMO_YEARS,
         "-m", "pipelines.definitions"],
        cwd=PROJECT_DIR, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    wall = time.perf_counter() - start
    # ru_maxrss of waited-for children: the largest of them (the run and its dbt subprocess), in KiB on Linux
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak_mib


def warehouse_rows(path: Path) -> list[tuple[str, int]]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('raw', 'quarantine') order by 1"
        ).fetchall()
        return [(t, con.execute(f"select count(*) from {t}").fetchone()[0]) for (t,) in tables]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="factorenmodel-bench-") as tmp:
        data_dir = (args.keep or Path(tmp)).resolve()
        wall, peak = run_demo(data_dir)
        warehouse = data_dir / "warehouse.duckdb"
        print(f"Full demo run (dagster asset materialize --select '*' --partition-range {DEMO_YEARS}), Demostad GM9999")
        print(f"  wall time            {wall:8.1f} s")
        print(f"  peak memory (RSS)    {peak:8.0f} MiB  (largest process of the run)")
        print(f"  warehouse file       {warehouse.stat().st_size / 2**20:8.1f} MiB")
        for table, rows in warehouse_rows(warehouse):
            print(f"  {table:<36} {rows:>8} rows")


if __name__ == "__main__":
    main()
