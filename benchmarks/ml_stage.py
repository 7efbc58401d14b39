"""Benchmark: wall time and peak memory of the ML stage (models_ml) on a filled warehouse.

Times each step as the Dagster assets run it: building the outcome panels, the local
associations, the chain strengths, the merge with literature weights, the ranking with 1,000 Monte
Carlo draws (city-wide, per domain, per life phase, per wijk), and the model comparison (every
estimator in models_ml/estimators). For every step: wall time, CPU time of this process, and the
peak resident memory during the step (polled from /proc every 0.05 s); at the end the peak of the
whole process (ru_maxrss). The panels are built once here and shared by the steps; the Dagster
assets build them three times (association_local and each model_* asset run in their own process).

Targets: issue 4, under 60 s on the demo data with 1,000 draws; national scale, that it finishes
(a few minutes, under 8 GiB).

Usage:
  .venv/bin/python benchmarks/ml_stage.py                       # the warehouse of `make run`
  .venv/bin/python benchmarks/ml_stage.py --warehouse DIR/warehouse.duckdb
  .venv/bin/python benchmarks/ml_stage.py --national            # national scale (data/national)
  .venv/bin/python benchmarks/ml_stage.py --national DIR --comparison
``--national [DIR]`` uses the national SYNTHETIC warehouse ``DIR/data/warehouse.duckdb`` (default
DIR: data/national); if it does not exist, it is built first with ``benchmarks/national_run.py
--keep DIR --stages ingest,transform`` (about 4 minutes and 3 GiB on 2 cores; not part of the
figures). At national scale the model comparison is skipped unless ``--comparison`` is given.
The warehouse is opened read-only; nothing is written.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from models_ml import associations, chains, comparison, merge, ranking, ranking_model  # noqa: E402
from models_ml.estimators import discover  # noqa: E402
from models_ml.panel import build_panels  # noqa: E402

DEMO_TARGET_SECONDS = 60
NATIONAL_TARGET_MIB = 8 * 1024
PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE_MIB


class Steps:
    """Wall time, CPU time and peak RSS of each step."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, float]] = []

    def run(self, name: str, fn):
        peak = _rss_mib()
        done = threading.Event()

        def poll() -> None:
            nonlocal peak
            while not done.wait(0.05):
                peak = max(peak, _rss_mib())

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn()
        finally:
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            done.set()
            poller.join()
            self.rows.append((name, wall, cpu, max(peak, _rss_mib())))


def build_national(root: Path) -> Path:
    warehouse = root / "data" / "warehouse.duckdb"
    if not warehouse.is_file():
        print(f"{warehouse} does not exist: building it with benchmarks/national_run.py "
              f"--keep {root} --stages ingest,transform (about 4 minutes) ...", flush=True)
        subprocess.run([sys.executable, str(PROJECT_DIR / "benchmarks" / "national_run.py"), "--keep", str(root),
                        "--stages", "ingest,transform"], cwd=PROJECT_DIR, check=False)
        if not warehouse.is_file():
            sys.exit(f"building the national warehouse failed: {warehouse} is missing (see {root}/*.log)")
    return warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=PROJECT_DIR / "data" / "warehouse.duckdb")
    parser.add_argument("--national", nargs="?", type=Path, const=PROJECT_DIR / "data" / "national", metavar="DIR",
                        help="national scale: the warehouse of benchmarks/national_run.py --keep DIR (built if missing)")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--comparison", action="store_true", help="run the model comparison (default: not at national scale)")
    parser.add_argument("--no-comparison", action="store_true", help="skip the model comparison")
    args = parser.parse_args()
    warehouse = build_national(args.national.resolve()) if args.national else args.warehouse
    if not warehouse.is_file():
        sys.exit(f"{warehouse} does not exist: run `make run` first, or pass --warehouse / --national")
    run_comparison = not args.no_comparison and (args.comparison or not args.national)
    load_before = os.getloadavg()[0]
    steps = Steps()

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        panels = steps.run("panels", lambda: build_panels(con))
    except (duckdb.BinderException, duckdb.CatalogException) as exc:  # a warehouse of an older pipeline version
        rebuild = (f"delete {args.national.resolve()} and run this again (it is rebuilt, about 7 minutes)" if args.national
                   else "run `make run` again")
        sys.exit(f"{warehouse} lacks a table or column that the ML stage reads; it was built by an older version "
                 f"of the pipeline: {rebuild}.\n({type(exc).__name__}: {str(exc).splitlines()[0]})")
    assoc, local_cov = steps.run("associations", lambda: associations.estimate_associations_with_covariance(panels))
    scores = steps.run("association scores for the chains", lambda: chains.load_scores(con))
    chain, chain_cov = steps.run("chains", lambda: chains.estimate_chains_with_covariance(
        chains.load_links(con), scores, scores))  # chains.estimate_from_warehouse, its two steps timed apart
    literature = merge.load_literature(con)

    def merge_with_covariance():
        merged = merge.merge_effects(assoc, literature)
        return merged, merge.merged_covariance(assoc, local_cov, literature, merged)

    merged, merged_cov = steps.run("merge", merge_with_covariance)
    factor_model = ranking.load_factor_model(con)
    model = ranking_model.build_model(factor_model.factors, factor_model.subgoals, merged, chain, merged_cov, chain_cov)
    published = steps.run("read published wijk scores", lambda: ranking.load_scores(con))
    city, areas = steps.run(f"ranking ({args.draws} draws)", lambda: ranking.rank_factors(
        model, published, factor_model.life_phases, ranking.RankingConfig(n_draws=args.draws)))
    if run_comparison:
        for spec in discover():
            steps.run(f"comparison: {spec.name}", lambda spec=spec: comparison.evaluate(spec, panels))
    gemeenten, wijken, buurten = con.execute(
        "select count(distinct gemeente_code), count(*) filter (where area_level = 'wijk' and is_current), "
        "count(*) filter (where area_level = 'buurt' and is_current) from marts.dim_area").fetchone()
    panel_rows = sum(len(p.data) for p in panels)
    print(f"ML stage on {warehouse}")
    print(f"  {gemeenten} gemeenten, {wijken:,} wijken, {buurten:,} buurten; {len(panels)} outcomes "
          f"({panel_rows:,} panel rows), {len(assoc)} association rows, ranking rows {len(city):,} "
          f"+ {len(areas):,} per wijk; {os.cpu_count()} CPUs, load average {load_before:.1f} at the start "
          f"and {os.getloadavg()[0]:.1f} at the end (a shared machine makes wall time longer than CPU time)")
    print(f"  {'step':<34}{'wall s':>9}{'CPU s':>9}{'peak RSS MiB':>14}")
    for name, wall, cpu, peak in steps.rows:
        print(f"  {name:<34}{wall:>9.1f}{cpu:>9.1f}{peak:>14.0f}")
    total_wall, total_cpu = sum(r[1] for r in steps.rows), sum(r[2] for r in steps.rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  {'total':<34}{total_wall:>9.1f}{total_cpu:>9.1f}{peak:>14.0f}  (peak: ru_maxrss of the process)")
    if args.national:
        verdict = "finished" + (" within 8 GiB" if peak < NATIONAL_TARGET_MIB else ", OUTSIDE 8 GiB")
    else:
        verdict = (f"{'within' if total_wall < DEMO_TARGET_SECONDS else 'OUTSIDE'} the target of issue 4 "
                   f"(< {DEMO_TARGET_SECONDS} s on the demo data with 1,000 draws)")
    print(f"  {verdict}{'' if run_comparison else '; model comparison not run'}")


if __name__ == "__main__":
    main()
