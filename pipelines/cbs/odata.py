"""Pure functions that build CBS StatLine OData v3 URLs and filter expressions.

CBS serves every table at ``https://opendata.cbs.nl/ODataApi/odata/<table>/<entity set>``
(``TableInfos``, ``DataProperties``, ``TypedDataSet``, one set per dimension). Rows are filtered
with OData v3 ``$filter`` expressions on the dimension keys: a region dimension holds codes
padded with spaces to 10 characters (``'GM0599    '``), so regions are matched with
``startswith(WijkenEnBuurten,'GM0599')`` rather than ``eq``; periods are keys such as
``'2022JJ00'`` (year), matched with ``eq``. A response holds at most 10,000 rows; the rest is
reached through the ``odata.nextLink`` the page gives.
"""

from __future__ import annotations

import re
from urllib.parse import quote

BASE_URL = "https://opendata.cbs.nl/ODataApi/odata"
TABLE_ID = re.compile(r"^[0-9]{5}[A-Z]{3}$")  # 85984NED, 83765ENG
GEMEENTE = re.compile(r"^GM[0-9]{4}$")
LEVEL_PREFIXES = ("GM", "WK", "BU")
# characters an OData expression keeps literally in the query string
_SAFE = "(),'"


def check_table_id(table: str) -> str:
    if not TABLE_ID.fullmatch(table or ""):
        raise ValueError(f"not a CBS table identifier: {table!r} (expected 5 digits and 3 letters, e.g. '85984NED')")
    return table


def entity_url(table: str, entity: str, base_url: str = BASE_URL) -> str:
    """URL of one entity set of a table, without a query."""
    return f"{base_url.rstrip('/')}/{check_table_id(table)}/{entity}"


def region_filter(key: str, gemeenten: list[str] | tuple[str, ...], levels: tuple[str, ...] = LEVEL_PREFIXES) -> str:
    """Rows of the given gemeenten and, per level prefix, their wijken and buurten.

    ``region_filter('WijkenEnBuurten', ['GM0599'])`` ->
    ``(startswith(WijkenEnBuurten,'GM0599') or startswith(WijkenEnBuurten,'WK0599') or startswith(WijkenEnBuurten,'BU0599'))``
    """
    if not gemeenten:
        raise ValueError("region_filter needs at least one gemeente code")
    terms = []
    for code in sorted(set(gemeenten)):
        if not GEMEENTE.fullmatch(code):
            raise ValueError(f"not a CBS gemeente code: {code!r} (expected GM and 4 digits, e.g. 'GM0599')")
        for prefix in levels:
            terms.append(f"startswith({key},'{prefix}{code[2:]}')")
    return "(" + " or ".join(terms) + ")"


def period_key(year: int) -> str:
    """CBS key of a whole year in a time dimension: 2022 -> '2022JJ00'."""
    if not 1800 <= int(year) <= 2999:
        raise ValueError(f"not a plausible year: {year!r}")
    return f"{int(year)}JJ00"


def year_of_period(key: str) -> int:
    """'2022JJ00' -> 2022 (the year part of any CBS period key)."""
    match = re.match(r"^([0-9]{4})", key.strip())
    if not match:
        raise ValueError(f"not a CBS period key: {key!r}")
    return int(match.group(1))


def period_filter(key: str, years: list[int] | tuple[int, ...]) -> str:
    """``(Perioden eq '2022JJ00' or Perioden eq '2023JJ00')``."""
    if not years:
        raise ValueError("period_filter needs at least one year")
    return "(" + " or ".join(f"{key} eq '{period_key(y)}'" for y in sorted(set(years))) + ")"


def and_filters(*parts: str | None) -> str | None:
    present = [p for p in parts if p]
    return " and ".join(present) if present else None


def query_url(url: str, filter: str | None = None, select: list[str] | None = None) -> str:
    """Add ``$filter``, ``$select`` and ``$format=json`` to an entity URL, in a fixed order (the cache key)."""
    params = []
    if filter:
        params.append("$filter=" + quote(filter, safe=_SAFE))
    if select:
        params.append("$select=" + quote(",".join(select), safe=","))
    params.append("$format=json")
    return url + "?" + "&".join(params)
