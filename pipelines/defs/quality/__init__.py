"""Great Expectations suites of the published marts as blocking Dagster asset checks.

One ``great_expectations`` check per dbt mart (the models under ``models/marts/``, read from the
manifest like ``serving_copy`` does), all computed by one op: one read-only connection and one GE
context for every suite, then the HTML Data Docs into ``settings.data_docs_dir``. The checks are
``blocking``: Dagster wires a blocking check's output into every downstream step of the same run,
and a check step that reports a failed blocking check with severity ERROR fails, so ``serving_copy``
(downstream of every mart) is skipped and the previous serving copy stays current.

Severity: a failed expectation of GE severity ``critical`` (the default), a suite that cannot run
or a missing mart table gives ERROR (blocks publishing); when only ``warning``/``info``
expectations fail the check fails with WARN (shown, not blocking). A mart without a suite file gets
a failed WARN result saying so, so that a new mart is never published unnoticed without checks.
"""

import datetime as dt
import json
from pathlib import Path

import dagster as dg

from pipelines.defs.publish.assets import mart_asset_keys
from pipelines.defs.resources import using_warehouse
from pipelines.defs.sources.assets import WAREHOUSE_POOL
from pipelines.quality import DEFAULT_SUITE_DIR, MartValidation, build_data_docs, validate_marts
from pipelines.quality.suites import suite_path
from pipelines.settings import PROJECT_DIR, Settings

CHECK_NAME = "great_expectations"
MAX_FAILURES_SHOWN = 20


def reference_year(settings: Settings) -> int:
    """The year freshness is measured from: the synthetic demo's last year for the demo, else the
    configured last year, else this year."""
    if settings.is_demo:
        from pipelines.demo.config import DemoConfig

        return DemoConfig().last_year
    return settings.last_year or dt.date.today().year


def _cell(value: object, width: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def failures_markdown(validation: MartValidation) -> str:
    lines = [
        "| Expectation | Column | Severity | Unexpected rows | Observed | Unexpected values | Offending rows |",
        "| --- | --- | --- | ---: | --- | --- | --- |",
    ]
    for f in validation.failures[:MAX_FAILURES_SHOWN]:
        column = ", ".join(f.column) if isinstance(f.column, list) else (f.column or "(table)")
        lines.append(
            f"| `{f.expectation_type}`{' — ' + _cell(f.description, 80) if f.description else ''} | {_cell(column)} "
            f"| {f.severity} | {'' if f.unexpected_count is None else f'{f.unexpected_count:,}'} "
            f"| {_cell(f.exception or ('' if f.observed_value is None else f.observed_value))} "
            f"| {_cell(f.unexpected_values)} | {_cell(f.unexpected_rows, 300)} |"
        )
    if validation.failed > MAX_FAILURES_SHOWN:
        lines.append(f"| … {validation.failed - MAX_FAILURES_SHOWN} more in the Data Docs | | | | | | |")
    return "\n".join(lines)


def check_result(
    key: dg.AssetKey, validation: MartValidation, pages: dict[str, Path]
) -> dg.AssetCheckResult:
    metadata: dict[str, dg.MetadataValue] = {
        "expectations_evaluated": dg.MetadataValue.int(validation.evaluated),
        "expectations_failed": dg.MetadataValue.int(validation.failed),
        "duration_seconds": dg.MetadataValue.float(round(validation.duration_seconds, 3)),
        "suite": dg.MetadataValue.path(str(suite_path(DEFAULT_SUITE_DIR, validation.mart))),
        "parameters": dg.MetadataValue.json(validation.parameters),
    }
    if validation.rows is not None:
        metadata["rows"] = dg.MetadataValue.int(validation.rows)
    if validation.error:
        metadata["error"] = dg.MetadataValue.text(validation.error)
    if validation.failures:
        metadata["failed_expectations"] = dg.MetadataValue.md(failures_markdown(validation))
    page = pages.get(validation.mart) or pages.get("index")
    if page is not None:
        metadata["data_docs"] = dg.MetadataValue.url(page.resolve().as_uri())
    if "index" in pages:
        metadata["data_docs_index"] = dg.MetadataValue.path(str(pages["index"]))
    if validation.error:
        description = f"suite could not run: {validation.error}"
    elif validation.success:
        description = f"all {validation.evaluated} expectations passed"
    else:
        description = f"{validation.failed} of {validation.evaluated} expectations failed: " + "; ".join(
            f.summary() for f in validation.failures[:3]
        )
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=validation.success and validation.error is None,
        severity=dg.AssetCheckSeverity.ERROR if validation.blocking_failed else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=description[:1000],
    )


