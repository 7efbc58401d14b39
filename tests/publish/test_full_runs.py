"""The serving copy while whole demo pipeline runs write the warehouse (real dbt, real Dagster).

A reader process queries the serving copy in a loop while a full run writes and publishes: zero
errors, every answer one release's. A full run killed half-way leaves the previous run's serving
copy answering.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.publish import current_release
from pipelines.settings import PROJECT_DIR
from tests.pipeline.runs import settings_for

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _full_run(data_dir: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.publish.helper_full_run", str(data_dir)], cwd=PROJECT_DIR,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(run: subprocess.Popen) -> str:
    stdout, stderr = run.communicate(timeout=900)
    assert run.returncode == 0, stderr[-5000:]
    return stdout.strip().splitlines()[-1]


def _served(serving: Path) -> tuple[str, dict[str, int]]:
    with duckdb.connect(str(serving / "current" / "factorenmodel.duckdb"), read_only=True) as con:
        (run_id,) = con.execute("select run_id from meta.release").fetchone()
        return run_id, dict(con.execute("select table_name, row_count from meta.tables").fetchall())


@pytest.fixture(scope="module")
def published(demo_run, tmp_path_factory) -> tuple[Path, str, float]:
    """A data folder after one successful demo run: (data dir, run id, seconds the run took). A copy
    of the session's demo run (tests/conftest.py), which a full run in a process of its own would
    only repeat; the serving copy's ``current`` link is relative, so the copy serves its own release."""
    settings, result = demo_run
    data_dir = tmp_path_factory.mktemp("full_runs") / "data"
    shutil.copytree(settings.data_dir, data_dir, symlinks=True)
    assert current_release(settings_for(data_dir).serving_dir).is_relative_to(data_dir)
    return data_dir, result.run_id, result.seconds


def test_the_first_run_publishes_every_mart(published):
    data_dir, run_id, _ = published
    serving = settings_for(data_dir).serving_dir
    served_run, counts = _served(serving)
    assert served_run == run_id
    with duckdb.connect(str(settings_for(data_dir).warehouse_path), read_only=True) as con:
        marts = dict(con.execute(
            "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts'").fetchall())
        warehouse_counts = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in marts}
    assert counts == warehouse_counts and counts, "every mart of the warehouse, with its rows"


def test_a_reader_process_has_no_errors_while_a_full_run_writes_and_publishes(published, tmp_path):
    data_dir, first_run, _ = published
    serving = settings_for(data_dir).serving_dir
    stop, out = tmp_path / "stop", tmp_path / "answers.json"
    # every 0.3 s while the run writes the warehouse, every 20 ms from the moment it starts writing a release
    reader = subprocess.Popen([sys.executable, "-m", "tests.publish.helper_reader", serving, stop, out, "0.02", "0.3"],
                              cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        second_run = _finish(_full_run(data_dir))
        time.sleep(0.5)  # a few reads of the new release
    finally:
        stop.touch()
        _, stderr = reader.communicate(timeout=300)
    assert reader.returncode == 0, stderr
    answers = json.loads(out.read_text())
    errors = [a["error"] for a in answers if "error" in a]
    assert errors == [], errors[0]
    assert len(answers) >= 200
    assert all(a["counts"] == a["recorded"] for a in answers), "an answer mixed two releases"
    assert {a["run_id"] for a in answers} == {first_run, second_run}
    # read while the run wrote the warehouse, and at full pace from the start of the publish on:
    # the first release until the swap, the second after it
    during = [a["run_id"] for a in answers if a["publishing"]]
    assert sum(not a["publishing"] for a in answers) >= 50 and len(during) >= 10, len(during)
    assert during[0] == first_run and during[-1] == second_run
    assert _served(serving)[0] == second_run


def test_a_full_run_killed_half_way_leaves_the_previous_serving_copy(published):
    data_dir, _, run_seconds = published
    serving = settings_for(data_dir).serving_dir
    before = _served(serving)
    link = os.readlink(serving / "current")
    run = _full_run(data_dir)
    time.sleep(run_seconds / 2)
    assert run.poll() is None, "the run ended before it could be killed"
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert os.readlink(serving / "current") == link
    assert _served(serving) == before
    assert current_release(serving).is_dir()
