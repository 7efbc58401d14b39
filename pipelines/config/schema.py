"""The deployment configuration file (``factorenmodel.yaml``), read and checked in plain Python.

One YAML file per deployment says which municipality runs, which sources are active, where the
extract and drop folders are, which years to load, the small-cell threshold, the CBS StatLine
mode and where alerts go. ``load_config(path)`` returns a ``DeploymentConfig`` or raises
``ConfigError`` with a message that names the file, the key (``cbs.mode``) and the allowed values.
Nothing here touches Dagster; ``pipelines/settings.py`` merges the result with the environment.

Relative paths in the file are relative to the folder that holds the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

GEMEENTE_CODE = re.compile(r"GM\d{4}")
CBS_MODES = ("statline", "replay", "off")
CBS_TABLES = ("kerncijfers", "jeugdzorg")
# Sources the marts cannot do without: dim_area and every area code mapping come from them.
REQUIRED_SOURCES = ("gebiedsindeling",)

TOP_KEYS = ("municipality", "years", "sources", "paths", "landing", "disclosure", "cbs", "alerts")
SECTION_KEYS = {
    "municipality": ("name", "gemeenten"),
    "years": ("first", "last"),
    "paths": ("data_dir", "warehouse", "extract_dir"),
    "landing": ("dir", "settle_seconds", "interval_seconds"),
    "disclosure": ("min_persons",),
    "cbs": ("mode", "tables", "years", "cache_dir", "fixtures"),
    "alerts": ("webhook_url",),
}


class ConfigError(ValueError):
    """The configuration file is wrong: the message names the file, the key and what it accepts."""


@dataclass(frozen=True)
class CbsConfig:
    """How the CBS key figures reach the extract folder (asset ``cbs_statline_extracts``)."""

    mode: str  # statline (HTTP to opendata.cbs.nl), replay (recorded responses), off
    tables: tuple[str, ...] = CBS_TABLES
    years: tuple[int, ...] | None = None  # None: every mapped year within the configured years
    cache_dir: Path | None = None
    fixtures: Path | None = None  # replay only: folder with index.json (see pipelines/cbs/README.md)

    @property
    def enabled(self) -> bool:
        return self.mode != "off"


@dataclass(frozen=True)
class DeploymentConfig:
    path: Path
    municipality_name: str | None = None
    gemeenten: tuple[str, ...] | None = None
    first_year: int | None = None
    last_year: int | None = None
    sources: frozenset[str] | None = None  # active sources; None: all
    data_dir: Path | None = None
    warehouse: Path | None = None
    extract_dir: Path | None = None
    landing_dir: Path | None = None
    landing_settle_seconds: float | None = None
    landing_interval_seconds: int | None = None
    min_persons: int | None = None
    cbs: CbsConfig | None = None
    alert_webhook_url: str | None = None


def _allowed(values) -> str:
    return ", ".join(str(v) for v in values)


class _Reader:
    def __init__(self, path: Path):
        self.path = path
        self.base = path.parent

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {problem}")

    def section(self, raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        value = raw.get(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(name, f"must be a mapping with keys {_allowed(SECTION_KEYS[name])}, got {value!r}")
        unknown = [k for k in value if k not in SECTION_KEYS[name]]
        if unknown:
            raise self.fail(f"{name}.{unknown[0]}", f"unknown key; allowed keys in {name}: {_allowed(SECTION_KEYS[name])}")
        return value

    def integer(self, key: str, value: Any, minimum: int, maximum: int | None = None) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (maximum is not None and value > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            raise self.fail(key, f"must be a whole number between {minimum}{upper or ' and up'}, got {value!r}")
        return value

    def number(self, key: str, value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self.fail(key, f"must be a number of seconds, 0 or more, got {value!r}")
        return float(value)

    def folder(self, key: str, value: Any, must_exist: bool = True) -> Path | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a folder path (absolute, or relative to {self.base}), got {value!r}")
        path = (self.base / Path(value).expanduser()).resolve()
        if must_exist and not path.is_dir():
            raise self.fail(key, f"folder {path} does not exist; create it or correct the path")
        return path

    def file_path(self, key: str, value: Any) -> Path | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a file path (absolute, or relative to {self.base}), got {value!r}")
        return (self.base / Path(value).expanduser()).resolve()

    def names(self, key: str, value: Any, allowed: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"must be a non-empty list of: {_allowed(allowed)}; got {value!r}")
        for item in value:
            if item not in allowed:
                raise self.fail(key, f"unknown value {item!r}; allowed values: {_allowed(allowed)}")
        if len(set(value)) != len(value):
            raise self.fail(key, f"lists a value twice: {value!r}")
        return tuple(value)


def known_sources() -> list[str]:
    from data_contracts.contract import load_contracts

    return sorted(load_contracts())


def parse_config(raw: Any, path: Path) -> DeploymentConfig:
    """Check a parsed YAML document; ``path`` is used in messages and to resolve relative paths."""
    r = _Reader(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: the file must hold a mapping with keys {_allowed(TOP_KEYS)}, got {type(raw).__name__}")
    unknown = [k for k in raw if k not in TOP_KEYS]
    if unknown:
        raise r.fail(str(unknown[0]), f"unknown key; allowed top-level keys: {_allowed(TOP_KEYS)}")

    municipality = r.section(raw, "municipality")
    name = municipality.get("name")
    if name is not None and not isinstance(name, str):
        raise r.fail("municipality.name", f"must be text, got {name!r}")
    gemeenten = municipality.get("gemeenten")
    if gemeenten is not None:
        if isinstance(gemeenten, str):
            gemeenten = [gemeenten]
        if not isinstance(gemeenten, list) or not gemeenten:
            raise r.fail("municipality.gemeenten", f"must be a non-empty list of CBS gemeente codes such as GM0599, got {gemeenten!r}")
        for code in gemeenten:
            if not isinstance(code, str) or not GEMEENTE_CODE.fullmatch(code):
                raise r.fail(
                    "municipality.gemeenten",
                    f"{code!r} is not a CBS gemeente code; allowed: 'GM' and four digits, e.g. GM0599 (Rotterdam), GM0363 (Amsterdam)",
                )
        gemeenten = tuple(dict.fromkeys(gemeenten))

    years = r.section(raw, "years")
    first = r.integer("years.first", years.get("first"), 1900, 2100)
    last = r.integer("years.last", years.get("last"), 1900, 2100)
    if first is not None and last is not None and last < first:
        raise r.fail("years", f"last ({last}) lies before first ({first})")

    sources = None
    if "sources" in raw:
        allowed = known_sources()
        sources = frozenset(r.names("sources", raw["sources"], allowed))
        missing = [s for s in REQUIRED_SOURCES if s not in sources]
        if missing:
            raise r.fail("sources", f"{missing[0]!r} cannot be switched off (the area division underlies every mart); "
                                    f"active sources must include: {_allowed(REQUIRED_SOURCES)}")

    paths = r.section(raw, "paths")
    data_dir = r.folder("paths.data_dir", paths.get("data_dir"), must_exist=False)
    warehouse = r.file_path("paths.warehouse", paths.get("warehouse"))
    extract_dir = r.folder("paths.extract_dir", paths.get("extract_dir"))

    landing = r.section(raw, "landing")
    landing_dir = r.folder("landing.dir", landing.get("dir"))
    if landing and landing_dir is None:
        raise r.fail("landing.dir", "is required when the landing section is given (the drop folder)")
    if landing_dir is not None and extract_dir is not None and landing_dir == extract_dir:
        raise r.fail("landing.dir", "must not be the extract folder (paths.extract_dir): staged files are written there")
    settle = r.number("landing.settle_seconds", landing.get("settle_seconds"))
    interval = r.integer("landing.interval_seconds", landing.get("interval_seconds"), 1)

    disclosure = r.section(raw, "disclosure")
    min_persons = r.integer("disclosure.min_persons", disclosure.get("min_persons"), 1, 1000)

    cbs = None
    cbs_raw = r.section(raw, "cbs")
    if cbs_raw:
        mode = cbs_raw.get("mode")
        if mode is False:  # YAML 1.1 reads a bare `off` (and `no`, `false`) as false: the README writes `mode: off`
            mode = "off"
        if mode not in CBS_MODES:
            raise r.fail("cbs.mode", f"{mode!r} is not a mode; allowed values: {_allowed(CBS_MODES)}")
        tables = r.names("cbs.tables", cbs_raw["tables"], CBS_TABLES) if "tables" in cbs_raw else CBS_TABLES
        cbs_years = None
        if cbs_raw.get("years") is not None:
            value = cbs_raw["years"]
            value = [value] if isinstance(value, int) else value
            if not isinstance(value, list) or not value:
                raise r.fail("cbs.years", f"must be a list of years, got {value!r}")
            cbs_years = tuple(r.integer("cbs.years", y, 1900, 2100) for y in value)
        fixtures = r.folder("cbs.fixtures", cbs_raw.get("fixtures"))
        if mode == "replay" and fixtures is None:
            raise r.fail("cbs.fixtures", "is required with mode replay: a folder of recorded responses with index.json")
        if fixtures is not None and mode != "replay":
            raise r.fail("cbs.fixtures", f"is only used with mode replay (mode is {mode!r})")
        if fixtures is not None and not (fixtures / "index.json").is_file():
            raise r.fail("cbs.fixtures", f"folder {fixtures} has no index.json (see pipelines/cbs/README.md, ReplayTransport)")
        cache_dir = r.folder("cbs.cache_dir", cbs_raw.get("cache_dir"), must_exist=False)
        cbs = CbsConfig(mode=mode, tables=tables, years=cbs_years, cache_dir=cache_dir, fixtures=fixtures)
        if cbs.enabled and sources is not None and "cbs_kerncijfers" not in sources:
            raise r.fail("cbs.mode", f"is {mode!r} but source cbs_kerncijfers is not active (sources); "
                                     "add cbs_kerncijfers to sources or set cbs.mode: off")
        if cbs.enabled and "jeugdzorg" in tables and "kerncijfers" not in tables:
            raise r.fail("cbs.tables", "jeugdzorg fills the key-figures extract, so it needs kerncijfers in the list too")

    alerts = r.section(raw, "alerts")
    webhook = alerts.get("webhook_url")
    if webhook is not None and (not isinstance(webhook, str) or not re.match(r"https?://\S+$", webhook)):
        raise r.fail("alerts.webhook_url", f"must be an http(s) URL, got {webhook!r}")

    return DeploymentConfig(
        path=path, municipality_name=name, gemeenten=gemeenten, first_year=first, last_year=last, sources=sources,
        data_dir=data_dir, warehouse=warehouse, extract_dir=extract_dir, landing_dir=landing_dir,
        landing_settle_seconds=settle, landing_interval_seconds=interval, min_persons=min_persons, cbs=cbs,
        alert_webhook_url=webhook,
    )


def load_config(path: Path | str) -> DeploymentConfig:
    """Read and check one configuration file; raise ConfigError naming the key on any mistake."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found (FACTORENMODEL_CONFIG points at it)")
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    return parse_config(raw, path)
