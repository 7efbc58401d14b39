"""A mart's suite is validated in groups of expectations, each on a frame of only the columns it
reads (``expectation_groups``), and the groups' results merged into one suite result. That must
give what one Great Expectations run of the whole suite on the whole frame gives."""

from __future__ import annotations

import json
import warnings

import duckdb
import great_expectations as gx

from pipelines.quality.suites import referenced_columns
from pipelines.quality.validate import SuiteRunner, json_plain, expectation_groups, read_table_compact

KEY = ["area_code", "year"]
SUITE = {
    "name": "t",
    "meta": {"primary_key": KEY},
    "expectations": [
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": KEY}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "value"}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "value", "min_value": 0, "max_value": 100,
                    "row_condition": {"type": "comparison", "column": {"name": "unit"}, "operator": "==",
                                      "parameter": "percentage"}}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "unit", "value_set": ["percentage", "mean"]}},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b",
         "kwargs": {"column_A": "ci_upper", "column_B": "value", "or_equal": True,
                    "ignore_row_if": "either_value_is_missing"}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": {"$PARAMETER": "rows"}}},
        {"type": "expect_column_max_to_be_between", "kwargs": {"column": "year", "min_value": 2020}},
        {"type": "expect_table_columns_to_match_set",
         "kwargs": {"column_set": ["area_code", "year", "value", "unit", "ci_upper", "note"], "exact_match": False}},
    ],
}
ROWS = """
create schema marts;
create table marts.t as
select 'BU' || lpad((i % 400)::varchar, 4, '0') as area_code, 2015 + i // 400 as year,
    case when i % 97 = 0 then null when i % 89 = 0 then 150.0 else (i % 100)::double end as value,
    case when i % 71 = 0 then 'count' when i % 3 = 0 then 'mean' else 'percentage' end as unit,
    case when i % 83 = 0 then -1.0 else 200.0 end as ci_upper,
    'not read' as note
from range(4000) as r(i)
union all select 'BU0001', 2015, 1.0, 'mean', 2.0, 'a repeated key'
"""


def test_groups_by_the_columns_read_in_the_frames_column_order():
    groups = expectation_groups(SUITE["expectations"], ["area_code", "year", "value", "unit", "ci_upper"])
    assert groups == [
        (["area_code", "year"], [0]),
        (["value"], [1]),
        (["value", "unit"], [2]),
        (["unit"], [3]),
        (["value", "ci_upper"], [4]),
        (["area_code"], [5]),  # reads no column: the first one
        (["year"], [6]),
        (["area_code", "year", "value", "unit", "ci_upper"], [7]),  # needs them all
    ]


def whole_suite_in_one_run(con, parameters):
    """The reference: Great Expectations on the whole frame, the whole suite in one run."""
    columns = sorted(referenced_columns(SUITE) or [])
    frame = read_table_compact(con, "select * from marts.t")
    context = gx.get_context(mode="ephemeral")
    batch = context.data_sources.add_pandas("p").add_dataframe_asset("t").add_batch_definition_whole_dataframe("b")
    suite = context.suites.add(gx.ExpectationSuite(name="t", expectations=json.loads(json.dumps(SUITE["expectations"]))))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="t", data=batch, suite=suite))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return columns, definition.run(
            batch_parameters={"dataframe": frame}, expectation_parameters=parameters,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20,
                           "unexpected_index_column_names": KEY})


def outcome(result):
    """What a result says, as JSON text (a missing value is NaN, which is not equal to itself)."""
    details = result.result or {}
    return json.dumps(json_plain([result.expectation_config.type, result.success, details.get("unexpected_count"),
                              details.get("observed_value"), details.get("partial_unexpected_list"),
                              details.get("partial_unexpected_index_list")]))


def test_grouped_validation_gives_what_one_run_of_the_whole_suite_gives(tmp_path):
    (tmp_path / "t.json").write_text(json.dumps(SUITE))
    con = duckdb.connect()
    con.execute(ROWS)
    parameters = {"rows": 5000}
    _, reference = whole_suite_in_one_run(con, parameters)
    grouped = SuiteRunner(tmp_path).validate(con, "t", parameters)

    # the same results; the grouped ones in the suite's order (one GE run puts the failed ones first)
    assert [r.expectation_config.type for r in grouped.ge_result.results] == [e["type"] for e in SUITE["expectations"]]
    assert sorted(outcome(r) for r in grouped.ge_result.results) == sorted(outcome(r) for r in reference.results)
    assert grouped.ge_result.statistics == reference.statistics
    assert grouped.ge_result.success is reference.success is False
    # every kind of failure is there, its rows named by the key
    failed = {f.expectation_type: f for f in grouped.failures}
    assert set(failed) == {"expect_compound_columns_to_be_unique", "expect_column_values_to_not_be_null",
                           "expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
                           "expect_column_pair_values_a_to_be_greater_than_b",
                           "expect_table_row_count_to_be_between"}
    assert failed["expect_column_values_to_be_between"].unexpected_rows[0] == {
        "value": 150.0, "area_code": "BU0089", "year": 2015}


def test_the_batch_fingerprint_is_still_switched_off_by_its_threshold():
    """SuiteRunner sets GE's HASH_THRESHOLD to 0 so that no batch is fingerprinted (a hash of every
    cell per group); if GE renames or drops that threshold, the setting would silently do nothing."""
    import inspect

    from great_expectations.execution_engine import pandas_execution_engine

    source = inspect.getsource(pandas_execution_engine.PandasExecutionEngine.get_batch_data_and_markers)
    assert "HASH_THRESHOLD" in source and "pandas_data_fingerprint" in source
    SuiteRunner()
    assert pandas_execution_engine.HASH_THRESHOLD == 0
