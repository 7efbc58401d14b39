"""Run a mart's suite on the warehouse with the GE 1.x API and summarise the result.

The mart is read from the DuckDB warehouse through a read-only connection into pandas, only the
columns the suite refers to (plus the key), and validated through a GE pandas datasource
(``add_pandas`` -> ``add_dataframe_asset`` -> ``add_batch_definition_whole_dataframe`` ->
``ValidationDefinition.run``), the expectations in groups by the columns they read, each group on
a frame of only those columns, the groups' results merged into one suite result in the suite's
order (``expectation_groups``; a failed expectation is run again with the key columns to name its
rows). GE 1.24's SQL datasource does not work with duckdb_engine 0.17 and
SQLAlchemy 2.1 (table reflection loses the schema and metric bundles come back empty), so the SQL
route was tried and dropped.
"""

from __future__ import annotations

import copy
import logging
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipelines.quality.parameters import expectation_parameters
from pipelines.quality.suites import (
    DEFAULT_SUITE_DIR,
    MARTS_SCHEMA,
    expectation_columns,
    key_columns,
    load_suite,
    read_suite_json,
    referenced_columns,
)

SAMPLE_SIZE = 5  # unexpected values and rows reported per failing expectation
DATA_DOCS_SITE = "factorenmodel"
BLOCKING_SEVERITY = "critical"  # GE expectation severity that stops publishing


@dataclass(frozen=True)
class ExpectationFailure:
    """One failed expectation: which, on what, how many rows, and a few of them."""

    expectation_type: str
    column: str | list[str] | None
    severity: str
    kwargs: dict[str, Any]
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    unexpected_values: list[Any] = field(default_factory=list)
    unexpected_rows: list[dict[str, Any]] = field(default_factory=list)
    exception: str | None = None
    description: str | None = None

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING_SEVERITY

    def summary(self) -> str:
        target = ", ".join(self.column) if isinstance(self.column, list) else (self.column or "table")
        if self.exception:
            return f"{self.expectation_type} on {target}: error {self.exception}"
        if self.unexpected_count is not None:
            first = f", first row {self.unexpected_rows[0]}" if self.unexpected_rows else ""
            return (f"{self.expectation_type} on {target}: {self.unexpected_count:,} unexpected rows "
                    f"(e.g. {self.unexpected_values[:3]}{first})")
        return f"{self.expectation_type} on {target}: observed {self.observed_value!r}"


@dataclass
class MartValidation:
    """The result of one mart's suite."""

    mart: str
    success: bool
    evaluated: int
    failures: list[ExpectationFailure]
    rows: int | None
    duration_seconds: float
    parameters: dict[str, Any]
    error: str | None = None  # the mart or its suite could not be read
    ge_result: Any = None  # great_expectations ExpectationSuiteValidationResult (for Data Docs)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def blocking_failed(self) -> bool:
        """True when publishing must stop: a critical expectation failed, or the suite could not run."""
        return self.error is not None or any(f.blocking for f in self.failures)


