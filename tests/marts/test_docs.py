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


def test_every_mart_has_documented_columns_and_an_enforced_contract():
    sql_models = {p.stem for p in MARTS.rglob("*.sql")}
    properties = _mart_properties()
    assert sql_models == set(properties), "each mart needs its own properties YAML"
    for name, model in properties.items():
        assert len(model.get("description", "")) > 40, name
        assert model["config"]["contract"]["enforced"] is True, name
        assert any(c["type"] == "primary_key" for c in model.get("constraints", [])), name
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
