"""Readers in other processes never see an error or half a run; a killed publish changes nothing.

Real processes: a reader process queries the serving copy in a loop while publishes swap releases;
publisher processes are SIGKILLed at every step of a publish and at random moments.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.publish import current_release, publish_marts
from pipelines.publish.serving import STEPS
from pipelines.settings import PROJECT_DIR
from tests.publish.marts import expected_rows, write_warehouse


def _start(module: str, *args: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", f"tests.publish.{module}", *map(str, args)], cwd=PROJECT_DIR,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _served(serving: Path) -> tuple[str, dict[str, int]]:
    """Run id and row counts a fresh read-only reader of ``current`` gets."""
    with duckdb.connect(str(serving / "current" / "factorenmodel.duckdb"), read_only=True) as con:
        (run_id,) = con.execute("select run_id from meta.release").fetchone()
        tables = [r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name='marts'").fetchall()]
        return run_id, {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in tables}


def _assert_clean(serving: Path) -> None:
    """Only complete releases that were made current remain, and no temporary links."""
    names = sorted(p.name for p in (serving / "releases").iterdir())
    assert not [n for n in names if n.endswith(".partial")], names
    assert names[-1] == current_release(serving).name, "no release newer than current"
    assert not list(serving.glob(".current.tmp-*"))


def test_a_reader_process_gets_consistent_answers_and_no_errors_while_publishes_swap(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    write_warehouse(warehouse, version=0)
    publish_marts(warehouse, serving, "v0")
    stop, out = tmp_path / "stop", tmp_path / "answers.json"
    reader = _start("helper_reader", serving, stop, out)
    publishes = 12
    started = time.monotonic()
    try:
        for version in range(1, publishes + 1):
            write_warehouse(warehouse, version)
            publish_marts(warehouse, serving, f"v{version}", keep=2)
            time.sleep(0.05)
    finally:
        stop.touch()
        _, stderr = reader.communicate(timeout=120)
    assert reader.returncode == 0, stderr
    answers = json.loads(out.read_text())
    errors = [a["error"] for a in answers if "error" in a]
    assert errors == [], errors[0]
    assert len(answers) >= 200
    for answer in answers:
        version = int(answer["run_id"].removeprefix("v"))
        assert answer["counts"] == answer["recorded"] == expected_rows(version), answer
        assert answer["versions"] == [version], f"rows of several runs in one answer: {answer}"
    seen = {a["run_id"] for a in answers}
    assert len(seen) >= 3, f"the reader should have read across swaps, saw only {seen}"
    assert {a["via"] for a in answers} == {"duckdb", "parquet"}
    print(f"{len(answers)} reads over {time.monotonic() - started:.1f} s across {len(seen)} releases, "
          f"slowest {max(a['seconds'] for a in answers) * 1000:.0f} ms")


@pytest.mark.parametrize("step", STEPS)
def test_a_publish_killed_at_any_step_leaves_the_previous_serving_copy(tmp_path, step):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    write_warehouse(warehouse, version=1)
    publish_marts(warehouse, serving, "v1")
    link_before = os.readlink(serving / "current")
    write_warehouse(warehouse, version=2)

    marker = tmp_path / "at_step"
    publisher = _start("helper_publisher", warehouse, serving, "v2", step, marker)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert publisher.poll() is None, publisher.communicate()[1]
        assert time.monotonic() < deadline, "publisher never reached the step"
        time.sleep(0.01)
    publisher.send_signal(signal.SIGKILL)
    publisher.wait()

    if step == "after_swap":  # killed after the swap: the new release is complete and current
        assert _served(serving) == ("v2", expected_rows(2))
    else:
        assert os.readlink(serving / "current") == link_before
        assert _served(serving) == ("v1", expected_rows(1))

    write_warehouse(warehouse, version=3)
    publish_marts(warehouse, serving, "v3")
    assert _served(serving) == ("v3", expected_rows(3))
    _assert_clean(serving)


def test_a_publish_failing_half_way_leaves_the_previous_serving_copy_and_no_files(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    write_warehouse(warehouse, version=1)
    good = publish_marts(warehouse, serving, "v1")
    write_warehouse(warehouse, version=2)

    def fail(step: str) -> None:
        if step == "parquet_written":
            raise OSError("disk full (injected)")

    with pytest.raises(OSError, match="injected"):
        publish_marts(warehouse, serving, "v2", step_hook=fail)
    assert current_release(serving) == good.release_dir
    assert [p.name for p in (serving / "releases").iterdir()] == [good.release_dir.name]
    assert _served(serving) == ("v1", expected_rows(1))


def test_publishes_killed_at_random_moments_of_a_large_copy_never_break_the_serving_copy(tmp_path):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    scale = 20_000  # fct_indicator_value of about 2 to 3 million rows: a publish takes a while
    write_warehouse(warehouse, version=1, scale=scale)
    publish_marts(warehouse, serving, "v1")
    write_warehouse(warehouse, version=2, scale=scale)

    started = time.monotonic()
    full = _start("helper_publisher", warehouse, serving, "probe", "none", tmp_path / "unused")
    assert full.wait(timeout=300) == 0, full.communicate()[1]
    full_seconds = time.monotonic() - started
    publish_marts(warehouse, serving, "v1-again")  # a known current again (v2 rows, run id v1-again)

    rng = random.Random(20150101)
    outcomes = []
    for attempt in range(5):
        before = _served(serving)
        publisher = _start("helper_publisher", warehouse, serving, f"kill{attempt}", "none", tmp_path / "unused")
        time.sleep(rng.uniform(0.2, 0.9) * full_seconds)
        publisher.send_signal(signal.SIGKILL)
        publisher.wait()
        run_id, counts = _served(serving)
        assert counts == expected_rows(2, scale)
        assert run_id in (before[0], f"kill{attempt}")
        outcomes.append(run_id == before[0])
    publish_marts(warehouse, serving, "final")
    _assert_clean(serving)
    print(f"full publish {full_seconds:.2f} s; killed before the swap in {sum(outcomes)} of {len(outcomes)}")
