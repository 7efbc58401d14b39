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
  (default 2000 to the current year).
- ``FACTORENMODEL_DEMO_SEED``: seed of the demo generator.
- ``FACTORENMODEL_MAX_DATA_AGE_YEARS``: how many years the newest year of a published mart may lie
  before the reference year (the last year, or this year) before its Great Expectations freshness
  check fails (default 3).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from data_contracts.pandera_schema import Scope

PROJECT_DIR = Path(__file__).resolve().parents[1]
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
    def scope(self) -> Scope:
        return Scope(gemeenten=self.gemeenten, first_year=self.first_year, last_year=self.last_year)


def _int(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    if not re.fullmatch(r"\d+", raw.strip()):
        raise SettingsError(f"{name}={raw!r} is not a whole number")
    return int(raw)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment (``os.environ`` by default)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("FACTORENMODEL_DATA_DIR") or PROJECT_DIR / "data").resolve()
    warehouse = Path(env.get("FACTORENMODEL_WAREHOUSE") or data_dir / "warehouse.duckdb").resolve()
    extract_dir_setting = env.get("FACTORENMODEL_EXTRACT_DIR")
    is_demo = not extract_dir_setting
    gemeenten = frozenset(
        code.strip() for code in (env.get("FACTORENMODEL_GEMEENTEN") or DEMO_GEMEENTE).split(",") if code.strip()
    )
    malformed = sorted(g for g in gemeenten if not re.fullmatch(r"GM\d{4}", g))
    if malformed:
        raise SettingsError(f"FACTORENMODEL_GEMEENTEN holds {malformed}; expected CBS codes such as GM0599")
    return Settings(
        data_dir=data_dir,
        warehouse_path=warehouse,
        extract_dir=Path(extract_dir_setting).resolve() if extract_dir_setting else data_dir / "demo" / "extracts",
        is_demo=is_demo,
        gemeenten=gemeenten,
        first_year=_int(env, "FACTORENMODEL_FIRST_YEAR", 2000),
        last_year=_int(env, "FACTORENMODEL_LAST_YEAR", None),
        demo_seed=_int(env, "FACTORENMODEL_DEMO_SEED", DEFAULT_DEMO_SEED),
        max_data_age_years=_int(env, "FACTORENMODEL_MAX_DATA_AGE_YEARS", 3),
    )
