"""What a release's data are, for the people and BI tools that read it (``meta.about``).

A BI analyst opening the serving copy should see, without reading code: whether the figures are
real or the synthetic demo, which gemeenten and years they cover per source, with which pipeline
version, and the settings that shape every published number (the small-cell threshold, the
baseline year of the trends). Each row is (key, value, description).
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb
import yaml

from pipelines.settings import Settings

DBT_PROJECT_FILE = Path(__file__).resolve().parents[3] / "dbt_project" / "dbt_project.yml"
PUBLISHED_VARS = {
    "min_persons": "Disclosure control: a value resting on fewer persons than this is withheld (suppression_reason small_cell), as is what would give it back by subtraction.",
    "baseline_year": "The year trends are measured against (change_from_baseline); 'first year of the data' unless set; an indicator first measured later starts its trend then.",
    "report_max_age_years": "mart_staat_van_de_jeugd_report and mart_wijk_profile carry a measurement at most this many years.",
    "min_areas_for_spread": "A published factor score needs this many published areas for its spread where some are withheld.",
}


def dbt_vars(settings: Settings, project_file: Path = DBT_PROJECT_FILE) -> dict[str, object]:
    """The dbt variables in effect: the dbt project's defaults, overridden by the deployment's."""
    defaults = yaml.safe_load(project_file.read_text("utf-8")).get("vars", {}) or {}
    return {**defaults, **settings.dbt_vars}


def _pipeline_version() -> str:
    try:
        return version("factorenmodel")
    except PackageNotFoundError:  # running from a source tree without installing it
        return "unknown"


def years_by_source(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int]]:
    """(source, first year, last year) of the published indicator values, per source (none before the
    marts are built)."""
    columns = {c for (c,) in con.execute("select column_name from duckdb_columns() where schema_name = 'marts' "
                                         "and table_name = 'fct_indicator_value'").fetchall()}
    if not {"source", "year"} <= columns:  # not built yet, or a deployment's own marts without them
        return []
    return con.execute(
        "select source, min(year), max(year) from marts.fct_indicator_value group by source order by source"
    ).fetchall()


def release_about(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """The rows of ``meta.about`` for a release of this deployment's warehouse (``con``)."""
    coverage = years_by_source(con)
    variables = dbt_vars(settings)
    rows = [
        ("synthetic", "yes" if settings.is_demo else "no",
         "yes: the built-in demo municipality Demostad, whose figures are invented (SYNTHETIC); "
         "no: the deployment's own extracts."),
        ("municipality", settings.municipality_name or ("Demostad" if settings.is_demo else ", ".join(sorted(settings.gemeenten))),
         "The municipality (or region) this deployment is configured for."),
        ("gemeenten", ", ".join(sorted(settings.gemeenten)), "CBS codes of the gemeenten whose areas the data hold."),
        ("data_years", f"{min(c[1] for c in coverage)}-{max(c[2] for c in coverage)}" if coverage else "none",
         "First and last year of any published indicator value."),
        ("data_years_by_source", "; ".join(f"{s} {a}-{b}" for s, a, b in coverage) or "none",
         "Per source: the first and last year it has published values for (a source can lag behind the others)."),
        ("pipeline_version", _pipeline_version(), "Version of the factorenmodel pipeline that built the data."),
    ]
    for name, description in PUBLISHED_VARS.items():
        value = variables.get(name)
        rows.append((name, "first year of the data" if value is None else str(value), description))
    return rows


def quality_results(settings: Settings, marts: list[str]) -> list[tuple[str, bool, int, int, str]]:
    """(mart, success, expectations, failed, validated at) of the newest Great Expectations validation
    of every published mart that has one (``<data dir>/quality/data_docs/_results/<mart>.json``), for
    ``meta.quality``: a reader sees which checks the data passed, and when they ran."""
    rows = []
    for mart in marts:
        path = settings.data_docs_dir / "_results" / f"{mart}.json"
        if not path.is_file():
            continue
        result = json.loads(path.read_text("utf-8"))
        stats = result.get("statistics", {})
        rows.append((mart, bool(result.get("success")), int(stats.get("evaluated_expectations", 0)),
                     int(stats.get("unsuccessful_expectations", 0)), str(result.get("meta", {}).get("validation_time", ""))))
    return rows
