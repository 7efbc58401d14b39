"""Parse a table's ``DataProperties`` (and ``TableInfos``) into typed column descriptions.

``DataProperties`` lists the table's dimensions (``GeoDetail``, ``GeoDimension``, ``Dimension``,
``TimeDimension``: their ``Key`` is a column holding a code) and its topics (``Topic``: ``Key``
is a column with ``Datatype`` Long / Double / Float / Integer / Short / String, ``Decimals`` and
``Unit``). ``TopicGroup`` entries only group topics. The parser takes the entity set as the API
serves it (``{"odata.metadata": ..., "value": [...]}``) or the bare list of entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DIMENSION_TYPES = ("GeoDetail", "GeoDimension", "Dimension", "TimeDimension")
GEO_TYPES = ("GeoDetail", "GeoDimension")
NUMERIC = {"Long": "integer", "Integer": "integer", "Short": "integer", "Double": "number", "Float": "number", "Decimal": "number"}


@dataclass(frozen=True)
class Property:
    key: str
    type: str  # GeoDetail, GeoDimension, Dimension, TimeDimension or Topic
    title: str
    datatype: str | None = None  # topics only
    unit: str | None = None
    decimals: int = 0

    @property
    def kind(self) -> str:
        """integer, number or string: how the values are typed."""
        if self.type != "Topic":
            return "string"
        return NUMERIC.get(self.datatype or "", "string")


@dataclass(frozen=True)
class TableMetadata:
    table: str
    properties: dict[str, Property]  # by key, in the table's order
    title: str = ""
    period: str = ""
    modified: str = ""

    @property
    def dimensions(self) -> list[Property]:
        return [p for p in self.properties.values() if p.type in DIMENSION_TYPES]

    @property
    def topics(self) -> list[Property]:
        return [p for p in self.properties.values() if p.type == "Topic"]

    def dimension(self, *types: str) -> Property | None:
        found = [p for p in self.dimensions if p.type in types]
        return found[0] if found else None

    @property
    def region_key(self) -> str | None:
        found = self.dimension(*GEO_TYPES)
        return found.key if found else None

    @property
    def period_key(self) -> str | None:
        found = self.dimension("TimeDimension")
        return found.key if found else None


def entries(payload: Any, what: str) -> list[dict[str, Any]]:
    """The entries of an entity set, from ``{"value": [...]}`` or a bare list."""
    value = payload.get("value") if isinstance(payload, dict) else payload
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"{what}: expected a JSON list of objects or an object with a 'value' list")
    return value


def parse_data_properties(table: str, payload: Any, table_infos: Any = None) -> TableMetadata:
    props: dict[str, Property] = {}
    for entry in entries(payload, f"{table} DataProperties"):
        kind = entry.get("Type")
        if kind == "TopicGroup":
            continue
        key = entry.get("Key")
        if not key or kind not in (*DIMENSION_TYPES, "Topic"):
            raise ValueError(f"{table} DataProperties: entry {entry.get('ID')!r} has Type {kind!r} and Key {key!r}")
        if kind == "Topic" and not entry.get("Datatype"):
            raise ValueError(f"{table} DataProperties: topic {key!r} has no Datatype")
        props[key] = Property(
            key=key,
            type=kind,
            title=(entry.get("Title") or "").strip(),
            datatype=entry.get("Datatype"),
            unit=entry.get("Unit"),
            decimals=int(entry.get("Decimals") or 0),
        )
    info: dict[str, Any] = {}
    if table_infos is not None:
        infos = entries(table_infos, f"{table} TableInfos")
        info = infos[0] if infos else {}
        if info.get("Identifier") and info["Identifier"] != table:
            raise ValueError(f"TableInfos of {table} describe table {info['Identifier']!r}")
    return TableMetadata(
        table=table, properties=props, title=info.get("Title", ""), period=info.get("Period", ""), modified=info.get("Modified", "")
    )


def typed_value(prop: Property, value: Any, where: str) -> Any:
    """Check one cell against its property's type; ``None`` (secret or missing) stays ``None``."""
    if value is None:
        return None
    kind = prop.kind
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
            raise ValueError(f"{where}: {prop.key} is {prop.datatype} but holds {value!r}")
        return int(value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: {prop.key} is {prop.datatype} but holds {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{where}: {prop.key} is {prop.datatype or prop.type} (text) but holds {value!r}")
    return value
