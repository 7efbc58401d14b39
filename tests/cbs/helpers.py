"""Test transports and paths for the CBS connector tests."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_CBS = Path(__file__).resolve().parents[2].parent / "shared" / "cbs"


class ScriptedTransport:
    """Answers each URL from a list of outcomes in turn: (status, body) or an exception to raise."""

    def __init__(self, script: dict[str, list]):
        self.script = {url: list(outcomes) for url, outcomes in script.items()}
        self.calls: list[str] = []

    def get(self, url: str, timeout: float) -> tuple[int, bytes]:
        self.calls.append(url)
        outcomes = self.script[url]
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def page(value: list, next_link: str | None = None) -> bytes:
    body = {"odata.metadata": "https://opendata.cbs.nl/ODataApi/OData/85984NED/$metadata#Cbs.OData.WebAPI.TypedDataSet", "value": value}
    if next_link:
        body["odata.nextLink"] = next_link
    return json.dumps(body).encode()
