"""Health metadata of the dbt marts, added to their materialisations so the UI plots it over time.

dbt runs as a subprocess that holds the warehouse open for the whole ``dbt build``, so the marts are
measured after dbt has exited: ``with_mart_health`` passes every dbt event through at once except
the materialisations of marts, which it holds back, measures (one read-only connection) and then
yields with extra metadata:

- ``dagster/row_count``: rows of the mart;
- ``rows_suppressed``: rows with ``is_suppressed`` (disclosure control), where the mart has it;
- ``null_share_<column>``: share of null values in each key column (area, year, indicator, factor,
  goal codes and the value or score column);
- ``duration_seconds``: dbt's execution time of the model (dagster-dbt's ``Execution Duration``);
- ``rows_incomplete`` (``fct_indicator_value``): wijk and gemeente values withheld because they were
  summed from fewer child areas than their sources deliver, or from children some of which the source
  delivers without the figure and no figure of the source's own for the area (``is_complete`` false),
  and, when there are any, ``incomplete_aggregates``: a table of them by indicator, area and year with
  the missing child areas; the run log warns with the same list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

MART_PREFIX = "marts"
KEY_COLUMNS = (
    "area_code", "gemeente_code", "year", "indicator_id", "factor_id", "subgoal_id", "domain_id", "value", "score",
)


def mart_health(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, Any]:
    """Row count, suppressed rows and null shares of the key columns of ``schema.table``."""
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, table],
        ).fetchall()
    ]
    if not columns:
        return {}
    keys = [c for c in KEY_COLUMNS if c in columns]
    selects = ["count(*)"]
    selects += [f'count(*) filter (where "{c}" is null)' for c in keys]
    if "is_suppressed" in columns:
        selects.append("count(*) filter (where is_suppressed)")
    values = con.execute(f'select {", ".join(selects)} from "{schema}"."{table}"').fetchone()
    rows = int(values[0])
    metadata: dict[str, Any] = {"dagster/row_count": dg.MetadataValue.int(rows)}
    for column, nulls in zip(keys, values[1 : 1 + len(keys)]):
        metadata[f"null_share_{column}"] = dg.MetadataValue.float(round(nulls / rows, 6) if rows else 0.0)
    if "is_suppressed" in columns:
        metadata["rows_suppressed"] = dg.MetadataValue.int(int(values[-1]))
    return metadata


INCOMPLETE_MART = "fct_indicator_value"
INCOMPLETE_LISTED = 50  # cells named in the warning and the metadata table; the count covers all


def incomplete_aggregates(con: duckdb.DuckDBPyConnection, schema: str = MART_PREFIX) -> list[tuple]:
    """The aggregates ``fct_indicator_value`` withholds as incomplete: (indicator, area, year, present,
    expected, missing child areas), ordered by year, indicator and area. Empty where the mart has no
    ``is_complete`` column (a warehouse built before it)."""
    has_column = con.execute(
        "select count(*) from information_schema.columns where table_schema = ? and table_name = ? "
        "and column_name = 'is_complete'", [schema, INCOMPLETE_MART],
    ).fetchone()[0]
    if not has_column:
        return []
    return con.execute(f"""
        select v.indicator_id, v.area_code, v.year, v.children_present, v.children_expected, c.children_missing
        from "{schema}"."{INCOMPLETE_MART}" as v
        left join intermediate.int_aggregate_completeness as c
            on c.indicator_id = v.indicator_id and c.year = v.year and c.area_code = v.area_code
           and c.derived_from_level = v.derived_from_level
        where not v.is_complete
        order by v.year, v.indicator_id, v.area_code
    """).fetchall()


def incomplete_report(rows: list[tuple]) -> tuple[str, dict[str, Any]]:
    """The warning text and the metadata for the incomplete aggregates ``rows``."""
    lines = [
        f"{indicator} {area} {year}: {present} of {expected} child areas"
        + (f" (missing {missing})" if missing else "")
        for indicator, area, year, present, expected, missing in rows[:INCOMPLETE_LISTED]
    ]
    more = f"\n... and {len(rows) - INCOMPLETE_LISTED} more" if len(rows) > INCOMPLETE_LISTED else ""
    text = (
        f"{len(rows)} wijk/gemeente value(s) withheld as incomplete (summed from fewer child areas than "
        "their sources deliver: buurt rows quarantined on arrival, see quarantine.<source>; or delivered without "
        "the figure, '.', where the source gives no figure of its own for the wijk or gemeente):\n"
        + "\n".join(lines) + more
    )
    table = "| indicator | area | year | present | expected | missing |\n| --- | --- | --- | --- | --- | --- |\n" + "\n".join(
        f"| {i} | {a} | {y} | {p} | {e} | {m or ''} |" for i, a, y, p, e, m in rows[:INCOMPLETE_LISTED]
    ) + more
    return text, {"incomplete_aggregates": dg.MetadataValue.md(table)}


def _asset_key_of(event: Any, context: dg.AssetExecutionContext | None) -> dg.AssetKey | None:
    if isinstance(event, dg.Output) and context is not None:
        try:
            return context.asset_key_for_output(event.output_name)
        except Exception:  # noqa: BLE001 - not an asset output
            return None
    return getattr(event, "asset_key", None)


def with_mart_health(
    events: Iterable[Any], warehouse_path: Path, context: dg.AssetExecutionContext | None = None
) -> Iterator[Any]:
    """Pass dbt's events through; add health metadata to the materialisations of ``marts/*``."""
    held: list[tuple[Any, dg.AssetKey]] = []
    error: BaseException | None = None
    try:
        for event in events:
            key = _asset_key_of(event, context)
            if key is not None and len(key.path) >= 2 and key.path[0] == MART_PREFIX and isinstance(
                event, (dg.Output, dg.MaterializeResult, dg.AssetMaterialization)
            ):
                held.append((event, key))
            else:
                yield event
    except Exception as exc:  # noqa: BLE001 - dbt failed: still report the marts it built, then fail
        error = exc
    if held:
        yield from _measured(held, warehouse_path, context)
    if error is not None:
        raise error


