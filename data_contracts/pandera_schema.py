"""Derive the pandera schema of a source extract from its ODCS contract.

Nothing about a column is written here that the contract does not say: types, required
columns, ranges, patterns, the primary key and the ``a <= b`` rules all come from
``contract.py``. Two checks depend on the deployment rather than the contract: the years that
may be loaded and the gemeenten whose area codes the extract may hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from data_contracts.contract import AREA_CODE_PATTERNS, ColumnSpec, LessOrEqualRule, SourceContract

PANDAS_DTYPES = {"integer": "Int64", "number": "Float64", "string": "string"}


@dataclass(frozen=True)
class Scope:
    """What a deployment accepts: its gemeenten (None: any) and its years (inclusive)."""

    gemeenten: frozenset[str] | None = None
    first_year: int = 2000
    last_year: int | None = None  # None: the current calendar year

    @property
    def year_range(self) -> tuple[int, int]:
        return self.first_year, self.last_year or dt.date.today().year


def _fmt(value: float) -> str:
    return f"{value:g}"


def _column_checks(column: ColumnSpec, contract: SourceContract, scope: Scope) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if column.is_year:
        first, last = scope.year_range
        low, high = max(first, column.minimum or first), last
        checks.append(pa.Check.in_range(low, high, error=f"year outside {low}-{high}"))
    else:
        if column.minimum is not None:
            checks.append(pa.Check.ge(column.minimum, error=f"below the minimum {_fmt(column.minimum)}"))
        if column.maximum is not None:
            checks.append(pa.Check.le(column.maximum, error=f"above the maximum {_fmt(column.maximum)}"))
    if column.pattern:
        checks.append(pa.Check.str_matches(column.pattern, error=f"does not match the pattern {column.pattern}"))
    if column.area_code:
        level_pattern = AREA_CODE_PATTERNS[column.area_code]
        if not column.pattern:
            checks.append(pa.Check.str_matches(level_pattern, error=f"is not a CBS {column.area_code} code"))
        if contract.area_scope == "deployment" and scope.gemeenten:
            allowed = frozenset(g[2:6] for g in scope.gemeenten)
            names = ", ".join(sorted(scope.gemeenten))
            checks.append(
                pa.Check(
                    # malformed codes are reported by the pattern check; here only well-formed ones
                    lambda s, allowed=allowed, pattern=level_pattern: ~s.str.fullmatch(pattern) | s.str.slice(2, 6).isin(allowed),
                    error=f"area code outside the configured gemeente(n) {names}",
                )
            )
    return checks


def _rule_check(rule: LessOrEqualRule) -> pa.Check:
    def holds(frame: pd.DataFrame) -> pd.Series:
        left = frame[list(rule.left)].sum(axis=1, min_count=len(rule.left))
        right = frame[list(rule.right)].sum(axis=1, min_count=len(rule.right))
        return (left <= right).fillna(True).astype(bool)

    return pa.Check(holds, error=f"rule broken: {rule.expression}")


def build_schema(contract: SourceContract, scope: Scope = Scope()) -> pa.DataFrameSchema:
    """The pandera schema a parsed extract of this source must satisfy."""
    columns = {
        c.name: pa.Column(
            PANDAS_DTYPES[c.logical_type],
            checks=_column_checks(c, contract, scope),
            nullable=not c.required,
            required=c.required,
            description=c.description,
        )
        for c in contract.columns
    }
    return pa.DataFrameSchema(
        columns,
        checks=[_rule_check(r) for r in contract.rules],
        unique=contract.primary_key or None,
        report_duplicates="all",
        strict=False,
        coerce=False,
        name=contract.name,
        description=contract.description,
    )
