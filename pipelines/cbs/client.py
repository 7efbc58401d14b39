"""The CBS StatLine client: cached, retried, paged GETs of OData v3 JSON.

``CbsClient.get_json(table, url)`` answers from the cache when a response of that URL was stored
today (``<cache_dir>/<table>/<sha256(url)[:16]>__<YYYY-MM-DD>.json``); otherwise it asks the
transport, retrying timeouts, connection errors, HTTP 429 and 5xx with exponential backoff and
jitter, and failing at once on other HTTP errors and on a body that is not JSON.
``pages`` follows ``odata.nextLink`` (OData v3 JSON light) or ``__next`` (verbose JSON).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.cbs import odata
from pipelines.cbs.errors import CbsHttpError, CbsResponseError, CbsUnavailableError
from pipelines.cbs.metadata import TableMetadata, parse_data_properties, typed_value
from pipelines.cbs.transport import Transport, UrllibTransport

log = logging.getLogger(__name__)

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_PAGES = 1000  # 10 million rows: a guard against a nextLink loop


def cache_path(cache_dir: Path, table: str, url: str, day: dt.date) -> Path:
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return cache_dir / table / f"{digest}__{day.isoformat()}.json"


def _detail(body: bytes) -> str:
    try:
        payload = json.loads(body)
        return str(payload["odata.error"]["message"]["value"])[:300]
    except Exception:  # noqa: BLE001 - any non-OData error body: show its start
        return body[:200].decode("utf-8", "replace").strip()


@dataclass
class CbsClient:
    transport: Transport = field(default_factory=UrllibTransport)
    cache_dir: Path | None = None  # None: no cache
    base_url: str = odata.BASE_URL
    timeout: float = 60.0
    max_attempts: int = 5
    backoff: float = 1.0  # seconds before the 2nd attempt; doubles each time, plus jitter up to as much again
    max_backoff: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    today: Callable[[], dt.date] = dt.date.today
    rng: random.Random = field(default_factory=random.Random)
    transport_calls: int = 0

    # -- one request -------------------------------------------------------------------------
    def _delay(self, attempt: int) -> float:
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return base + self.rng.uniform(0, base)

    def _download(self, url: str) -> bytes:
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.transport_calls += 1
                status, body = self.transport.get(url, self.timeout)
            except (TimeoutError, ConnectionError, OSError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if status == 200:
                    return body
                if status not in TRANSIENT_STATUS:
                    raise CbsHttpError(url, status, _detail(body))
                last = f"HTTP {status} {_detail(body)}".strip()
            if attempt < self.max_attempts:
                delay = self._delay(attempt)
                log.warning("CBS %s: %s; attempt %d of %d, retrying in %.1f s", url, last, attempt, self.max_attempts, delay)
                self.sleep(delay)
        raise CbsUnavailableError(url, self.max_attempts, last)

    def get_json(self, table: str, url: str) -> Any:
        path = cache_path(self.cache_dir, table, url, self.today()) if self.cache_dir else None
        if path is not None and path.exists():
            body = path.read_bytes()
        else:
            body = self._download(url)
        try:
            payload = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CbsResponseError(url, f"not JSON ({exc}); body starts {body[:80]!r}") from None
        if path is not None and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(body)
            tmp.replace(path)
        return payload

    # -- entity sets -------------------------------------------------------------------------
    def pages(self, table: str, url: str) -> Iterator[list[dict[str, Any]]]:
        """Every page of an entity set, following the next links in order."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url:
            if next_url in seen or len(seen) >= MAX_PAGES:
                raise CbsResponseError(next_url, "the next links go round in a loop")
            seen.add(next_url)
            payload = self.get_json(table, next_url)
            if isinstance(payload, dict) and "d" in payload and isinstance(payload["d"], dict):  # verbose JSON
                payload = payload["d"]
            if not isinstance(payload, dict) or not isinstance(payload.get("value", payload.get("results")), list):
                raise CbsResponseError(next_url, "expected an object with a 'value' list (OData v3 JSON)")
            rows = payload.get("value", payload.get("results"))
            if not all(isinstance(r, dict) for r in rows):
                raise CbsResponseError(next_url, "the 'value' list holds something other than objects")
            yield rows
            next_url = payload.get("odata.nextLink") or payload.get("__next")

    def entity_set(self, table: str, entity: str, filter: str | None = None, select: list[str] | None = None) -> list[dict[str, Any]]:
        url = odata.query_url(odata.entity_url(table, entity, self.base_url), filter, select)
        return [row for page in self.pages(table, url) for row in page]

    def metadata(self, table: str) -> TableMetadata:
        properties = self.entity_set(table, "DataProperties")
        infos = self.entity_set(table, "TableInfos")
        try:
            return parse_data_properties(table, properties, infos)
        except ValueError as exc:
            raise CbsResponseError(odata.entity_url(table, "DataProperties", self.base_url), str(exc)) from None

    def typed_dataset(
        self,
        table: str,
        meta: TableMetadata,
        gemeenten: list[str] | None = None,
        years: list[int] | None = None,
        select: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """The table's rows for the gemeenten (and their wijken and buurten) and years, typed by its metadata.

        ``years`` filters on the time dimension; a table without one (Kerncijfers: one table per
        year) ignores it. ``select`` limits the columns (the dimension keys are always included).
        """
        region, period = meta.region_key, meta.period_key
        filter = odata.and_filters(
            odata.region_filter(region, gemeenten) if gemeenten and region else None,
            odata.period_filter(period, years) if years and period else None,
        )
        if gemeenten and not region:
            raise CbsResponseError(odata.entity_url(table, "DataProperties"), "the table has no region dimension to filter on")
        columns = None
        if select:
            keys = ["ID", *(d.key for d in meta.dimensions)]
            columns = keys + [k for k in select if k not in keys]
        url = odata.query_url(odata.entity_url(table, "TypedDataSet", self.base_url), filter, columns)
        typed: list[dict[str, Any]] = []
        wanted = columns or ["ID", *meta.properties]
        for page_rows in self.pages(table, url):
            for row in page_rows:
                where = f"{table} TypedDataSet row ID {row.get('ID')!r}"
                missing = [k for k in wanted if k not in row]
                if missing:
                    raise CbsResponseError(url, f"{where} lacks {', '.join(missing)}")
                out: dict[str, Any] = {"ID": row["ID"]}
                for key in wanted:
                    if key == "ID":
                        continue
                    prop = meta.properties.get(key)
                    if prop is None:
                        raise CbsResponseError(url, f"{where}: column {key!r} is not in the table's DataProperties")
                    try:
                        out[key] = typed_value(prop, row[key], where)
                    except ValueError as exc:
                        raise CbsResponseError(url, str(exc)) from None
                typed.append(out)
        return typed


