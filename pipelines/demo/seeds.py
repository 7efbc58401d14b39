"""Read the factor model seeds (factors, indicators) that the demo data is planted against."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "factor_model"


@dataclass(frozen=True)
class Indicator:
    indicator_id: str
    name_nl: str
    measures: str  # factor | subgoal
    factor_id: str
    subgoal_id: str
    source: str
    source_code: str
    direction: str  # higher_is_worse | higher_is_better
    unit: str

    @property
    def is_outcome(self) -> bool:
        return self.measures == "subgoal"


def _read(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=1)
def factor_types() -> dict[str, str]:
    """factor_id -> risk | protective, in seed order."""
    return {r["factor_id"]: r["factor_type"] for r in _read("factors.csv")}


@lru_cache(maxsize=1)
def indicators() -> dict[str, Indicator]:
    return {
        r["indicator_id"]: Indicator(
            r["indicator_id"], r["name_nl"], r["measures"], r["factor_id"], r["subgoal_id"], r["source"],
            r["source_code"], r["direction"], r["unit"],
        )
        for r in _read("indicators.csv")
    }


@lru_cache(maxsize=1)
def indicator_rows() -> tuple[dict[str, str], ...]:
    return tuple(_read("indicators.csv"))
