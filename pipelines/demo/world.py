"""Everything the source writers draw from: geography, population and latent panel (SYNTHETIC)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.demo import latent as lat
from pipelines.demo.config import DemoConfig
from pipelines.demo.geography import Geography


@dataclass
class World:
    config: DemoConfig
    geo: Geography
    pop: dict[str, np.ndarray]  # atom-level counts (atoms x years)
    attrs: dict[str, np.ndarray]  # stable per-atom attributes
    panel: lat.LatentPanel

    @property
    def years(self) -> list[int]:
        return self.config.years

    def value(self, indicator_id: str) -> np.ndarray:
        """True indicator value per atom and year (fraction for percentages, rate per 1000, or mean)."""
        return lat.value_at(indicator_id, self.panel.indicator_latent[indicator_id])

    def wijk_value(self, indicator_id: str, weights: np.ndarray) -> np.ndarray:
        """True indicator value per wijk and year, from the weighted mean latent score of its atoms."""
        latent = lat.aggregate(self.panel.indicator_latent[indicator_id], weights.astype(float), self.geo.wijk_of,
                               len(self.geo.wijken))
        return lat.value_at(indicator_id, latent)

    def wijk_sum(self, counts: np.ndarray) -> np.ndarray:
        return lat.group_sum(counts, self.geo.wijk_of, len(self.geo.wijken)).round().astype(np.int64)


def binomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    return rng.binomial(np.asarray(n, dtype=np.int64), np.clip(p, 0.0, 1.0)).astype(np.int64)


def poisson(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    return rng.poisson(np.maximum(mean, 0.0)).astype(np.int64)
