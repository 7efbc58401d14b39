"""Where things live and what a deployment accepts, read once from the environment.

With no configuration the pipeline runs on the built-in demo municipality Demostad (GM9999):
its synthetic extracts are generated into ``<data dir>/demo/extracts``. Environment variables:

- ``FACTORENMODEL_DATA_DIR``: folder for the warehouse, extracts and published files
  (default: ``data/`` in the project).
- ``FACTORENMODEL_WAREHOUSE``: the DuckDB warehouse file (default: ``<data dir>/warehouse.duckdb``).
- ``FACTORENMODEL_EXTRACT_DIR``: a folder of real extracts; when set, the demo is not generated.
- ``FACTORENMODEL_GEMEENTEN``: comma-separated CBS codes of the deployment's gemeenten
  (default ``GM9999`` for the demo; area codes of municipal extracts must lie in these).
- ``FACTORENMODEL_FIRST_YEAR`` / ``FACTORENMODEL_LAST_YEAR``: the years that may be loaded
  (default 2000 to the current year; for the demo, the demo's years 2015-2024 within them). Each
  year is one partition of the source assets (``Settings.years``).
- ``FACTORENMODEL_DEMO_SEED``: seed of the demo generator.
- ``FACTORENMODEL_MAX_DATA_AGE_YEARS``: how many years the newest year of a published mart may lie
  before the reference year (the last year, or this year) before its Great Expectations freshness
  check fails (default 3).
- ``FACTORENMODEL_LANDING_DIR``: the drop folder watched by the sensor ``landing_folder_sensor``.
- ``FACTORENMODEL_MIN_PERSONS``: the small-cell threshold, passed to dbt as ``--vars`` (default:
  the dbt project's ``min_persons``, 10).
- ``FACTORENMODEL_ALERT_WEBHOOK_URL``: where alerts are posted.
- ``FACTORENMODEL_CONFIG``: the deployment's configuration file (default ``factorenmodel.yaml`` in
  the project folder, if it exists; set it to an empty value to ignore that file). It can set all of
  the above and more (active sources, CBS StatLine mode); see ``pipelines/config/example.yaml``.

Precedence, per setting: an environment variable that is set (non-empty) wins over the
configuration file, which wins over the built-in default. A wrong configuration file raises
``ConfigError`` here, so the code location fails to load before anything runs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from data_contracts.pandera_schema import Scope
from pipelines.config import CbsConfig, ConfigError, DeploymentConfig, load_config

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_FILE = PROJECT_DIR / "factorenmodel.yaml"
DEMO_GEMEENTE = "GM9999"
DEFAULT_DEMO_SEED = 20150101


class SettingsError(ValueError):
    """A setting is malformed: the message names the variable and what it accepts."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_path: Path
    extract_dir: Path
    is_demo: bool
    gemeenten: frozenset[str]
    first_year: int
    last_year: int | None
    demo_seed: int
    max_data_age_years: int = 3
    active_sources: frozenset[str] | None = None  # None: every source contract is active
    landing_dir: Path | None = None  # drop folder watched by the landing sensor; None: no sensor
    landing_settle_seconds: float = 30.0  # a dropped file must be unchanged this long before it is taken
    landing_interval_seconds: int = 30  # how often the landing sensor looks
    min_persons: int | None = None  # small-cell threshold for dbt (None: the dbt project's default)
    cbs: CbsConfig | None = None  # CBS StatLine fetching (None or mode off: extracts are dropped by hand)
    alert_webhook_url: str | None = None
    municipality_name: str | None = None
    config_path: Path | None = None  # the configuration file that was read, if any

    def is_active(self, source: str) -> bool:
        return self.active_sources is None or source in self.active_sources

    @property
    def cbs_enabled(self) -> bool:
        return self.cbs is not None and self.cbs.enabled

    @property
    def dbt_vars(self) -> dict[str, object]:
        """dbt variables set by the deployment (passed as ``dbt build --vars``): the small-cell
        threshold where configured, and ``synthetic`` on the built-in demo (its published ML results
        then say SYNTHETIC in their ``note``)."""
        variables: dict[str, object] = {} if self.min_persons is None else {"min_persons": self.min_persons}
        return {**variables, "synthetic": True} if self.is_demo else variables

    @property
    def demo_dir(self) -> Path:
        return self.data_dir / "demo"

    @property
    def serving_dir(self) -> Path:
        """Where BI tools read the published marts: ``current/`` points at the newest release."""
        return self.data_dir / "serving"

    @property
    def data_docs_dir(self) -> Path:
        """Great Expectations' HTML Data Docs of the mart suites (``index.html``)."""
        return self.data_dir / "quality" / "data_docs"

    @property
    def years(self) -> tuple[int, ...]:
        """The years the pipeline loads, oldest first: one partition of every source asset each.

        ``first_year`` to ``last_year`` (without a last year: this calendar year); for the synthetic
        demo, the demo's years within them (the generator writes 2015-2024 and nothing else).
        """
        return _years(self.first_year, self.last_year, self.is_demo)

    @property
    def scope(self) -> Scope:
        """What the contracts accept: the gemeenten and exactly the years of ``years``."""
        return Scope(gemeenten=self.gemeenten, first_year=self.years[0], last_year=self.years[-1])


