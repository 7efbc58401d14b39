"""The years the pipeline loads, for the command line.

Every source asset is partitioned by year (``Settings.years``: the configured years; for the
synthetic demo 2015-2024). ``python -m pipelines.years`` prints them as the partition range that
``dagster asset materialize --partition-range`` takes, for the deployment's settings (environment
and configuration file), so that one command materialises every asset for every year::

    dagster asset materialize --select '*' --partition-range "$(python -m pipelines.years)" -m pipelines.definitions

``python -m pipelines.years --keys`` prints the partition keys, one per line.
"""

from __future__ import annotations

import sys

from pipelines.settings import Settings, load_settings


def partition_keys(settings: Settings) -> list[str]:
    """The partition keys of the source assets: the years as text, oldest first."""
    return [str(year) for year in settings.years]


def partition_range(settings: Settings) -> str:
    """Every year as a Dagster CLI partition range: ``<first>...<last>``."""
    keys = partition_keys(settings)
    return f"{keys[0]}...{keys[-1]}"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    settings = load_settings()
    print("\n".join(partition_keys(settings)) if "--keys" in argv else partition_range(settings))


if __name__ == "__main__":
    main()
