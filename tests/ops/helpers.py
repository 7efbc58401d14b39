"""Helpers for the operations tests: temp Dagster homes, free ports, subprocess environments."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from pipelines.settings import PROJECT_DIR

PROJECT_DAGSTER_YAML = PROJECT_DIR / ".dagster_home" / "dagster.yaml"
VENV_BIN = Path(sys.executable).parent
ARTIFACTS_DIR = PROJECT_DIR / "test-artifacts" / "ops"
DEMO_YEARS = "2015...2024"  # the demo's year partitions, as `dagster asset materialize --partition-range` takes them


def dagster_home(tmp_path: Path, config: Path = PROJECT_DAGSTER_YAML) -> Path:
    """A temporary DAGSTER_HOME holding a copy of the project's instance configuration."""
    home = tmp_path / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(config, home / "dagster.yaml")
    return home


def instance_at(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subprocess_env(home: Path, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTORENMODEL_")}
    env.update(
        DAGSTER_HOME=str(home),
        FACTORENMODEL_DATA_DIR=str(data_dir),
        FACTORENMODEL_LAST_YEAR="2026",
        FACTORENMODEL_CONFIG="",  # ignore a deployment file in the project folder
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env