def _years(first: int, last: int | None, is_demo: bool) -> tuple[int, ...]:
    last = last if last is not None else dt.date.today().year
    if is_demo:
        from pipelines.demo.config import DemoConfig

        demo = DemoConfig()
        first, last = max(first, demo.first_year), min(last, demo.last_year)
    return tuple(range(first, last + 1))


def _int(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    if not re.fullmatch(r"\d+", raw.strip()):
        raise SettingsError(f"{name}={raw!r} is not a whole number")
    return int(raw)


MIN_PERSONS_RANGE = (1, 1000)  # as disclosure.min_persons in the configuration file (pipelines/config/schema.py)


def _min_persons(env: Mapping[str, str], default: int | None) -> int | None:
    """The small-cell threshold, with the same range as the configuration file's: 0 would switch the
    suppression off and publish cells of 1 or 2 persons."""
    value = _int(env, "FACTORENMODEL_MIN_PERSONS", default)
    low, high = MIN_PERSONS_RANGE
    if value is not None and not low <= value <= high:
        raise SettingsError(f"FACTORENMODEL_MIN_PERSONS={value}: must be a whole number between {low} and {high} "
                            "(the smallest number of persons a published figure may rest on)")
    return value


def config_file(env: Mapping[str, str], default: Path = DEFAULT_CONFIG_FILE) -> Path | None:
    """The configuration file to read: FACTORENMODEL_CONFIG, else factorenmodel.yaml in the project if
    present. A factorenmodel.yml beside it (and no .yaml) is refused rather than silently ignored."""
    if "FACTORENMODEL_CONFIG" in env:
        value = env["FACTORENMODEL_CONFIG"].strip()
        return Path(value) if value else None  # set but empty: no file
    if default.is_file():
        return default
    misnamed = default.with_suffix(".yml")
    if misnamed.is_file():
        raise SettingsError(f"{misnamed}: the configuration file is read as {default.name} (with .yaml); "
                            "rename it, or point FACTORENMODEL_CONFIG at it")
    return None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment (``os.environ`` by default) and the configuration file.

    An environment variable that is set wins over the file; the file wins over the defaults.
    """
    env = os.environ if env is None else env
    path = config_file(env)
    cfg = load_config(path) if path is not None else DeploymentConfig(path=Path())

    data_dir = Path(env.get("FACTORENMODEL_DATA_DIR") or cfg.data_dir or PROJECT_DIR / "data").resolve()
    warehouse = Path(env.get("FACTORENMODEL_WAREHOUSE") or cfg.warehouse or data_dir / "warehouse.duckdb").resolve()
    extract_dir_setting = env.get("FACTORENMODEL_EXTRACT_DIR") or cfg.extract_dir
    is_demo = not extract_dir_setting
    if env.get("FACTORENMODEL_GEMEENTEN"):
        gemeenten = frozenset(code.strip() for code in env["FACTORENMODEL_GEMEENTEN"].split(",") if code.strip())
    else:
        gemeenten = frozenset(cfg.gemeenten or (DEMO_GEMEENTE,))
    malformed = sorted(g for g in gemeenten if not re.fullmatch(r"GM\d{4}", g))
    if malformed:
        raise SettingsError(f"FACTORENMODEL_GEMEENTEN holds {malformed}; expected CBS codes such as GM0599")
    landing = env.get("FACTORENMODEL_LANDING_DIR")
    landing_dir = Path(landing).resolve() if landing else cfg.landing_dir
    if landing_dir is not None and not landing_dir.is_dir():
        raise SettingsError(f"FACTORENMODEL_LANDING_DIR: folder {landing_dir} does not exist; create it or correct the path")
    if is_demo and (cfg.cbs is not None and cfg.cbs.enabled or landing_dir is not None):
        key = "cbs.mode" if cfg.cbs is not None and cfg.cbs.enabled else "landing.dir"
        raise ConfigError(
            f"{cfg.path}: {key}: needs paths.extract_dir (or FACTORENMODEL_EXTRACT_DIR), the folder that CBS "
            "extracts and staged drop-folder files go to; without it the synthetic demo runs"
        )
    if is_demo and gemeenten != {DEMO_GEMEENTE}:
        where = f"{cfg.path}: municipality.gemeenten" if cfg.gemeenten and not env.get("FACTORENMODEL_GEMEENTEN") \
            else "FACTORENMODEL_GEMEENTEN"
        raise ConfigError(
            f"{where}: {', '.join(sorted(gemeenten))} needs paths.extract_dir (or FACTORENMODEL_EXTRACT_DIR), the folder "
            f"with that municipality's extracts; without it the synthetic demo Demostad ({DEMO_GEMEENTE}) runs, "
            "whose rows would all be quarantined as outside the gemeente"
        )
    if not is_demo and not cfg.gemeenten and not env.get("FACTORENMODEL_GEMEENTEN") and path is not None:
        raise ConfigError(f"{cfg.path}: municipality.gemeenten: required for a real municipality (CBS codes such as GM0599)")
    first_year = _int(env, "FACTORENMODEL_FIRST_YEAR", None)
    last_year = _int(env, "FACTORENMODEL_LAST_YEAR", None)
    first_year = first_year if first_year is not None else (cfg.first_year or 2000)
    last_year = last_year if last_year is not None else cfg.last_year
    if not _years(first_year, last_year, is_demo):
        shown = f"{first_year}-{last_year if last_year is not None else dt.date.today().year}"
        if is_demo:
            raise SettingsError(
                f"FACTORENMODEL_FIRST_YEAR / FACTORENMODEL_LAST_YEAR (years.first / years.last) select {shown}, which holds "
                "no year of the synthetic demo (2015-2024); widen the years or set an extract folder"
            )
        raise SettingsError(
            f"FACTORENMODEL_FIRST_YEAR / FACTORENMODEL_LAST_YEAR (years.first / years.last) select no year: {shown}; "
            "the first year must not lie after the last"
        )
    return Settings(
        data_dir=data_dir,
        warehouse_path=warehouse,
        extract_dir=Path(extract_dir_setting).resolve() if extract_dir_setting else data_dir / "demo" / "extracts",
        is_demo=is_demo,
        gemeenten=gemeenten,
        first_year=first_year,
        last_year=last_year,
        demo_seed=_int(env, "FACTORENMODEL_DEMO_SEED", DEFAULT_DEMO_SEED),
        max_data_age_years=_int(env, "FACTORENMODEL_MAX_DATA_AGE_YEARS", 3),
        active_sources=cfg.sources,
        landing_dir=landing_dir,
        landing_settle_seconds=cfg.landing_settle_seconds if cfg.landing_settle_seconds is not None else 30.0,
        landing_interval_seconds=cfg.landing_interval_seconds or 30,
        min_persons=_min_persons(env, cfg.min_persons),
        cbs=cfg.cbs,
        alert_webhook_url=env.get("FACTORENMODEL_ALERT_WEBHOOK_URL") or cfg.alert_webhook_url,
        municipality_name=cfg.municipality_name,
        config_path=path.resolve() if path is not None else None,
    )
