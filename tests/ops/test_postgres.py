"""Run history in a real PostgreSQL: deploy/dagster.postgres.yaml, selected by DAGSTER_HOME alone.

Starts Debian's PostgreSQL server (``postgresql`` package) on a free localhost port in a temporary
folder (as user ``nobody`` when the tests run as root: the server refuses root), runs the demo's
source assets through the ``dagster`` CLI against it, reads the run history back, and stops it.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType

from pipelines.settings import PROJECT_DIR
from tests.ops.helpers import DEMO_YEARS, VENV_BIN, dagster_home, free_port, instance_at, subprocess_env

POSTGRES_YAML = PROJECT_DIR / "deploy" / "dagster.postgres.yaml"


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture
def postgres():
    pg_bin = _pg_bin()
    if pg_bin is None:
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql (Debian package 'postgresql'; .ci/run installs it)")
    root = Path(tempfile.mkdtemp(prefix="factorenmodel-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as an unprivileged user")
        shutil.chown(root, user="nobody")
        as_user = ["runuser", "-u", "nobody", "--"]
    root.chmod(0o755)
    data, log = root / "data", root / "server.log"
    port = free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True, timeout=120)  # noqa: E731
    try:
        run(str(pg_bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        run(
            str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start",
            "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {exc.stderr or exc.stdout}\n{log.read_text() if log.exists() else ''}")
    try:
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        con.autocommit = True
        con.cursor().execute("create database dagster")
        con.close()
        yield {"host": "127.0.0.1", "port": port, "user": "postgres", "db": "dagster"}
    finally:
        subprocess.run([*as_user, str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_run_history_lives_in_postgresql(tmp_path, postgres):
    home = dagster_home(tmp_path, POSTGRES_YAML)
    env = subprocess_env(
        home, tmp_path / "data",
        DAGSTER_PG_HOST=postgres["host"], DAGSTER_PG_PORT=str(postgres["port"]), DAGSTER_PG_DB=postgres["db"],
        DAGSTER_PG_USERNAME=postgres["user"], DAGSTER_PG_PASSWORD="not-used-with-trust",
    )
    started = time.monotonic()
    proc = subprocess.run(
        [str(VENV_BIN / "dagster"), "asset", "materialize", "-m", "pipelines.definitions", "--select", "group:sources",
         "--partition-range", DEMO_YEARS],  # the sources are partitioned by year
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]

    # read it back through Dagster, with the same configuration
    for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_DB", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD"):
        os.environ[name] = env[name]
    try:
        instance = instance_at(home)
        try:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
            (record,) = instance.get_run_records()
            assert record.dagster_run.is_success
            materialized = {
                entry.dagster_event.asset_key.to_user_string()
                for entry in instance.all_logs(record.dagster_run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
            }
            assert {"demostad_extracts", "raw/cbs_kerncijfers", "raw/ggd_monitor"} <= materialized
            assert instance.get_latest_materialization_event(
                dg.AssetKey(["raw", "cbs_kerncijfers"])
            ).run_id == record.dagster_run.run_id
        finally:
            instance.dispose()
    finally:
        for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_DB", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD"):
            os.environ.pop(name, None)

    # and directly in PostgreSQL: the runs table holds it; no SQLite history was written
    import psycopg2

    with psycopg2.connect(host=postgres["host"], port=postgres["port"], user=postgres["user"], dbname=postgres["db"]) as con:
        cur = con.cursor()
        cur.execute("select run_id, status from runs")
        assert cur.fetchall() == [(record.dagster_run.run_id, "SUCCESS")]
        cur.execute("select count(*) from event_logs where run_id = %s", [record.dagster_run.run_id])
        assert cur.fetchone()[0] > 10
    assert not (home / "history" / "runs.db").exists()  # the SQLite default was not used
    print(f"run history in PostgreSQL: {time.monotonic() - started:.1f} s")