EXPECTATION_WORDS = {
    "expect_column_values_to_not_be_null": "not null", "expect_column_values_to_be_null": "null where they must be",
    "expect_column_values_to_be_between": "ranges", "expect_column_values_to_be_in_set": "allowed values",
    "expect_column_distinct_values_to_equal_set": "allowed values", "expect_column_pair_values_to_be_in_set": "allowed values",
    "expect_column_values_to_match_regex": "formats", "expect_table_row_count_to_be_between": "row count",
    "expect_column_pair_values_a_to_be_greater_than_b": "ordered pairs (lower <= upper)",
    "expect_compound_columns_to_be_unique": "unique key", "expect_column_values_to_be_unique": "unique key",
    "expect_column_max_to_be_between": "freshness or maximum", "expect_column_mean_to_be_between": "means",
}


def describe_suite(suite_dir: Path, mart: str) -> str:
    """What the suite of ``mart`` checks, from its file: number of expectations and their kinds."""
    path = suite_path(suite_dir, mart)
    head = f"Great Expectations suite `expectations/suites/{mart}.json` on `marts.{mart}`"
    if not path.is_file():
        return head + ": no suite file yet (the check fails with WARN until there is one)."
    expectations = json.loads(path.read_text(encoding="utf-8")).get("expectations", [])
    kinds: dict[str, int] = {}
    for e in expectations:
        word = EXPECTATION_WORDS.get(e.get("type"), e.get("type", "?").removeprefix("expect_").replace("_", " "))
        kinds[word] = kinds.get(word, 0) + 1
    critical = sum(1 for e in expectations if e.get("severity", "critical") == "critical")
    return (f"{head}: {len(expectations)} expectations ({critical} critical): "
            + ", ".join(f"{k} ({n})" for k, n in kinds.items())
            + ". Blocking: a failed critical expectation stops the serving copy.")


def build_ge_checks(
    settings: Settings, mart_keys: list[dg.AssetKey], suite_dir: Path = DEFAULT_SUITE_DIR,
    name: str = "great_expectations_suites",
) -> dg.AssetChecksDefinition:
    specs = [
        dg.AssetCheckSpec(
            name=CHECK_NAME,
            asset=key,
            blocking=True,
            description=describe_suite(suite_dir, key.path[-1]),
        )
        for key in mart_keys
    ]

    @dg.multi_asset_check(
        name=name,
        specs=specs,
        can_subset=True,
        pool=WAREHOUSE_POOL,  # reads the warehouse: never while another run writes it
        description="Runs the Great Expectations suite of every selected mart and builds the Data Docs.",
    )
    def great_expectations_suites(context: dg.AssetCheckExecutionContext):
        selected = [k.asset_key for k in context.selected_asset_check_keys]
        with_suite = [k for k in selected if suite_path(suite_dir, k.path[-1]).is_file()]
        with using_warehouse(settings.warehouse_path):
            validations = validate_marts(
                settings.warehouse_path,
                [k.path[-1] for k in with_suite],
                suite_dir,
                reference_year=reference_year(settings),
                max_data_age_years=settings.max_data_age_years,
                gemeenten=sorted(settings.gemeenten),
            )
        pages = build_data_docs(validations.values(), settings.data_docs_dir)
        context.log.info(f"Great Expectations Data Docs: {pages['index']}")
        for key in selected:
            mart = key.path[-1]
            if key not in with_suite:
                context.log.warning(f"mart {mart} has no Great Expectations suite ({suite_path(suite_dir, mart)})")
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name=CHECK_NAME,
                    passed=False,
                    severity=dg.AssetCheckSeverity.WARN,
                    description=f"no suite: add {suite_path(suite_dir, mart)} (see expectations/README.md)",
                    metadata={"expectations_evaluated": dg.MetadataValue.int(0)},
                )
                continue
            validation = validations[mart]
            if not validation.success:
                context.log.warning(f"{mart}: {validation.error or '; '.join(f.summary() for f in validation.failures)}")
            yield check_result(key, validation, pages)

    return great_expectations_suites


def build_defs(settings: Settings, mart_keys: list[dg.AssetKey] | None = None) -> dg.Definitions:
    """The GE checks of the dbt marts (``mart_keys`` defaults to the marts in the dbt manifest)."""
    if mart_keys is None:
        from pipelines.defs.dbt.project import dbt_project

        mart_keys = mart_asset_keys(Path(dbt_project.manifest_path))
    if not mart_keys:
        return dg.Definitions()
    # The ML marts get their own check step: the ML assets wait for the blocking checks of the
    # marts they read, so one step over all marts would make a cycle (marts -> checks -> ML ->
    # ML marts -> checks).
    ml_names = {p.stem for p in (PROJECT_DIR / "dbt_project" / "models" / "marts" / "ml").glob("*.sql")}
    groups = {
        "great_expectations_suites": [k for k in mart_keys if k.path[-1] not in ml_names],
        "great_expectations_suites_ml": [k for k in mart_keys if k.path[-1] in ml_names],
    }
    return dg.Definitions(
        asset_checks=[build_ge_checks(settings, keys, name=name) for name, keys in groups.items() if keys]
    )
