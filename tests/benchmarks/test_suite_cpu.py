"""``benchmarks/suite_cpu.py``: the per-file sums of the suite's time, and a real run of part of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
from suite_cpu import busy_cpu_seconds, by_file  # noqa: E402


def test_tests_are_summed_per_file_largest_cpu_first():
    records = [{"test": "tests/a.py::one", "wall": 2.0, "cpu": 1.0},
               {"test": "tests/b.py::one[x]", "wall": 1.0, "cpu": 3.0},
               {"test": "tests/a.py::two", "wall": 4.0, "cpu": 0.5}]
    assert by_file(records) == [("tests/b.py", 1.0, 3.0, 1), ("tests/a.py", 6.0, 1.5, 2)]


def test_the_machines_busy_time_grows_with_work():
    before = busy_cpu_seconds()
    sum(i * i for i in range(3_000_000))  # some CPU work
    assert busy_cpu_seconds() > before > 0


@pytest.mark.slow
def test_a_run_of_part_of_the_suite_prints_its_files():
    # in one process (-n 0): a worker more would cost its own start, about 10 CPU-s
    done = subprocess.run([sys.executable, str(BENCHMARKS / "suite_cpu.py"), "tests/demo/test_determinism.py",
                           "tests/seeds/test_seeds_content.py"], env={**os.environ, "TEST_WORKERS": "0"},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout.split("wall s")[-1]
    assert "tests/demo/test_determinism.py" in table and "tests/seeds/test_seeds_content.py" in table
    assert "suite: " in table and "not in any file" in table
