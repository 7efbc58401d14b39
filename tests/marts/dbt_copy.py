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
    """A copy of dbt_project/ and of the warehouse; returns the project dir and the env for dbt."""
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", ".user.yml"))
    shutil.copy(warehouse, tmp_path / "warehouse.duckdb")
    env = {**os.environ, "FACTORENMODEL_WAREHOUSE": str(tmp_path / "warehouse.duckdb"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return project, env


def dbt(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DBT), *args, "--profiles-dir", str(project), "--project-dir", str(project)],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )
