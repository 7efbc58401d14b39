"""How the connector talks HTTP: a replaceable ``Transport``.

``UrllibTransport`` uses the standard library; ``ReplayTransport`` answers from recorded files
(tests, offline use); ``RecordingTransport`` wraps a real transport and saves what it gets, to
make new fixtures. A transport returns ``(status, body)`` for any HTTP answer and raises only
where no answer came (timeout, connection refused): the client decides what to retry.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from pipelines.cbs.errors import CbsNotRecordedError

USER_AGENT = "factorenmodel-cbs-connector/1.0 (+https://opendata.cbs.nl)"


class Transport(Protocol):
    def get(self, url: str, timeout: float) -> tuple[int, bytes]: ...


class UrllibTransport:
    """Real HTTP with urllib; HTTP errors come back as a status, network errors raise."""

    def get(self, url: str, timeout: float) -> tuple[int, bytes]:
        request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - https URL built by odata.py
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read() or b""
        except urllib.error.URLError as exc:  # DNS, refused, TLS, or a timeout wrapped by urllib
            if isinstance(exc.reason, TimeoutError):
                raise exc.reason from None
            raise ConnectionError(f"{url}: {exc.reason}") from None


def fixture_name(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16] + ".json"


class ReplayTransport:
    """Answer from recorded responses: ``<fixtures_dir>/index.json`` maps URL -> file (status 200),
    or URL -> ``{"file": ..., "status": ...}``. An unknown URL raises ``CbsNotRecordedError`` (not an
    HTTP 404, which would read as CBS saying the table does not exist). ``calls`` lists every URL asked."""

    def __init__(self, fixtures_dir: Path | str):
        self.fixtures_dir = Path(fixtures_dir)
        index_path = self.fixtures_dir / "index.json"
        self.index: dict[str, object] = json.loads(index_path.read_text("utf-8")) if index_path.exists() else {}
        self.calls: list[str] = []

    def get(self, url: str, timeout: float) -> tuple[int, bytes]:
        self.calls.append(url)
        entry = self.index.get(url)
        if entry is None:
            raise CbsNotRecordedError(url, self.fixtures_dir)
        if isinstance(entry, str):
            entry = {"file": entry, "status": 200}
        return int(entry.get("status", 200)), (self.fixtures_dir / entry["file"]).read_bytes()


class RecordingTransport:
    """Pass requests to ``inner`` and store each answer under ``fixtures_dir`` (for ReplayTransport)."""

    def __init__(self, inner: Transport, fixtures_dir: Path | str):
        self.inner = inner
        self.fixtures_dir = Path(fixtures_dir)

    def get(self, url: str, timeout: float) -> tuple[int, bytes]:
        status, body = self.inner.get(url, timeout)
        self.fixtures_dir.mkdir(parents=True, exist_ok=True)
        name = fixture_name(url)
        (self.fixtures_dir / name).write_bytes(body)
        index_path = self.fixtures_dir / "index.json"
        index = json.loads(index_path.read_text("utf-8")) if index_path.exists() else {}
        index[url] = name if status == 200 else {"file": name, "status": status}
        index_path.write_text(json.dumps(index, indent=1, sort_keys=True), "utf-8")
        return status, body
