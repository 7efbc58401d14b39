"""Check parsed rows against the contract's pandera schema and collect a reason for every bad row."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
import pandera.pandas as pa

from data_contracts.contract import SourceContract
from data_contracts.pandera_schema import Scope, build_schema
from pipelines.ingest.parse import ParsedExtract

_PANDERA_WORDING = {"not_nullable": "required value is missing"}
_UNIQUENESS_CHECKS = {"multiple_fields_uniqueness", "field_uniqueness", "unique"}


def duplicate_key_reasons(parsed: ParsedExtract, contract: SourceContract) -> dict[int, str]:
    """For every row whose primary key occurs more than once: which other rows share it."""
    key = contract.primary_key
    if not key:
        return {}
    keys = parsed.typed[key]
    duplicated = keys.duplicated(keep=False) & keys.notna().all(axis=1)
    reasons = {}
    for _, group in keys[duplicated].groupby(key, dropna=True):
        places = {i: f"row {parsed.text.at[i, '_source_row']} of {parsed.text.at[i, '_source_file']}" for i in group.index}
        shown = ", ".join(f"{k}={group.iloc[0][k]}" for k in key)
        for index in group.index:
            others = "; ".join(p for i, p in places.items() if i != index)
            reasons[index] = f"duplicate key ({shown}): also on {others}"
    return reasons


def _describe(failure: pd.Series, contract: SourceContract) -> str:
    check = str(failure["check"])
    column = failure["column"]
    if failure["schema_context"] == "DataFrameSchema" and check.startswith("rule broken"):
        return check
    wording = _PANDERA_WORDING.get(check, check)
    value = failure["failure_case"]
    shown = "" if check == "not_nullable" or pd.isna(value) else f" (value {value!r})"
    return f"{column}: {wording}{shown}"


def row_reasons(parsed: ParsedExtract, contract: SourceContract, scope: Scope) -> dict[int, list[str]]:
    """Reasons per row index; rows without an entry satisfy the contract."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for index, reason in parsed.row_problems.items():
        reasons[index].append(reason)
    for (index, _column), reason in parsed.cell_problems.items():
        reasons[index].append(reason)
    for index, reason in duplicate_key_reasons(parsed, contract).items():
        reasons[index].append(reason)
    unreadable = {(i, c) for i, c in parsed.cell_problems}
    try:
        build_schema(contract, scope).validate(parsed.typed, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
        failures = failures[failures["index"].notna()]
        seen: set[tuple[int, str]] = set()
        for _, failure in failures.iterrows():
            index = int(failure["index"])
            if (index, failure["column"]) in unreadable or str(failure["check"]) in _UNIQUENESS_CHECKS:
                continue  # explained by the unreadable cell, or by duplicate_key_reasons
            reason = _describe(failure, contract)
            if (index, reason) in seen:
                continue
            seen.add((index, reason))
            reasons[index].append(reason)
    return dict(reasons)
