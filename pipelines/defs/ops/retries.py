"""Retries of network-bound assets (the CBS StatLine connector, any future web source).

Attach ``NETWORK_RETRY_POLICY`` to an asset that fetches over the network::

    @dg.asset(retry_policy=NETWORK_RETRY_POLICY, ...)
    def cbs_kerncijfers_extract(context):
        with permanent_errors_fail_fast("CBS StatLine"):
            fetch_kerncijfers(...)

Dagster then re-runs the step after a transient error, up to 3 times, waiting about 10 s, 20 s and
40 s (exponential backoff, each wait jittered by up to +/- its own length so that several
deployments do not hit CBS at the same moment). ``permanent_errors_fail_fast`` turns errors that a
retry cannot cure (HTTP 404/400, a malformed answer, a table that no longer fits its mapping file)
into ``dg.Failure(allow_retries=False)``: the step fails at once, with the connector's message, and
is not retried. The connector itself already retries single requests (``pipelines/cbs/client.py``);
this policy is the second line, for a whole fetch that still failed (``CbsUnavailableError``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

NETWORK_MAX_RETRIES = 3
NETWORK_RETRY_DELAY_SECONDS = 10.0


def network_retry_policy(
    delay: float = NETWORK_RETRY_DELAY_SECONDS, max_retries: int = NETWORK_MAX_RETRIES
) -> dg.RetryPolicy:
    """Exponential backoff with jitter: waits ``delay``, ``2*delay``, ``4*delay`` (+/- jitter)."""
    return dg.RetryPolicy(
        max_retries=max_retries,
        delay=delay,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )


NETWORK_RETRY_POLICY = network_retry_policy()


def _permanent_error_types() -> tuple[type[BaseException], ...]:
    from pipelines.cbs.errors import CbsHttpError, CbsMappingError, CbsNotRecordedError, CbsResponseError

    return (CbsHttpError, CbsResponseError, CbsMappingError, CbsNotRecordedError)


@contextmanager
def permanent_errors_fail_fast(what: str = "CBS StatLine") -> Iterator[None]:
    """Re-raise permanent connector errors as ``dg.Failure(allow_retries=False)``; let transient ones
    (``CbsUnavailableError``, timeouts, connection errors) through so the retry policy retries them."""
    try:
        yield
    except _permanent_error_types() as exc:
        raise dg.Failure(
            description=f"{what}: {exc} (permanent error: not retried; fix the request, mapping file or table id)",
            metadata={"error_type": type(exc).__name__, "url": str(getattr(exc, "url", "") or "")},
            allow_retries=False,
        ) from exc
