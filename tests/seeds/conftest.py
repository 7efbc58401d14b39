"""Shared helpers for the factor-model seed tests: where things are, and a real dbt runner."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
SEEDS = DBT_PROJECT / "seeds" / "factor_model"
# The shared literature folder sits next to the repository (../shared), not inside it.
SHARED = REPO.parent / "shared"
EFFECT_SIZES = SHARED / "literature" / "effect_sizes.csv"


def dbt_executable() -> str:
    """The dbt of the running interpreter's environment (the project venv), else the one on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if found is None:
        pytest.skip("dbt is not installed in this environment")
    return found


def run_dbt(project_dir: Path, work_dir: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    """Run dbt for real against a DuckDB file in work_dir; target and logs also go to work_dir,
    so the run never touches the repository's own target/ or warehouse.

    Returns the finished process and the parsed run_results.json (empty when dbt wrote none)."""
    target = work_dir / "target"
    env = dict(os.environ)
    env["FACTORENMODEL_WAREHOUSE"] = str(work_dir / "warehouse.duckdb")
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    proc = subprocess.run(
        [
            dbt_executable(),
            *args,
            "--project-dir", str(project_dir),
            "--profiles-dir", str(project_dir),
            "--target-path", str(target),
            "--log-path", str(work_dir / "logs"),
        ],
        cwd=project_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    results_file = target / "run_results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return proc, results


def statuses(results: dict) -> dict[str, str]:
    """unique_id -> status of every node in a run_results.json."""
    return {r["unique_id"]: r["status"] for r in results.get("results", [])}
