"""Fixtures for whole-pipeline tests: a real DuckDB file, real dbt, real Dagster materialisations.

The demo pipeline is materialised once per test session into a temporary data folder, so tests
that only read its results share one run: the ``demo_run`` fixture lives in ``tests/conftest.py``
(the Great Expectations tests in ``tests/quality`` share it too).
"""
