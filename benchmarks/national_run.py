"""Benchmark: the pipeline on a national-scale SYNTHETIC input, stage by stage.

Generates ``DemoConfig.national()`` (350 synthetic gemeenten GM9001-GM9350, 3,290 wijken, about
14,000 buurten, 2015-2024, all sources) into a temporary folder, then materialises the pipeline
in three stages, each a fresh ``dagster asset materialize`` process against a fresh data folder
and Dagster home:

- ingest:    ``group:sources`` (the raw.* assets: contract checks and loading);
- transform: the dbt build (``group:factor_model or group:staging or group:marts``);
- ml:        ``group:ml`` (associations, merge, ranking, model comparison and the ML marts);
- publish:   ``group:publish`` (the serving copy), if the asset exists.

With ``--one-run`` the stages chosen run instead as one ``dagster asset materialize`` process, as
``make run`` runs the pipeline (one process, one Dagster run): the figures are then the whole run's
wall time and peak memory, and each step's duration as Dagster logs it. The stage-by-stage figures
add three process start-ups (Python, the definitions, a fresh Dagster home: about 10 s each).

A stage that fails does not stop the later ones (they are measured on what exists); its log's
error lines are printed and the exit code is 1.

For every stage it prints the wall time and two peak-memory figures: the largest single process
(``ru_maxrss`` from ``wait4``, which covers the stage process and every process it waited for,
such as dbt) and the largest sum of RSS over the whole process tree, polled from ``/proc`` every
0.1 s. The target of issue 3 is under 3 minutes and under 4 GB for the whole national run on a
2-core machine.

Usage: ``make bench-national`` or ``.venv/bin/python benchmarks/national_run.py [--keep DIR] [--one-run]``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(PROJECT_DIR))

from pipelines.demo.generator import DemoConfig, generate_demo  # noqa: E402
from pipelines.demo.geography import build_geography  # noqa: E402

STAGES = (
    ("ingest", "group:sources"),
    ("transform", "group:factor_model or group:staging or group:marts"),
    ("ml", "group:ml"),
    ("publish", "group:publish"),
)
TARGET_SECONDS, TARGET_MIB = 180, 4096
TARGET_STAGES = {"ingest", "transform", "publish"}
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class StageResult:
    name: str
    selection: str
    status: str  # ok | failed | not available
    wall_s: float = 0.0
    peak_process_mib: float = 0.0
    peak_tree_mib: float = 0.0
    error: str = ""


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _tree_rss_kib(root: int) -> int:
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE_KIB
        except OSError:
            pass
    return total


def run_measured(cmd: list[str], env: dict[str, str], log: Path) -> tuple[int, float, float, float]:
    """Run ``cmd``; return (exit code, wall s, peak RSS of the largest process MiB, peak RSS of the tree MiB)."""
    peak_tree = 0
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()

        def poll() -> None:
            nonlocal peak_tree
            while not done.is_set():
                peak_tree = max(peak_tree, _tree_rss_kib(proc.pid))
                done.wait(0.1)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_maxrss / 1024, peak_tree / 1024


def asset_keys(env: dict[str, str]) -> list[str]:
    listing = subprocess.run(
        [str(BIN / "dagster"), "asset", "list", "-m", "pipelines.definitions"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=True,
    )
    return [line.strip() for line in listing.stdout.splitlines() if line.strip()]


def _last_lines(path: Path, n: int = 12) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = [line for line in lines if "ERROR" in line or "Error" in line or "error" in line.lower()[:80]]
    return "\n".join((errors[-8:] if errors else []) + lines[-n:])


_DURATION = re.compile(r'Finished execution of step "([^"]+)" in ([0-9hms.]+?)\.?(?:\s|$)', re.MULTILINE)
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> float:
    """Seconds of a duration as Dagster writes it: '850ms', '56.14s', '2m22s', '1h3m'."""
    parts = re.findall(r"([\d.]+)(ms|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Dagster duration: {text!r}")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def step_seconds(log: Path) -> dict[str, float]:
    """Each step's duration in a ``dagster asset materialize`` log, in the order the steps ended."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return {step: parse_duration(duration) for step, duration in _DURATION.findall(text)}


