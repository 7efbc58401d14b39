"""Benchmark: where the test suite's time goes, file by file: wall seconds and CPU seconds.

Runs the suite as ``make test`` does (pytest-xdist, ``TEST_WORKERS`` processes, one file per worker),
with this module as a pytest plugin that records, per test, its wall time and the CPU time of the
worker and of the child processes the test waited for (dbt, the Dagster CLI, pool workers, the
helper processes of tests/publish). Then prints per test file: wall, CPU and tests, largest CPU
first, and the totals beside the CPU that the whole machine spent meanwhile (``/proc/stat``).

The difference, "not in any file", is the workers' own start (imports and collection, about
10 CPU-s each) and the CPU of processes no test waited for: the services of ``dagster dev`` and the
runs its daemon launches (tests/ops/test_ui_browser.py; about 170 CPU-s when run alone), chromium,
and anything else running on the machine. The suite is CPU-bound on
2 cores (the workers wait little on each other), so its wall time follows its total CPU.

Usage: ``make bench-tests`` or ``.venv/bin/python benchmarks/suite_cpu.py [pytest arguments]``
(e.g. ``tests/ml`` for part of the suite); about as long as the suite itself.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
OUT_DIR = "SUITE_CPU_DIR"  # where each worker writes its records (set by main)


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


_records: list[dict] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Setup, call and teardown of one test (with the fixtures it builds first)."""
    start, (own, children) = time.perf_counter(), _cpu()
    yield
    own_after, children_after = _cpu()
    _records.append({"test": item.nodeid, "wall": time.perf_counter() - start,
                     "cpu": own_after - own + children_after - children})


def pytest_sessionfinish(session):
    folder = os.environ.get(OUT_DIR)
    if folder:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        (Path(folder) / f"{worker}.json").write_text(json.dumps(_records), "utf-8")


def by_file(records: list[dict]) -> list[tuple[str, float, float, int]]:
    """(file, wall, cpu, tests) per test file, largest CPU first."""
    files: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for r in records:
        f = files[r["test"].split("::")[0]]
        f[0] += r["wall"]
        f[1] += r["cpu"]
        f[2] += 1
    return sorted(((name, w, c, int(n)) for name, (w, c, n) in files.items()), key=lambda row: (-row[2], row[0]))


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (``/proc/stat``: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def main(pytest_args: list[str]) -> int:
    workers = os.environ.get("TEST_WORKERS", "3")
    with tempfile.TemporaryDirectory(prefix="suite_cpu_") as out:
        env = {**os.environ, OUT_DIR: out,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR / "benchmarks"), os.environ.get("PYTHONPATH")]))}
        # the rest of make test's options are pyproject.toml's addopts
        command = [sys.executable, "-m", "pytest", "-p", "suite_cpu", "-n", workers, "-q", *pytest_args]
        busy, start = busy_cpu_seconds(), time.perf_counter()
        done = subprocess.run(command, cwd=PROJECT_DIR, env=env)
        wall, busy = time.perf_counter() - start, busy_cpu_seconds() - busy
        records = [r for f in sorted(Path(out).glob("*.json")) for r in json.loads(f.read_text("utf-8"))]
    rows = by_file(records)
    print(f"\n{'wall s':>8} {'CPU s':>8} {'tests':>5}  file")
    for name, w, c, n in rows:
        print(f"{w:8.0f} {c:8.0f} {n:5d}  {name}")
    in_files = sum(c for _, _, c, _ in rows)
    print(f"\nsuite: {wall:.0f} s wall on {workers} workers, {len(records)} tests; the machine busy {busy:.0f} CPU-s "
          f"({busy / wall:.2f} cores on average of {os.cpu_count()}), of which {in_files:.0f} in the test files "
          f"and {busy - in_files:.0f} not in any file")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
