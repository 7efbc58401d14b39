"""The dbt CLI resource, without two start-up costs of dagster-dbt that this project does not use.

Before every dbt command, dagster-dbt's ``DbtCliResource.cli``

* runs ``dbt --version`` in a subprocess to learn which dbt it calls (2.5 s: the subprocess imports
  dbt), once per resource instance, so once per dbt step;
* builds a dbt adapter inside Dagster's process (about 2 s: the profile, the project and dbt's own
  macros loaded), which it uses only for ``fetch_row_counts()`` and ``fetch_column_metadata()`` on
  the event stream. The dbt steps do not call those: the marts' row counts, suppressed rows and null
  shares come from ``pipelines/defs/ops/health.py``.

Together about 4.5 s of each dbt step (the national benchmark's, and the demo's alike).
``FactorenmodelDbtCliResource`` reads the version of the installed dbt-core instead (the
executable is the one in this environment, ``build_defs``) and builds no adapter; dagster-dbt then
runs the same dbt command. Both are private methods of dagster-dbt, pinned in ``pyproject.toml``;
``tests/pipeline/test_dbt_resource.py`` fails when an upgrade renames them or when the version read
differs from what ``dbt --version`` prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from importlib import metadata

from dagster_dbt import DbtCliResource
from packaging import version


class FactorenmodelDbtCliResource(DbtCliResource):
    """``DbtCliResource`` that asks no subprocess for dbt's version and builds no adapter in Dagster's process."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None
