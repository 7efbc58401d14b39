"""The deployment's warehouse and dbt variables, for dbt run on its own (``make dbt-build``).

dbt's profile finds the warehouse through ``FACTORENMODEL_WAREHOUSE`` only; the Dagster assets set
it (and ``--vars`` from the configuration file's ``disclosure.min_persons``) from the settings.
Without this, dbt alone would build the demo warehouse whatever ``FACTORENMODEL_CONFIG`` says::

    python -m pipelines.dbt_cli warehouse   # the warehouse path of the deployment's settings
    python -m pipelines.dbt_cli vars        # its dbt variables as JSON for --vars ({} when none)
"""

from __future__ import annotations

import json
import sys

from pipelines.settings import Settings, load_settings


def dbt_setting(settings: Settings, what: str) -> str:
    if what == "warehouse":
        return str(settings.warehouse_path)
    if what == "vars":
        return json.dumps(settings.dbt_vars)
    raise SystemExit(f"unknown setting {what!r}: use 'warehouse' or 'vars'")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    print(dbt_setting(load_settings(), argv[0] if argv else "warehouse"))


if __name__ == "__main__":
    main()