def json_plain(value: Any) -> Any:
    """JSON-friendly copy (numpy scalars and timestamps to Python values)."""
    if isinstance(value, dict):
        return {str(k): json_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and type(value).__module__ == "numpy":
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _failure(result: Any, key: Sequence[str]) -> ExpectationFailure:
    config = result.expectation_config
    kwargs = dict(config.kwargs)
    column = kwargs.get("column") or kwargs.get("column_list")
    if column is None and "column_A" in kwargs:
        column = [kwargs["column_A"], kwargs["column_B"]]
    details = result.result or {}
    exception = None
    info = result.exception_info or {}
    if info.get("raised_exception"):
        exception = str(info.get("exception_message"))
    else:
        for nested in info.values() if isinstance(info, dict) else []:
            if isinstance(nested, dict) and nested.get("raised_exception"):
                exception = str(nested.get("exception_message"))
                break
    rows = []
    for entry in details.get("partial_unexpected_index_list") or []:
        if isinstance(entry, dict):
            rows.append(json_plain(entry))
        if len(rows) >= SAMPLE_SIZE:
            break
    shown_kwargs = {
        k: json_plain(v.dict() if hasattr(v, "dict") else v) for k, v in kwargs.items() if k not in ("result_format",)
    }
    return ExpectationFailure(
        expectation_type=config.type,
        column=json_plain(column),
        severity=str(getattr(config, "severity", BLOCKING_SEVERITY) or BLOCKING_SEVERITY).split(".")[-1].lower(),
        kwargs=shown_kwargs,
        unexpected_count=json_plain(details.get("unexpected_count")),
        unexpected_percent=json_plain(details.get("unexpected_percent")),
        observed_value=json_plain(details.get("observed_value")),
        unexpected_values=json_plain(list(details.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]),
        unexpected_rows=rows,
        exception=exception,
        description=(config.meta or {}).get("description"),
    )


MAX_ENUM_VALUES = 100_000  # text columns with more distinct values are read as text, then categories


def _text_as_enum(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """``sql`` with its text columns of at most ``MAX_ENUM_VALUES`` distinct values cast to an ENUM
    of those values, which DuckDB hands to pandas as a category without a Python string per cell."""
    relation = con.sql(sql)
    text = [name for name, kind in zip(relation.columns, relation.types) if str(kind) == "VARCHAR"]
    if not text:
        return sql

    def quoted(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    counts = con.execute(
        "select " + ", ".join(f"count(distinct {quoted(c)})" for c in text) + f" from ({sql}) as q").fetchone()
    small = [c for c, n in zip(text, counts) if 0 < n <= MAX_ENUM_VALUES]
    if not small:
        return sql
    values = con.execute(
        "select " + ", ".join(f"list(distinct {quoted(c)} order by {quoted(c)})" for c in small)
        + f" from ({sql}) as q").fetchone()
    enums = {c: ", ".join("'" + str(v).replace("'", "''") + "'" for v in vs) for c, vs in zip(small, values)}
    select = ", ".join(
        f"cast({quoted(c)} as enum({enums[c]})) as {quoted(c)}" if c in enums else quoted(c)
        for c in relation.columns)
    return f"select {select} from ({sql}) as q"


def read_table_compact(con: duckdb.DuckDBPyConnection, sql: str, rows_per_chunk: int = 1 << 20):
    """The query's result as a DataFrame whose text columns are categories, read in chunks.

    Turning a national-scale mart (millions of rows) into pandas at once makes one Python string
    per cell; reading chunk by chunk and keeping text as categories keeps the peak memory a fraction
    of that. Text columns with few distinct values (codes, levels, units: all of the marts' text)
    arrive as categories straight from DuckDB (``_text_as_enum``: the national fct_indicator_value
    in 3.8 s instead of 13.7 s).
    """
    import pandas as pd
    from pandas.api.types import union_categoricals

    sql = _text_as_enum(con, sql)
    cursor = con.execute(sql)
    parts = []
    while True:
        chunk = cursor.fetch_df_chunk(max(1, rows_per_chunk // 2048))
        if chunk.empty:
            break
        for column in chunk.columns:
            if chunk[column].dtype == object:
                chunk[column] = chunk[column].astype("category")
        parts.append(chunk)
    if not parts:
        return pd.DataFrame(columns=[d[0] for d in cursor.description])
    columns = {}
    for column in parts[0].columns:
        pieces = [p[column] for p in parts]
        if isinstance(pieces[0].dtype, pd.CategoricalDtype):
            columns[column] = pd.Series(union_categoricals([p.astype("category") for p in pieces]))
        else:
            columns[column] = pd.concat(pieces, ignore_index=True)
            if pd.api.types.is_signed_integer_dtype(columns[column].dtype) and not isinstance(
                    columns[column].dtype, pd.api.extensions.ExtensionDtype):
                # DuckDB's INTEGER arrives as int32, which Great Expectations' range check (between)
                # compares one Python value at a time; as int64 it is one vectorised comparison
                # (7 s less on the national fct_indicator_value)
                columns[column] = columns[column].astype("int64")
    return pd.DataFrame(columns)


def expectation_groups(expectations: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[tuple[list[str], list[int]]]:
    """The suite's expectations grouped by the columns they read: (columns, positions) per group.

    Great Expectations' pandas engine filters and copies the whole frame for many metrics of every
    expectation (nulls left out, row conditions applied), so its time grows with the frame's width:
    validating each group on a frame of only its columns took the national fct_indicator_value's
    suite from 20 s to 7 s. An expectation that reads no column (a row count) gets the first
    column; one that needs every column (column set, column count) gets them all.
    """
    groups: dict[tuple[str, ...], list[int]] = {}
    for position, expectation in enumerate(expectations):
        read = expectation_columns(expectation)
        if read is None:
            wanted = tuple(columns)
        else:
            wanted = tuple(c for c in columns if c in read) or tuple(columns[:1])
        groups.setdefault(wanted, []).append(position)
    return [(list(read), members) for read, members in groups.items()]


class SuiteRunner:
    """One ephemeral GE context for a batch of validations (creating a context costs ~0.1 s)."""

    def __init__(self, suite_dir: Path = DEFAULT_SUITE_DIR) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        self.gx = gx
        self.suite_dir = Path(suite_dir)
        # GE fingerprints every pandas batch under 1 GB (a hash of every cell, md5-summed: 0.4 s per
        # validation of the national fct_indicator_value); the fingerprint is only a batch marker
        # in the result, and each mart here is validated as several narrow batches, so it is off
        from great_expectations.execution_engine import pandas_execution_engine

        pandas_execution_engine.HASH_THRESHOLD = 0
        self.context = gx.get_context(mode="ephemeral")
        # no tqdm bars on stderr ("Calculating Metrics: ...it/s" filled the Dagster step log); the
        # check's result and metadata say what was validated
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.datasource = self.context.data_sources.add_pandas("warehouse")

    def _run(self, name: str, batch_definition: Any, expectations: list[dict[str, Any]], frame: Any,
             parameters: Mapping[str, Any], key: list[str] | None) -> Any:
        """One GE validation of ``expectations`` on ``frame``; its results in the order given."""
        suite = self.context.suites.add_or_update(
            self.gx.ExpectationSuite(name=name, expectations=copy.deepcopy(expectations)))
        definition = self.context.validation_definitions.add_or_update(
            self.gx.ValidationDefinition(name=name, data=batch_definition, suite=suite))
        result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
        if key:
            result_format["unexpected_index_column_names"] = key
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = definition.run(batch_parameters={"dataframe": frame},
                                    expectation_parameters=dict(parameters), result_format=result_format)
        position = {expectation.id: n for n, expectation in enumerate(suite.expectations)}
        result.results.sort(key=lambda r: position[r.expectation_config.id])
        return result

    def _merged(self, mart: str, results: list[Any], runs: list[Any]) -> Any:
        """The groups' results as one suite result of the mart, in the suite's order (for the check
        and the Data Docs)."""
        from great_expectations.core import ExpectationSuiteValidationResult
        from great_expectations.validator.validation_statistics import calc_validation_statistics

        statistics = calc_validation_statistics(results)
        first = runs[0] if runs else None
        return ExpectationSuiteValidationResult(
            success=statistics.success,
            results=results,
            suite_name=mart,
            statistics={
                "evaluated_expectations": statistics.evaluated_expectations,
                "successful_expectations": statistics.successful_expectations,
                "unsuccessful_expectations": statistics.unsuccessful_expectations,
                "success_percent": statistics.success_percent,
            },
            meta=dict(first.meta) if first is not None else {},
            batch_id=first.batch_id if first is not None else None,
        )

    def validate(self, con: duckdb.DuckDBPyConnection, mart: str, parameters: Mapping[str, Any]) -> MartValidation:
        started = time.perf_counter()

        def broken(message: str) -> MartValidation:
            return MartValidation(mart, False, 0, [], None, time.perf_counter() - started, dict(parameters), message)

        try:
            suite_json = read_suite_json(self.suite_dir, mart)
            load_suite(self.suite_dir, mart)  # a suite GE cannot read fails here, named
        except (OSError, ValueError) as exc:
            return broken(str(exc))
        table_columns = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                "order by ordinal_position",
                [MARTS_SCHEMA, mart],
            ).fetchall()
        ]
        if not table_columns:
            return broken(f"table {MARTS_SCHEMA}.{mart} does not exist in the warehouse")
        wanted = referenced_columns(suite_json)
        missing = sorted((wanted or set()) - set(table_columns))
        if missing:
            return broken(f"{MARTS_SCHEMA}.{mart} lacks the columns {missing} that its suite checks")
        columns = [c for c in table_columns if wanted is None or c in wanted]
        select = ", ".join(f'"{c}"' for c in columns)
        frame = read_table_compact(con, f'select {select} from {MARTS_SCHEMA}."{mart}"')

        key = [c for c in key_columns(suite_json) if c in columns]
        batch_definition = self.datasource.add_dataframe_asset(mart).add_batch_definition_whole_dataframe("whole_table")
        expectations = suite_json.get("expectations", [])
        results: list[Any] = [None] * len(expectations)
        runs = []
        for number, (read, members) in enumerate(expectation_groups(expectations, list(frame.columns))):
            group = [expectations[i] for i in members]
            run = self._run(f"{mart}.{number}", batch_definition, group, frame[read], parameters, key=None)
            runs.append(run)
            failing = [i for i, r in zip(members, run.results) if not r.success]
            for i, r in zip(members, run.results):
                results[i] = r
            if failing and key:
                # again, only the failed ones, with the key columns to name the offending rows
                rows = list(dict.fromkeys(read + key))
                again = self._run(f"{mart}.{number}.rows", batch_definition, [expectations[i] for i in failing],
                                  frame[rows], parameters, key=key)
                for i, r in zip(failing, again.results):
                    results[i] = r
        result = self._merged(mart, results, runs)
        failures = [_failure(r, key) for r in result.results if not r.success]
        return MartValidation(
            mart=mart,
            success=bool(result.success),
            evaluated=len(result.results),
            failures=failures,
            rows=len(frame),
            duration_seconds=time.perf_counter() - started,
            parameters=dict(parameters),
            ge_result=result,
        )


def validate_marts(
    warehouse_path: Path,
    marts: Iterable[str],
    suite_dir: Path = DEFAULT_SUITE_DIR,
    *,
    reference_year: int | None = None,
    max_data_age_years: int = 3,
    gemeenten: Iterable[str] | None = None,
) -> dict[str, MartValidation]:
    """Validate several marts with one read-only connection and one GE context."""
    runner = SuiteRunner(suite_dir)
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        parameters = expectation_parameters(
            con, reference_year=reference_year, max_data_age_years=max_data_age_years, gemeenten=gemeenten
        )
        return {mart: runner.validate(con, mart, parameters) for mart in marts}
    finally:
        con.close()


def validate_mart(
    warehouse_path: Path,
    mart: str,
    suite_dir: Path = DEFAULT_SUITE_DIR,
    *,
    reference_year: int | None = None,
    max_data_age_years: int = 3,
    gemeenten: Iterable[str] | None = None,
) -> MartValidation:
    """Run ``<suite_dir>/<mart>.json`` on ``marts.<mart>`` of the warehouse (read-only)."""
    return validate_marts(
        warehouse_path, [mart], suite_dir,
        reference_year=reference_year, max_data_age_years=max_data_age_years, gemeenten=gemeenten,
    )[mart]


def build_data_docs(validations: Iterable[MartValidation], docs_dir: Path) -> dict[str, Path]:
    """GE's HTML Data Docs of these validations in ``docs_dir``: the index page and one page per mart.

    Returns ``{"index": <index.html>, <mart>: <its validation page>, ...}``. Each mart's latest
    result is kept in ``docs_dir/_results/<mart>.json``, so the index lists the newest validation
    of every mart, also when the marts are checked in separate steps.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    docs_dir = Path(docs_dir).resolve()
    docs_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="ephemeral")
    for site in list(context.get_site_names()):
        context.delete_data_docs_site(site)
    context.add_data_docs_site(
        DATA_DOCS_SITE,
        {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    import json

    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.core.run_identifier import RunIdentifier

    results_dir = docs_dir / "_results"
    results_dir.mkdir(exist_ok=True)
    current = {v.mart: v.ge_result for v in validations if v.ge_result is not None}
    for mart, result in current.items():
        (results_dir / f"{mart}.json").write_text(json.dumps(result.to_json_dict()), encoding="utf-8")
    earlier = {}
    for path in sorted(results_dir.glob("*.json")):
        if path.stem not in current:
            try:
                earlier[path.stem] = ExpectationSuiteValidationResult(**json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, TypeError):
                continue  # a result from another GE version: its page stays, the index skips it
    identifiers = {}
    for mart, result in {**earlier, **current}.items():
        run_id = result.meta["run_id"]
        if isinstance(run_id, dict):
            run_id = RunIdentifier(run_name=run_id.get("run_name"), run_time=run_id.get("run_time"))
        identifier = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=run_id,
            batch_identifier=mart,
        )
        context.validation_results_store.set(identifier, result)
        if mart in current:
            identifiers[mart] = identifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        context.build_data_docs(site_names=[DATA_DOCS_SITE])
    pages: dict[str, Path] = {"index": docs_dir / "index.html"}
    for mart, identifier in identifiers.items():
        for entry in context.get_docs_sites_urls(resource_identifier=identifier, site_name=DATA_DOCS_SITE):
            url = entry.get("site_url") or ""
            if url.startswith("file://"):
                pages[mart] = Path(url.removeprefix("file://"))
    return pages
