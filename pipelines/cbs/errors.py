"""Errors of the CBS connector; each message names the table or URL and what to do."""

from __future__ import annotations


class CbsError(Exception):
    """Base class of every connector error."""


class CbsHttpError(CbsError):
    """A permanent HTTP error (404, 400, ...): not retried."""

    def __init__(self, url: str, status: int, detail: str = ""):
        self.url, self.status = url, status
        super().__init__(f"CBS answered HTTP {status} for {url}" + (f": {detail}" if detail else "") + " (not retried)")


class CbsNotRecordedError(CbsError):
    """The offline replay (``cbs.mode: replay``) has no recorded response for a URL: nothing was asked
    of CBS, so this is not CBS saying the table does not exist."""

    def __init__(self, url: str, fixtures_dir):
        self.url = url
        super().__init__(
            f"the CBS replay folder {fixtures_dir} (cbs.mode: replay, cbs.fixtures) has no recorded response for {url}; "
            "no request went to CBS. Record it where CBS can be reached (pipelines/cbs/README.md, RecordingTransport), "
            "or leave the table or year out of cbs.tables / cbs.years."
        )


class CbsUnavailableError(CbsError):
    """Transient errors on every attempt (timeouts, connection errors, 429, 5xx)."""

    def __init__(self, url: str, attempts: int, last: str):
        self.url, self.attempts = url, attempts
        super().__init__(f"CBS did not answer {url} after {attempts} attempts; last error: {last}")


class CbsResponseError(CbsError):
    """An answer that is not the OData JSON it should be (malformed page, missing 'value')."""

    def __init__(self, url: str, problem: str):
        self.url = url
        super().__init__(f"malformed CBS response from {url}: {problem}")


class CbsMappingError(CbsError):
    """A table's columns no longer fit the mapping file, or the mapping does not fit the contract."""
