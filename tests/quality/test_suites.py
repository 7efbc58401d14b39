"""The suites themselves: one per dbt mart, valid GE 1.x suites, naming only columns the mart has."""

from __future__ import annotations

import json
from pathlib import Path

import great_expectations as gx
import pytest
import yaml

from pipelines.quality import DEFAULT_SUITE_DIR, load_suite, suite_marts
from pipelines.quality.suites import key_columns, read_suite_json, referenced_columns
from pipelines.settings import PROJECT_DIR, load_settings

MARTS_DIR = PROJECT_DIR / "dbt_project" / "models" / "marts"


def dbt_mart_columns() -> dict[str, set[str]]:
    """Columns of every model under models/marts/, from its documentation YAML."""
    marts = {}
    for path in sorted(MARTS_DIR.rglob("*.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            marts[model["name"]] = {c["name"] for c in model.get("columns", [])}
    return marts


def test_every_dbt_mart_has_a_suite():
    marts = set(dbt_mart_columns())
    assert marts, "no marts found"
    missing = sorted(marts - set(suite_marts()))
    assert not missing, f"marts without a Great Expectations suite in {DEFAULT_SUITE_DIR}: {missing}"


@pytest.mark.parametrize("mart", suite_marts())
def test_suite_is_a_valid_ge_suite_on_existing_columns(mart):
    suite = load_suite(DEFAULT_SUITE_DIR, mart)
    assert isinstance(suite, gx.ExpectationSuite) and suite.name == mart
    assert len(suite.expectations) >= 5
    data = read_suite_json(DEFAULT_SUITE_DIR, mart)
    assert key_columns(data), "meta.primary_key names the mart's key (used to report offending rows)"
    columns = dbt_mart_columns().get(mart)
    if columns is None:
        pytest.skip(f"{mart} is not a dbt mart")
    unknown = sorted(referenced_columns(data) - columns)
    assert not unknown, f"suite {mart} checks columns the mart does not document: {unknown}"
    # every expectation says what it checks, for the UI and the Data Docs
    assert all(e.get("meta", {}).get("description") for e in data["expectations"])


def test_suites_are_stored_as_ge_writes_them(tmp_path):
    """A suite round-trips through GE: the stored JSON is the GE 1.x format, nothing else."""
    for mart in suite_marts():
        suite = load_suite(DEFAULT_SUITE_DIR, mart)
        again = gx.ExpectationSuite(**json.loads(json.dumps(suite.to_json_dict())))
        assert again.to_json_dict()["expectations"] == suite.to_json_dict()["expectations"]


def test_max_data_age_is_configurable():
    assert load_settings({}).max_data_age_years == 3
    assert load_settings({"FACTORENMODEL_MAX_DATA_AGE_YEARS": "5"}).max_data_age_years == 5
    assert load_settings({"FACTORENMODEL_DATA_DIR": "/x"}).data_docs_dir == Path("/x/quality/data_docs")
