"""Run-time values of the suites' ``{"$PARAMETER": "<name>"}`` kwargs.

A suite is a static JSON file, but some bounds depend on the deployment: how many areas the area
division holds, how many indicators the factor model defines, which year counts as fresh. These are
computed here before validation and passed to GE as ``expectation_parameters``:

Row counts against the area hierarchy (``marts.dim_area``; an *area-year* is one area code in one
year of its validity, ``valid_from_year`` .. ``valid_to_year``):

- ``area_years``: area-years of all levels; every area-year has at least one indicator value, so it
  is the minimum row count of ``fct_indicator_value``.
- ``max_indicator_values``: ``area_years`` x number of indicators (one value per area, year and
  indicator at most).
- ``area_years_wijk_buurt``: area-years of wijken and buurten (minimum of ``fct_factor_score``, a warning:
  disclosure control can leave an area-year without a score);
  ``max_factor_scores`` = that x number of factors.
- ``current_areas``: codes of the newest division (minimum of ``fct_indicator_series``);
  ``max_indicator_series`` = that x years of the division x number of indicators.
- ``gemeente_count`` (minimum of ``mart_staat_van_de_jeugd`` and ``mart_staat_van_de_jeugd_report``);
  ``max_staat_rows`` = gemeente area-years x number of indicators (the maximum of both: one row
  per measured year, or per report year, and indicator).

Freshness and scope:

- ``min_newest_year``: the newest year in a mart must be at least this: the reference year (the
  configured last year, the current year, or for the synthetic demo the demo's last year) minus
  ``FACTORENMODEL_MAX_DATA_AGE_YEARS`` (default 3).
- ``gemeenten``: the configured gemeenten (``FACTORENMODEL_GEMEENTEN``); every area of
  ``dim_area`` must lie in one of them. When not given, the gemeenten of ``dim_area`` itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import duckdb


def min_newest_year(reference_year: int | None = None, max_data_age_years: int = 3) -> int:
    """The oldest acceptable newest year: ``reference_year`` (default: this year) minus the max age."""
    year = reference_year if reference_year is not None else dt.date.today().year
    return year - max_data_age_years


def expectation_parameters(
    con: duckdb.DuckDBPyConnection,
    *,
    reference_year: int | None = None,
    max_data_age_years: int = 3,
    gemeenten: Iterable[str] | None = None,
) -> dict[str, Any]:
    """All parameters the suites may use, computed from the warehouse behind ``con``."""

    def scalar(sql: str) -> int:
        try:
            value = con.execute(sql).fetchone()[0]
        except duckdb.Error:  # a dimension mart is missing: its own suite reports it
            return 0
        return int(value or 0)

    years = "(valid_to_year - valid_from_year + 1)"
    area_years = scalar(f"select sum({years}) from marts.dim_area")
    area_years_wijk_buurt = scalar(f"select sum({years}) from marts.dim_area where area_level in ('wijk', 'buurt')")
    area_years_gemeente = scalar(f"select sum({years}) from marts.dim_area where area_level = 'gemeente'")
    current_areas = scalar("select count(*) from marts.dim_area where is_current")
    division_years = scalar("select max(valid_to_year) - min(valid_from_year) + 1 from marts.dim_area")
    gemeente_count = scalar("select count(*) from marts.dim_area where area_level = 'gemeente'")
    indicators = scalar("select count(*) from marts.dim_indicator")
    factors = scalar("select count(*) from marts.dim_factor")
    if gemeenten is None:
        try:
            gemeenten = [r[0] for r in con.execute("select distinct gemeente_code from marts.dim_area").fetchall()]
        except duckdb.Error:
            gemeenten = []
    return {
        "area_years": area_years,
        "max_indicator_values": area_years * indicators,
        "area_years_wijk_buurt": area_years_wijk_buurt,
        "max_factor_scores": area_years_wijk_buurt * factors,
        "current_areas": current_areas,
        "max_indicator_series": current_areas * division_years * indicators,
        "gemeente_count": gemeente_count,
        "max_staat_rows": area_years_gemeente * indicators,
        "min_newest_year": min_newest_year(reference_year, max_data_age_years),
        "gemeenten": sorted(gemeenten),
    }
