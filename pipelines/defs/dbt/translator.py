"""How dbt nodes appear in Dagster: asset groups by dbt folder, and the description of every dbt
test shown as an asset check (dbt's generic tests carry none)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
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


GENERIC_TESTS = {
    "not_null": "`{column_name}` is never null",
    "unique": "`{column_name}` has no duplicates",
    "unique_key": "no two rows share the key ({columns})",
    "accepted_values": "`{column_name}` only holds {values}",
    "relationships": "every `{column_name}` exists as `{field}` in {to}",
    "between": "every `{column_name}` lies between {min_value} and {max_value}",
    "evidence_shares_add_up": "the evidence shares (local, literature, placeholder) lie in [0, 1] and add up to 1",
    "disclosure_rule": "no published value or count rests on fewer than min_persons persons; suppressed rows show nothing",
    "no_cell_recoverable_by_subtraction": ("no suppressed cell can be worked out by subtracting published areas "
                                           "from their wijk or gemeente total (complementary suppression)"),
    "incomplete_aggregates_withheld": ("no wijk or gemeente summed from fewer child areas than its sources deliver "
                                       "is published: it is withheld as 'incomplete'"),
}
SEVERITY = {"error": "severity error: a failure fails the dbt step and stops publishing", "warn": "severity warn: shown, does not block"}


def describe_test(node: Mapping[str, Any]) -> str:
    """A readable description of a dbt test node: its own description, else what the generic test
    checks with its arguments, else the leading comment of a singular test's SQL; with its severity."""
    meta = node.get("test_metadata") or {}
    kwargs = {k: (", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in (meta.get("kwargs") or {}).items()}
    text = (node.get("description") or "").strip()
    if not text and meta.get("name") in GENERIC_TESTS:
        try:
            text = GENERIC_TESTS[meta["name"]].format(**kwargs)
        except KeyError:
            text = ""
    if not text and meta:
        text = f"dbt test {meta.get('name')}(" + ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "model") + ")"
    if not text:
        comments = []
        for line in (node.get("raw_code") or "").splitlines():
            line = line.strip()
            if line.startswith("{{") and "config(" in line:
                continue
            if not line.startswith("--"):
                break
            comments.append(line.lstrip("- ").strip())
        text = " ".join(comments) or f"dbt test {node.get('name')}"
    severity = str((node.get("config") or {}).get("severity", "error")).lower()
    return f"{text} ({SEVERITY.get(severity, severity)})"


class FactorenmodelDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return group_for_node(dbt_resource_props)

    def get_asset_check_spec(self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str,
                             project: Any) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=describe_test(manifest["nodes"][unique_id]))
