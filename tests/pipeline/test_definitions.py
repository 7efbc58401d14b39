"""The code location loads through workspace.yaml and its asset graph is complete and documented."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.definitions import build_definitions
from pipelines.settings import PROJECT_DIR
from tests.pipeline.runs import settings_for

DAGSTER = Path(sys.executable).parent / "dagster"


def test_dagster_definitions_validate_passes_for_workspace_yaml(tmp_path):
    env = {**os.environ, "FACTORENMODEL_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    done = subprocess.run(
        [str(DAGSTER), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "factorenmodel" in done.stdout + done.stderr


def test_every_asset_is_grouped_and_described(tmp_path):
    graph = build_definitions(settings_for(tmp_path)).resolve_asset_graph()
    groups = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description and len(node.description) > 20, f"{key.to_user_string()} has no description"
        groups.setdefault(node.group_name, []).append(key.to_user_string())
    assert {"sources", "factor_model", "staging", "marts", "ml", "publish"} <= set(groups)
    assert {"raw/cbs_kerncijfers", "raw/gemeente_registraties", "raw/ggd_monitor", "raw/duo_onderwijs",
            "raw/politie_jeugdverdachten", "demostad_extracts"} <= set(groups["sources"])


def test_real_extract_folder_replaces_the_demo(tmp_path):
    settings = settings_for(tmp_path, FACTORENMODEL_EXTRACT_DIR=str(tmp_path / "extracts"))
    keys = {k.to_user_string() for k in build_definitions(settings).resolve_asset_graph().get_all_asset_keys()}
    assert "demostad_extracts" not in keys and "raw/politie_jeugdverdachten" in keys


def test_a_project_without_a_manifest_is_parsed_once(tmp_path):
    """A fresh clone has no dbt_project/target: loading the definitions parses the project instead
    of stopping on a missing manifest.json (a real ``dbt parse`` of a copy of the project)."""
    import shutil

    from dagster_dbt import DbtProject

    from pipelines.defs.dbt.project import DBT_PROJECT_DIR, prepare_if_missing

    copy = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    project = DbtProject(project_dir=copy, profiles_dir=copy)
    assert not project.manifest_path.exists()
    assert prepare_if_missing(project) is True
    assert "model.factorenmodel.mart_factor_ranking" in project.manifest_path.read_text()
    assert prepare_if_missing(project) is False
