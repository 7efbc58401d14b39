"""Network-bound assets: a transient CBS error is retried with backoff, a permanent one fails fast."""


import dagster as dg
from dagster._core.events import DagsterEventType

from pipelines.cbs.errors import CbsHttpError, CbsUnavailableError
from pipelines.defs.ops.retries import NETWORK_RETRY_POLICY, network_retry_policy, permanent_errors_fail_fast


def test_the_network_policy_is_exponential_backoff_with_jitter():
    assert NETWORK_RETRY_POLICY.max_retries == 3
    assert NETWORK_RETRY_POLICY.backoff == dg.Backoff.EXPONENTIAL
    assert NETWORK_RETRY_POLICY.jitter == dg.Jitter.PLUS_MINUS
    assert NETWORK_RETRY_POLICY.delay >= 5


def _cbs_asset(fail_with: list[Exception], attempts: list[int]) -> dg.AssetsDefinition:
    @dg.asset(name="cbs_fetch", retry_policy=network_retry_policy(delay=0.05))
    def cbs_fetch(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        attempts.append(context.retry_number)
        with permanent_errors_fail_fast("CBS StatLine"):
            if fail_with:
                raise fail_with.pop(0)
        return dg.MaterializeResult(metadata={"attempt": context.retry_number})

    return cbs_fetch


def _events(result: dg.ExecuteInProcessResult, kind: DagsterEventType) -> list:
    return [e for e in result.all_events if e.event_type == kind]


def test_a_transient_error_is_retried_until_it_succeeds():
    attempts: list[int] = []
    url = "https://opendata.cbs.nl/ODataApi/odata/85984NED/TypedDataSet"
    transient = [CbsUnavailableError(url, 5, "timed out"), CbsUnavailableError(url, 5, "HTTP 503")]
    result = dg.materialize([_cbs_asset(transient, attempts)], instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert attempts == [0, 1, 2]
    assert len(_events(result, DagsterEventType.STEP_UP_FOR_RETRY)) == 2


def test_a_permanent_error_fails_fast_with_a_clear_message():
    attempts: list[int] = []
    url = "https://opendata.cbs.nl/ODataApi/odata/99999NED/TypedDataSet"
    result = dg.materialize(
        [_cbs_asset([CbsHttpError(url, 404, "table not found")], attempts)],
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    assert attempts == [0]
    assert not _events(result, DagsterEventType.STEP_UP_FOR_RETRY)
    (failure,) = _events(result, DagsterEventType.STEP_FAILURE)
    message = failure.step_failure_data.user_failure_data.description
    assert "HTTP 404" in message and "99999NED" in message and "not retried" in message


def test_retries_run_out_after_three():
    attempts: list[int] = []
    url = "https://opendata.cbs.nl/ODataApi/odata/85984NED/TypedDataSet"
    result = dg.materialize(
        [_cbs_asset([CbsUnavailableError(url, 5, "timed out") for _ in range(5)], attempts)],
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    assert attempts == [0, 1, 2, 3]
