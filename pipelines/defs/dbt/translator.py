"""How dbt nodes appear in Dagster: asset groups by dbt folder, and kinds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

GROUP_BY_FOLDER = {"staging": "staging", "intermediate": "staging", "marts": "marts"}


def group_for_node(node: Mapping[str, Any]) -> str:
    """Seeds hold the factor model itself; models are grouped by their top folder, except the ML
    marts (models/marts/ml), which join the ML assets that fill them in group ``ml``."""
    if node["resource_type"] == "seed":
        return "factor_model"
    path = node.get("original_file_path", "")
    if path.startswith("models/marts/ml/"):
        return "ml"
    folder = path.split("/")[1:2]
    return GROUP_BY_FOLDER.get(folder[0] if folder else "", "marts")


class FactorenmodelDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return group_for_node(dbt_resource_props)
