"""Dagster definitions, one folder per integration (sources, dbt, ...); merged in ``pipelines/definitions.py``."""
