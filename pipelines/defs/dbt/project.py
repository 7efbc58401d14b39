"""The dbt project, defined once. Everything else imports ``dbt_project`` from here.

``prepare_if_dev`` parses the project when ``dagster dev`` loads the code; the README's
commands run ``dagster-dbt project prepare-and-package --file pipelines/defs/dbt/project.py``
so that the manifest exists before any other command loads the definitions.
"""

from __future__ import annotations

from dagster_dbt import DbtProject

from pipelines.settings import PROJECT_DIR

DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
