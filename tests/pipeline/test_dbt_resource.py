"""The dbt resource skips two start-up costs of dagster-dbt (``pipelines/defs/dbt/resource.py``):
what it puts in their place must still be true, and the private methods it overrides must still be
the ones dagster-dbt calls."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource

from pipelines.defs.dbt.project import dbt_project
from pipelines.defs.dbt.resource import FactorenmodelDbtCliResource

DBT = Path(sys.executable).parent / "dbt"


def test_the_version_read_is_the_one_dbt_prints():
    printed = subprocess.run([str(DBT), "--version"], capture_output=True, text=True, check=True).stdout
    resource = FactorenmodelDbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT))
    assert re.search(r"installed: (\d+\.\d+\.\d+)", printed).group(1) == str(resource._cli_version)


def test_dagster_dbt_still_calls_the_methods_overridden():
    """``cli`` asks ``_cli_version`` and ``_initialize_dbt_core_adapter``: if an upgrade renames them,
    the overrides would silently stop saving anything."""
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source
    assert "self._initialize_dbt_core_adapter(" in source
    resource = FactorenmodelDbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT))
    assert resource._initialize_dbt_core_adapter(["build"]) is None
