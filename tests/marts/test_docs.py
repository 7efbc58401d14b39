"""Every published table and column is documented, and every mart has an enforced contract."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipelines.settings import PROJECT_DIR

MARTS = PROJECT_DIR / "dbt_project" / "models" / "marts"


def _mart_properties() -> dict[str, dict]:
    models = {}
    for path in MARTS.rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            models[model["name"]] = model
    return models


def mart_primary_keys() -> dict[str, list[list[str]]]:
    """Each mart's primary-key constraints (their columns) as its YAML declares them."""
    return {name: [c["columns"] for c in model.get("constraints", []) if c["type"] == "primary_key"]
            for name, model in _mart_properties().items()}


def test_every_mart_has_documented_columns_and_an_enforced_contract():
    sql_models = {p.stem for p in MARTS.rglob("*.sql")}
    properties = _mart_properties()
    primary_keys = mart_primary_keys()
    assert sql_models == set(properties), "each mart needs its own properties YAML"
    for name, model in properties.items():
        assert len(model.get("description", "")) > 40, name
        assert model["config"]["contract"]["enforced"] is True, name
        keys = primary_keys[name]
        assert keys, name
        not_null = {c["name"] for c in model["columns"]
                    if any(k["type"] == "not_null" for k in c.get("constraints", []))}
        # the key is checked by a query in the model's transaction (macros/primary_keys.sql), not by
        # an index: its columns' not-null constraints refuse an empty key part
        assert set(keys[0]) <= not_null, f"{name}: key columns without a not_null constraint"
        for column in model["columns"]:
            assert column.get("data_type"), f"{name}.{column['name']} has no type"
            assert len(column.get("description", "")) > 5, f"{name}.{column['name']} has no description"


def test_every_staging_and_intermediate_model_is_described():
    for folder in ("staging", "intermediate"):
        described = {}
        for path in (MARTS.parent / folder).glob("*.yml"):
            for model in yaml.safe_load(path.read_text()).get("models", []):
                described[model["name"]] = model.get("description", "")
        for sql in (MARTS.parent / folder).glob("*.sql"):
            assert described.get(sql.stem), f"{folder}/{sql.name} has no description"


def _labelled_columns() -> dict[str, str]:
    """'mart.column' -> the code_set its code_has_label test names."""
    labelled = {}
    for name, model in _mart_properties().items():
        for column in model["columns"]:
            for test in column.get("data_tests", []):
                if isinstance(test, dict) and "code_has_label" in test:
                    labelled[f"{name}.{column['name']}"] = test["code_has_label"]["arguments"]["code_set"]
    return labelled


def test_every_code_column_has_its_dutch_labels():
    """Codes a policy adviser reads (English in the marts) have Dutch labels in dim_code_label: each
    code column carries the dbt test code_has_label, with a code set that the labels seed holds,
    and says so in its description; every code set of the seed labels some column."""
    import pandas as pd

    labels = pd.read_csv(PROJECT_DIR / "dbt_project" / "seeds" / "factor_model" / "code_labels.csv")
    labelled = _labelled_columns()
    expected = {
        "dim_area.area_level", "dim_factor.factor_type", "dim_indicator.measures", "dim_indicator.measures_type",
        "dim_indicator.source", "dim_indicator.unit", "dim_indicator.direction", "dim_indicator.base_area_level",
        "fct_indicator_value.area_level", "fct_indicator_value.unit", "fct_indicator_value.source",
        "fct_indicator_value.suppression_reason", "fct_indicator_value.derived_from_level",
        "fct_indicator_series.area_level", "fct_indicator_series.suppression_reason", "fct_factor_score.area_level", "fct_factor_score.factor_type",
        "mart_indicator_coverage.area_level",
        "mart_staat_van_de_jeugd.direction", "mart_staat_van_de_jeugd.assessment_previous",
        "mart_staat_van_de_jeugd.assessment_baseline", "mart_staat_van_de_jeugd_report.direction",
        "mart_staat_van_de_jeugd_report.assessment_previous", "mart_staat_van_de_jeugd_report.assessment_baseline",
        "mart_factor_ranking.scope_type", "mart_factor_ranking.factor_type",
        "fct_effect_merged.source", "fct_effect_merged.evidence_grade",
        "fct_chain_strength.source", "fct_chain_strength.effect_direction", "fct_chain_strength.area_level",
        "fct_association_local.status", "fct_association_local.method", "fct_association_local.area_level",
        "mart_model_comparison.status", "mart_model_comparison.area_level",
    }
    assert expected <= set(labelled), sorted(expected - set(labelled))
    assert set(labelled.values()) == set(labels["code_set"]), "a code set without a column, or a column without labels"
    assert not labels.duplicated(["code_set", "code"]).any()
    docs = "".join(p.read_text() for p in (MARTS.parent).glob("*.md"))
    for key, code_set in labelled.items():
        name, column = key.split(".")
        description = next(c for c in _mart_properties()[name]["columns"] if c["name"] == column)["description"]
        assert f"code_set {code_set}" in description or (
            "doc(" in description and f"code_set {code_set}" in docs.replace("\n", " ")), key
