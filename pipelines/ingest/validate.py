"""Check parsed rows against the contract's pandera schema and collect a reason for every bad row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping

import pandas as pd
import pandera.pandas as pa

from data_contracts.contract import SourceContract
from data_contracts.pandera_schema import Scope, build_schema
from pipelines.ingest.parse import ParsedExtract

_PANDERA_WORDING = {"not_nullable": "required value is missing"}
_UNIQUENESS_CHECKS = {"multiple_fields_uniqueness", "field_uniqueness", "unique"}


def _place(parsed: ParsedExtract, index: int, other: int | None = None) -> str:
    """'line N of file', or 'line N' when ``other`` is a row of the same file."""
    file, row = parsed.text.at[index, "_source_file"], parsed.text.at[index, "_source_row"]
    if other is not None and parsed.text.at[other, "_source_file"] == file:
        return f"line {row}"
    return f"line {row} of {file}"


def exact_duplicate_reasons(parsed: ParsedExtract, contract: SourceContract) -> dict[int, str]:
    """Every row that repeats an earlier row exactly (every contract column as delivered, but for
    whitespace around values): the extra copy, with the line it repeats. The first copy is not
    touched: it loads if nothing else is wrong."""
    values = parsed.stripped[contract.column_names]
    if contract.primary_key:  # a repeated row repeats its key: compare whole rows only where the key repeats
        values = values[values[contract.primary_key].fillna("").duplicated(keep=False)]
    values = values.fillna("")
    repeated = values[values.duplicated(keep=False)]
    reasons = {}
    for _, group in repeated.groupby(list(values.columns), sort=False):
        first, *extra = group.index
        for index in extra:
            reasons[index] = f"exact duplicate of {_place(parsed, first, index)}"
    return reasons


def duplicate_key_reasons(
    parsed: ParsedExtract, contract: SourceContract, extra_copies: Collection[int] = ()
) -> dict[int, str]:
    """For every row whose primary key occurs more than once with different values: which other rows
    share it. ``extra_copies`` (exact repeats of another row, quarantined as such) do not count."""
    key = contract.primary_key
    if not key:
        return {}
    keys = parsed.typed[key].drop(index=list(extra_copies))
    duplicated = keys.duplicated(keep=False) & keys.notna().all(axis=1)
    reasons = {}
    for _, group in keys[duplicated].groupby(key, dropna=True):
        places = {i: f"row {parsed.text.at[i, '_source_row']} of {parsed.text.at[i, '_source_file']}" for i in group.index}
        shown = ", ".join(f"{k}={group.iloc[0][k]}" for k in key)
        for index in group.index:
            others = "; ".join(p for i, p in places.items() if i != index)
            reasons[index] = f"duplicate key ({shown}): also on {others}"
    return reasons


def _describe(failure: Mapping[str, object], contract: SourceContract) -> str:
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
    extra_copies = exact_duplicate_reasons(parsed, contract)
    for index, reason in extra_copies.items():
        reasons[index].append(reason)
    for index, reason in duplicate_key_reasons(parsed, contract, extra_copies).items():
        reasons[index].append(reason)
    unreadable = {(i, c) for i, c in parsed.cell_problems}
    try:
        build_schema(contract, scope).validate(parsed.typed, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
        failures = failures[failures["index"].notna()]
        seen: set[tuple[int, str]] = set()
        for values in failures.to_numpy():  # the rows as iterrows gives them, without a Series per row
            failure = dict(zip(failures.columns, values))
            index = int(failure["index"])
            if (index, failure["column"]) in unreadable or str(failure["check"]) in _UNIQUENESS_CHECKS:
                continue  # explained by the unreadable cell, or by duplicate_key_reasons
            reason = _describe(failure, contract)
            if (index, reason) in seen:
                continue
            seen.add((index, reason))
            reasons[index].append(reason)
    return dict(reasons)
