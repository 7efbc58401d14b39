"""Retries, fast failures, the cache and paging of the CBS client, with scripted transports (no internet)."""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest

from pipelines.cbs import (
    CbsClient, CbsHttpError, CbsNotRecordedError, CbsResponseError, CbsUnavailableError, ReplayTransport,
)
from pipelines.cbs.client import cache_path
from tests.cbs.helpers import FIXTURES, ScriptedTransport, page

URL = "https://opendata.cbs.nl/ODataApi/odata/85984NED/TypedDataSet?$format=json"
OK = (200, page([{"ID": 0, "WijkenEnBuurten": "GM0599    "}]))


def client(transport, **kw) -> CbsClient:
    sleeps: list[float] = []
    c = CbsClient(transport=transport, sleep=sleeps.append, **kw)
    c.sleeps = sleeps  # type: ignore[attr-defined]
    return c


def test_timeout_then_success_is_retried_with_growing_backoff():
    transport = ScriptedTransport({URL: [socket.timeout("timed out"), TimeoutError("timed out"), OK]})
    c = client(transport, backoff=1.0)
    assert c.get_json("85984NED", URL)["value"][0]["ID"] == 0
    assert len(transport.calls) == 3
    assert 1.0 <= c.sleeps[0] <= 2.0 and 2.0 <= c.sleeps[1] <= 4.0  # exponential, with jitter up to as much again


def test_always_timing_out_fails_clearly_after_n_attempts():
    transport = ScriptedTransport({URL: [socket.timeout("timed out")]})
    c = client(transport, max_attempts=4)
    with pytest.raises(CbsUnavailableError, match=r"after 4 attempts; last error: TimeoutError") as exc:
        c.get_json("85984NED", URL)
    assert URL in str(exc.value) and len(transport.calls) == 4 and len(c.sleeps) == 3


def test_http_500_then_200_and_429_and_connection_error_are_retried():
    transport = ScriptedTransport({URL: [(500, b"Internal Server Error"), (429, b""), ConnectionResetError("reset"), OK]})
    c = client(transport)
    assert c.get_json("85984NED", URL)["value"]
    assert len(transport.calls) == 4


def test_http_404_fails_fast():
    body = json.dumps({"odata.error": {"code": "", "message": {"lang": "nl", "value": "Table 99999NED not found"}}}).encode()
    transport = ScriptedTransport({URL: [(404, body)]})
    with pytest.raises(CbsHttpError, match=r"HTTP 404 .*Table 99999NED not found.*not retried"):
        client(transport).get_json("85984NED", URL)
    assert len(transport.calls) == 1


def test_malformed_page_names_the_url_and_is_not_cached(tmp_path):
    transport = ScriptedTransport({URL: [(200, b'{"odata.metadata": "x", "value": [{"ID": 0}')]})
    c = client(transport, cache_dir=tmp_path)
    with pytest.raises(CbsResponseError, match=r"malformed CBS response from https://opendata.cbs.nl/.*: not JSON"):
        c.get_json("85984NED", URL)
    assert not list(tmp_path.rglob("*.json"))
    transport2 = ScriptedTransport({URL: [(200, b'{"odata.metadata": "x", "rows": []}')]})
    with pytest.raises(CbsResponseError, match="expected an object with a 'value' list"):
        list(client(transport2).pages("85984NED", URL))


def test_cache_second_fetch_makes_no_transport_call_and_is_keyed_by_date(tmp_path):
    transport = ScriptedTransport({URL: [OK]})
    day = dt.date(2025, 3, 27)
    c = client(transport, cache_dir=tmp_path, today=lambda: day)
    first = c.get_json("85984NED", URL)
    assert len(transport.calls) == 1
    path = cache_path(tmp_path, "85984NED", URL, day)
    assert path.exists() and path.parent.name == "85984NED" and path.name.endswith("__2025-03-27.json")
    again = client(transport, cache_dir=tmp_path, today=lambda: day)  # a re-run: a new client, same cache
    assert again.get_json("85984NED", URL) == first
    assert len(transport.calls) == 1 and again.transport_calls == 0
    next_day = client(transport, cache_dir=tmp_path, today=lambda: day + dt.timedelta(days=1))
    next_day.get_json("85984NED", URL)
    assert len(transport.calls) == 2


def test_three_pages_joined_in_order():
    p2, p3 = URL + "&$skip=2", URL + "&$skip=4"
    transport = ScriptedTransport({
        URL: [(200, page([{"ID": 0}, {"ID": 1}], p2))],
        p2: [(200, page([{"ID": 2}, {"ID": 3}], p3))],
        p3: [(200, page([{"ID": 4}]))],
    })
    rows = [r for p in client(transport).pages("85984NED", URL) for r in p]
    assert [r["ID"] for r in rows] == [0, 1, 2, 3, 4]
    assert transport.calls == [URL, p2, p3]


def test_verbose_json_next_link_is_followed():
    p2 = URL + "&$skip=1"
    transport = ScriptedTransport({
        URL: [(200, json.dumps({"d": {"results": [{"ID": 0}], "__next": p2}}).encode())],
        p2: [(200, json.dumps({"d": {"results": [{"ID": 1}]}}).encode())],
    })
    assert [r["ID"] for p in client(transport).pages("85984NED", URL) for r in p] == [0, 1]


def test_replay_transport_answers_recorded_urls_and_says_what_it_lacks_for_others():
    replay = ReplayTransport(FIXTURES)
    url = next(iter(replay.index))
    status, body = replay.get(url, 1)
    assert status == 200 and "odata.metadata" in json.loads(body)
    unrecorded = "https://opendata.cbs.nl/ODataApi/odata/00000NED/TypedDataSet"
    with pytest.raises(CbsNotRecordedError) as error:  # not an HTTP 404: CBS was not asked
        next(iter(client(replay).pages("00000NED", unrecorded)))  # the client does not retry it either
    assert f"{FIXTURES} (cbs.mode: replay, cbs.fixtures) has no recorded response for {unrecorded}" in str(error.value)
    assert "no request went to CBS" in str(error.value) and replay.calls.count(unrecorded) == 1
