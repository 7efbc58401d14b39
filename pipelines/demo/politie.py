"""Police figures per buurt and year (SYNTHETIC): young suspects by residence, HALT referrals
and registered crimes by place of offence. Violent crimes and burglaries are part of the total.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.demo.csvio import write_buurt_counts
from pipelines.demo.world import World, binomial, poisson

SOURCE = "politie_jeugdverdachten"


def file_name(first: int, last: int, label: str = "demostad") -> str:
    return f"politie_jeugdverdachten_{label}_{first}-{last}.csv"


def atom_counts(world: World, rng: np.random.Generator) -> dict[str, np.ndarray]:
    p, v = world.pop, world.value
    violent = poisson(rng, p["pop"] * v("pol_geweld_per_1000") / 1000)
    burglary = poisson(rng, p["dwellings"] * v("pol_woninginbraken_per_1000") / 1000)
    total = np.maximum(poisson(rng, p["pop"] * v("pol_misdrijven_per_1000") / 1000), violent + burglary)
    return {
        "verdachten_12_17": binomial(rng, p["inw_12_17"], v("pol_verdachten_12_17_per_1000") / 1000),
        "verdachten_18_24": binomial(rng, p["inw_18_24"], v("pol_verdachten_18_24_per_1000") / 1000),
        "halt_verwijzingen": binomial(rng, p["inw_12_17"], v("pol_halt_per_1000") / 1000),
        "misdrijven_totaal": total,
        "geweldsmisdrijven": violent,
        "woninginbraken": burglary,
    }


def write(world: World, rng: np.random.Generator, extract_dir: Path) -> dict[Path, int]:
    path = extract_dir / file_name(world.config.first_year, world.config.last_year, world.config.file_label)
    return {path: write_buurt_counts(world, atom_counts(world, rng), SOURCE, path)}
