"""Great Expectations (1.x) suites of the published marts, run on the warehouse (no Dagster here).

- ``validate_mart`` / ``validate_marts``: run the suite ``expectations/suites/<mart>.json`` on
  ``marts.<mart>`` and return a ``MartValidation`` (evaluated, failed, the failing expectations
  with their unexpected counts, values and offending rows).
- ``expectation_parameters``: the run-time values (``{"$PARAMETER": ...}`` in a suite) derived from
  the warehouse (row-count bounds from the area hierarchy) and the settings (freshness).
- ``build_data_docs``: GE's HTML Data Docs of the validations into a folder.

The Dagster asset checks (``pipelines/defs/quality``) are a thin layer over these functions.
"""

from pipelines.quality.parameters import expectation_parameters, min_newest_year
from pipelines.quality.suites import DEFAULT_SUITE_DIR, load_suite, suite_marts, warehouse_marts
from pipelines.quality.validate import (
    ExpectationFailure,
    MartValidation,
    build_data_docs,
    validate_mart,
    validate_marts,
)

__all__ = [
    "DEFAULT_SUITE_DIR",
    "ExpectationFailure",
    "MartValidation",
    "build_data_docs",
    "expectation_parameters",
    "load_suite",
    "min_newest_year",
    "suite_marts",
    "validate_mart",
    "validate_marts",
    "warehouse_marts",
]
