"""The columns the ML stage writes are the columns its published marts document (and enforce).

The Python column lists of ``models_ml`` and the dbt YAML of ``dbt_project/models/marts/ml`` are
written separately; the enforced dbt contracts catch a difference only when the pipeline runs.
This test finds it at once and names the columns (the marts add ``run_id`` and ``computed_at``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from models_ml import associations, chains, merge, ranking

ML_MARTS = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts" / "ml"
ADDED_BY_THE_STAGE = {"run_id", "computed_at"}

PAIRS = {
    "fct_association_local": associations.COLUMNS,
    "fct_chain_strength": chains.COLUMNS,
    "fct_effect_merged": merge.COLUMNS,
    "mart_factor_ranking": ranking.RANKING_COLUMNS,
    "mart_factor_ranking_area": ranking.RANKING_COLUMNS,
}


def _documented(model: str) -> list[str]:
    """The model's columns in the YAML of the ML marts (the two ranking marts share one file)."""
    (entry,) = [m for path in sorted(ML_MARTS.glob("*.yml"))
                for m in (yaml.safe_load(path.read_text()) or {}).get("models", []) if m["name"] == model]
    assert entry.get("config", {}).get("contract", {}).get("enforced") is True, f"{model}: contract not enforced"
    return [c["name"] for c in entry["columns"]]


@pytest.mark.parametrize("model", sorted(PAIRS))
def test_python_columns_are_the_documented_mart_columns(model):
    python = set(PAIRS[model]) | ADDED_BY_THE_STAGE
    documented = set(_documented(model))
    assert python == documented, (
        f"{model}: only in models_ml: {sorted(python - documented)}; "
        f"only in the YAML of {ML_MARTS.name}: {sorted(documented - python)}")
