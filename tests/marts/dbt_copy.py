"""Run dbt on a copy of the project and of the demo warehouse, to show that a test or contract fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipelines.settings import PROJECT_DIR

DBT = Path(sys.executable).parent / "dbt"


def copy_project(tmp_path: Path, warehouse: Path) -> tuple[Path, dict[str, str]]:
    """A copy of dbt_project/ and of the warehouse (``tmp_path/warehouse.duckdb``); returns the
    project dir and the env for dbt.

    dbt parses the copy partially, from the project's ``target/partial_parse.msgpack`` (written by
    ``make dbt-prepare``), instead of from scratch (about 3 s less per dbt command): its profile
    must render as there, so the warehouse is where the profile looks without
    FACTORENMODEL_WAREHOUSE (``../data/warehouse.duckdb``), with ``tmp_path/warehouse.duckdb`` a
    link to it. dbt parses in full when anything it compares differs (a changed file, ``--vars``)."""
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", ".user.yml"))
    saved = PROJECT_DIR / "dbt_project" / "target" / "partial_parse.msgpack"
    if saved.exists():
        (project / "target").mkdir()
        shutil.copy(saved, project / "target" / saved.name)
    (tmp_path / "data").mkdir(exist_ok=True)
    shutil.copy(warehouse, tmp_path / "data" / "warehouse.duckdb")
    (tmp_path / "warehouse.duckdb").symlink_to(Path("data") / "warehouse.duckdb")
    env = {k: v for k, v in os.environ.items() if k != "FACTORENMODEL_WAREHOUSE"}
    return project, {**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def dbt(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DBT), *args, "--profiles-dir", str(project), "--project-dir", str(project)],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )
