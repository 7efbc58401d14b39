"""The suites: one GE 1.x suite JSON file per published mart, ``<suite dir>/<mart>.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_SUITE_DIR = PROJECT_DIR / "expectations" / "suites"
MARTS_SCHEMA = "marts"


def suite_path(suite_dir: Path, mart: str) -> Path:
    return Path(suite_dir) / f"{mart}.json"


def suite_marts(suite_dir: Path = DEFAULT_SUITE_DIR) -> list[str]:
    """Names of the marts that have a suite."""
    return sorted(p.stem for p in Path(suite_dir).glob("*.json"))


def read_suite_json(suite_dir: Path, mart: str) -> dict[str, Any]:
    path = suite_path(suite_dir, mart)
    if not path.is_file():
        raise FileNotFoundError(f"no Great Expectations suite for mart {mart!r}: expected {path}")
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("name") != mart:
        raise ValueError(f"{path}: suite name {data.get('name')!r} differs from the mart {mart!r}")
    return data


def load_suite(suite_dir: Path, mart: str):
    """The suite of ``mart`` as a ``gx.ExpectationSuite`` (not yet added to a context)."""
    import great_expectations as gx

    data = read_suite_json(suite_dir, mart)
    data.pop("id", None)
    for expectation in data.get("expectations", []):
        expectation.pop("id", None)
    return gx.ExpectationSuite(**data)


def key_columns(suite_json: dict[str, Any]) -> list[str]:
    """The mart's key (``meta.primary_key`` of the suite): used to name the offending rows."""
    return list(suite_json.get("meta", {}).get("primary_key", []))


def _condition_columns(condition: Any) -> set[str]:
    if isinstance(condition, dict):
        found = set()
        column = condition.get("column")
        if isinstance(column, dict) and "name" in column:
            found.add(column["name"])
        for value in condition.values():
            if isinstance(value, (dict, list)):
                found |= _condition_columns(value)
        return found
    if isinstance(condition, list):
        return set().union(*(_condition_columns(c) for c in condition)) if condition else set()
    return set()


NEEDS_ALL_COLUMNS = {"expect_table_columns_to_match_set", "expect_table_columns_to_match_ordered_list",
                     "expect_table_column_count_to_equal", "expect_table_column_count_to_be_between"}


def expectation_columns(expectation: dict[str, Any]) -> set[str] | None:
    """Columns one expectation reads (its row condition's included); None when it needs them all."""
    if expectation["type"] in NEEDS_ALL_COLUMNS:
        return None
    kwargs = expectation.get("kwargs", {})
    columns = {kwargs[name] for name in ("column", "column_A", "column_B") if isinstance(kwargs.get(name), str)}
    if isinstance(kwargs.get("column_list"), list):
        columns.update(kwargs["column_list"])
    return columns | _condition_columns(kwargs.get("row_condition"))


def referenced_columns(suite_json: dict[str, Any]) -> set[str] | None:
    """Columns the suite reads, so only those are loaded; None when a table-level expectation needs
    them all (for example ``expect_table_columns_to_match_set``)."""
    columns: set[str] = set(key_columns(suite_json))
    for expectation in suite_json.get("expectations", []):
        read = expectation_columns(expectation)
        if read is None:
            return None
        columns |= read
    return columns


def warehouse_marts(warehouse_path: Path) -> list[str]:
    """Tables and views in schema ``marts`` of the warehouse (read-only)."""
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [MARTS_SCHEMA]
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]