def _measured(
    held: list[tuple[Any, dg.AssetKey]], warehouse_path: Path, context: dg.AssetExecutionContext | None
) -> Iterator[Any]:
    health: dict[dg.AssetKey, dict[str, Any]] = {}
    try:
        with duckdb.connect(str(warehouse_path), read_only=True) as con:
            for _, key in held:
                health[key] = mart_health(con, MART_PREFIX, key.path[-1])
                if key.path[-1] == INCOMPLETE_MART and health[key]:
                    incomplete = incomplete_aggregates(con)
                    health[key]["rows_incomplete"] = dg.MetadataValue.int(len(incomplete))
                    if incomplete:
                        text, metadata = incomplete_report(incomplete)
                        health[key].update(metadata)
                        if context is not None:
                            context.log.warning(text)
    except duckdb.Error as exc:  # health metadata is informative: never fail the build for it
        if context is not None:
            context.log.warning(f"mart health metadata not recorded: {exc}")
    for event, key in held:
        extra = dict(health.get(key, {}))
        duration = (getattr(event, "metadata", None) or {}).get("Execution Duration")
        if duration is not None:
            value = getattr(duration, "value", duration)
            extra["duration_seconds"] = dg.MetadataValue.float(round(float(value), 3))
        yield _with_metadata(event, extra) if extra else event


def _with_metadata(event: Any, extra: dict[str, Any]) -> Any:
    if isinstance(event, dg.Output):
        return event.with_metadata({**(event.metadata or {}), **extra})
    if isinstance(event, dg.MaterializeResult):
        return dg.MaterializeResult(
            asset_key=event.asset_key, metadata={**(event.metadata or {}), **extra},
            check_results=event.check_results, data_version=event.data_version, tags=event.tags,
        )
    return event.with_metadata({**(event.metadata or {}), **extra})