def warehouse_summary(path: Path) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not path.exists():
        return out
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'quarantine') or table_schema like '%marts' order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            out.append((f"{schema}.{table}", f"{rows:,}"))
        for schema, table in tables:
            if table == "fct_indicator_value":
                columns = {c for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                    [schema, table]).fetchall()}
                if "indicator_id" in columns:
                    n = con.execute(f'select count(distinct indicator_id) from "{schema}"."{table}"').fetchone()[0]
                    out.append((f"indicators in {schema}.{table}", str(n)))
    return out


def materialize_command(selection: str, config: DemoConfig, with_sources: bool) -> list[str]:
    """``dagster asset materialize`` of ``selection``; the sources are partitioned by year, so a run
    that includes them covers every year of the input."""
    years = ["--partition-range", f"{config.first_year}...{config.last_year}"] if with_sources else []
    return [str(BIN / "dagster"), "asset", "materialize", "--select", selection, *years, "-m", "pipelines.definitions"]


def one_run(root: Path, env: dict[str, str], config: DemoConfig, stages: list[tuple[str, str]],
            gen_seconds: float) -> int:
    """The stages as one Dagster run in one process; prints its figures and each step's duration."""
    names = [name for name, _ in stages]
    selection = " or ".join(sel for _, sel in stages)
    print(f"One run ({'+'.join(names)}): dagster asset materialize --select '{selection}' ...", flush=True)
    log = root / "one_run.log"
    code, wall, peak_proc, peak_tree = run_measured(materialize_command(selection, config, "ingest" in names), env, log)
    steps = step_seconds(log)
    print()
    print("National SYNTHETIC run: 350 gemeenten, 2015-2024, as one Dagster run "
          f"({os.cpu_count()} CPUs; target: whole run < {TARGET_SECONDS} s and < {TARGET_MIB / 1024:.0f} GiB)")
    print(f"  generate          {gen_seconds:8.1f} s (not part of the run)")
    for step, seconds in steps.items():
        print(f"  step {step:<40} {seconds:8.1f} s")
    print(f"  steps together    {sum(steps.values()):8.1f} s; the rest (start-up, run bookkeeping) "
          f"{wall - sum(steps.values()):.1f} s")
    status = "ok" if code == 0 else f"failed (exit {code})"
    print(f"run total ({'+'.join(names)}): {status}, {wall:.1f} s, peak process {peak_proc:.0f} MiB, "
          f"peak tree {peak_tree:.0f} MiB")
    complete = code == 0 and set(names) == TARGET_STAGES
    if code == 0:
        verdict = "within" if wall < TARGET_SECONDS and peak_tree < TARGET_MIB else "OUTSIDE"
        print(f"{verdict} the target{'' if complete else ' (for the stages run; not all of them)'}")
    else:  # a failed run's time says nothing about the target
        print("no verdict: the run failed")
        print(f"\n--- the run failed; last lines of {log} ---\n{_last_lines(log)}")
    return 0 if complete else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=20150101)
    parser.add_argument("--only-generate", action="store_true", help="generate the input, time it, and stop")
    parser.add_argument("--stages", default=",".join(name for name, _ in STAGES),
                        help="comma-separated stages to run (default: all; issue 3's target covers ingest,transform,publish)")
    parser.add_argument("--one-run", action="store_true",
                        help="run the stages chosen as one dagster asset materialize process, as make run does")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="factorenmodel-national-") as tmp:
        root = (args.keep or Path(tmp)).resolve()
        root.mkdir(parents=True, exist_ok=True)
        config = DemoConfig.national()

        print(f"Generating the national SYNTHETIC input into {root / 'input'} ...", flush=True)
        start = time.perf_counter()
        generated = generate_demo(root / "input", seed=args.seed, config=config)
        gen_seconds = time.perf_counter() - start
        if args.only_generate:
            print(f"  generated in {gen_seconds:.1f} s")
            return 0
        geo = build_geography(config)
        buurten = [len(geo.division(year).codes) for year in (config.first_year, config.last_year)]
        print(f"  {len(geo.gemeenten)} gemeenten, {len(geo.wijken):,} wijken, {buurten[0]:,}-{buurten[1]:,} buurten, "
              f"{len(config.years)} years; {len(generated.rows_per_file)} extract files, "
              f"{sum(generated.rows_per_file.values()):,} rows; {gen_seconds:.1f} s", flush=True)

        data_dir, home = root / "data", root / "dagster_home"
        data_dir.mkdir(exist_ok=True)
        home.mkdir(exist_ok=True)
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {
            **os.environ,
            "FACTORENMODEL_DATA_DIR": str(data_dir),
            "FACTORENMODEL_EXTRACT_DIR": str(generated.extract_dir),
            "FACTORENMODEL_GEMEENTEN": ",".join(config.gemeente_codes),
            # the years of the input: one partition each; the ingest stage loads them all in one run
            "FACTORENMODEL_FIRST_YEAR": str(config.first_year),
            "FACTORENMODEL_LAST_YEAR": str(config.last_year),
            "DAGSTER_HOME": str(home),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        env.pop("FACTORENMODEL_WAREHOUSE", None)
        keys = asset_keys(env)
        groups = {
            "ingest": any(k.startswith("raw/") for k in keys),
            "transform": any(k.startswith(("staging/", "intermediate/", "marts/")) for k in keys),
            "ml": any(k.startswith("ml/") for k in keys),
            "publish": "serving_copy" in keys,
        }

        results: list[StageResult] = []
        wanted = set(args.stages.split(","))
        if args.one_run:
            return one_run(root, env, config, [(n, sel) for n, sel in STAGES if n in wanted and groups[n]], gen_seconds)
        for name, selection in STAGES:
            if name not in wanted:
                continue
            if not groups[name]:
                results.append(StageResult(name, selection, "not yet available"))
                continue
            print(f"Stage {name}: dagster asset materialize --select '{selection}' ...", flush=True)
            log = root / f"{name}.log"
            code, wall, peak_proc, peak_tree = run_measured(materialize_command(selection, config, name == "ingest"), env, log)
            result = StageResult(name, selection, "ok" if code == 0 else f"failed (exit {code})", wall, peak_proc, peak_tree)
            if code != 0:  # later stages still run: their figures are measured on what exists
                result.error = _last_lines(log)
            results.append(result)
            print(f"  {result.status}, {wall:.1f} s", flush=True)

        print()
        print("National SYNTHETIC run: 350 gemeenten, 2015-2024 "
              f"({os.cpu_count()} CPUs; target: whole run < {TARGET_SECONDS} s and < {TARGET_MIB / 1024:.0f} GiB)")
        print(f"{'stage':<11}{'status':<34}{'wall s':>9}{'peak proc MiB':>15}{'peak tree MiB':>15}")
        print(f"{'generate':<11}{'ok (not part of the run)':<34}{gen_seconds:>9.1f}{'':>15}{'':>15}")
        for r in results:
            if r.status.startswith(("ok", "failed")):
                print(f"{r.name:<11}{r.status:<34}{r.wall_s:>9.1f}{r.peak_process_mib:>15.0f}{r.peak_tree_mib:>15.0f}")
            else:
                print(f"{r.name:<11}{r.status:<34}{'-':>9}{'-':>15}{'-':>15}")
        # issue 3's target covers ingest, transform and publish; the ML stage (issue 4) has none at this scale
        measured = [r for r in results if r.status.startswith(("ok", "failed")) and r.name in TARGET_STAGES]
        total = sum(r.wall_s for r in measured)
        peak = max((r.peak_tree_mib for r in measured), default=0.0)
        if measured:
            print(f"{'run total':<11}{'(' + '+'.join(r.name for r in measured) + ')':<34}{total:>9.1f}{'':>15}{peak:>15.0f}")
            complete = all(r.status == "ok" for r in results) and {r.name for r in measured} == TARGET_STAGES
            verdict = "within" if total < TARGET_SECONDS and peak < TARGET_MIB else "OUTSIDE"
            print(f"{verdict} the target{'' if complete else ' (for the stages measured; the run is not complete)'}")
        else:
            complete = all(r.status == "ok" for r in results)
            print("the target covers ingest+transform+publish, none of which was measured here "
                  "(the ML stage has no target at national scale; issue 4 asks for its wall time)")
        for r in results:
            if r.status == "not yet available":
                print(f"{r.name}: not yet available (no such asset in pipelines.definitions)")
        for r in results:
            if r.error:
                print(f"\n--- {r.name} failed; last lines of {root / (r.name + '.log')} ---\n{r.error}")
        warehouse = data_dir / "warehouse.duckdb"
        if warehouse.exists():
            print(f"\nwarehouse {warehouse.stat().st_size / 2**20:.0f} MiB")
            for table, rows in warehouse_summary(warehouse):
                print(f"  {table:<44} {rows:>12}")
        return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
