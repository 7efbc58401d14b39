"""The dbt project, defined once. Everything else imports ``dbt_project`` from here.

``prepare_if_dev`` parses the project when ``dagster dev`` loads the code; the README's
commands run ``dagster-dbt project prepare-and-package --file pipelines/defs/dbt/project.py``
so that the manifest exists before any other command loads the definitions. A command run
without it in a fresh clone (``dagster asset list -m pipelines.definitions``) would stop on a
missing ``target/manifest.json``; ``prepare_if_missing`` parses the project once instead.
"""

from __future__ import annotations

from dagster_dbt import DbtProject

from pipelines.settings import PROJECT_DIR

DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"


def prepare_if_missing(project: DbtProject) -> bool:
    """Parse ``project`` (``dbt parse``, about 5 s) when it has no manifest yet; True if it did."""
    if project.manifest_path.exists():
        return False
    project.preparer.prepare(project)
    return True


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
prepare_if_missing(dbt_project)
