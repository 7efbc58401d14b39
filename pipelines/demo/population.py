"""Residents, households, dwellings and land of every Demostad atom per year (SYNTHETIC).

Everything here is a count per atom (atoms x years, int64) or a stable per-atom attribute, so
that buurt, wijk and gemeente figures are sums over atoms and always add up.
"""

from __future__ import annotations

import numpy as np

from pipelines.demo.geography import Geography

SMALL_BUURT_POPULATION = 500  # CBS suppresses income figures ('.') below this many residents


def _sizes(rng: np.random.Generator, geo: Geography) -> np.ndarray:
    """Residents of every atom in the first year: 300-6000 per buurt code in any year."""
    n = geo.n_atoms
    size = np.clip(rng.lognormal(np.log(2000), 0.45, n), 800, 5000)
    split_old = {c["old_code"] for c in geo.changes if c["change_type"] == "split"}
    changing = {a.index for a in geo.atoms if a.change_year is not None}
    for idx in sorted(changing):
        in_split = geo.atoms[idx].code_before in split_old
        size[idx] = rng.uniform(1700, 2500) if in_split else rng.uniform(600, 1300)
    # a few small buurten (income figures suppressed), never one of the changing ones
    candidates = [a.index for a in geo.atoms if a.index not in changing]
    n_small = max(1, round(len(candidates) / 25))
    for idx in rng.choice(candidates, size=n_small, replace=False):
        size[idx] = rng.uniform(320, 440)
    return size


def build_population(rng: np.random.Generator, geo: Geography, n_years: int, d_stable: np.ndarray) -> dict[str, np.ndarray]:
    n = geo.n_atoms
    t = np.arange(n_years)[None, :]
    growth = rng.normal(0.006, 0.008, n)[:, None]
    pop = _sizes(rng, geo)[:, None] * (1 + growth) ** t * (1 + rng.normal(0, 0.004, (n, n_years)))
    pop = np.clip(np.round(pop), 300, 6000).astype(np.int64)

    s0 = np.clip(0.16 + 0.025 * d_stable + rng.normal(0, 0.015, n), 0.08, 0.25)[:, None] + np.zeros((1, n_years))
    s1 = np.clip(0.12 + rng.normal(0, 0.02, n), 0.07, 0.2)[:, None] + np.zeros((1, n_years))
    s4 = np.clip(0.16 - 0.02 * d_stable + rng.normal(0, 0.03, n), 0.06, 0.3)[:, None] + 0.002 * t
    s3 = np.clip(0.26 + rng.normal(0, 0.015, n), 0.2, 0.32)[:, None] + np.zeros((1, n_years))
    k0 = np.round(pop * s0).astype(np.int64)
    k15 = np.round(pop * s1).astype(np.int64)
    k45 = np.round(pop * s3).astype(np.int64)
    k65 = np.round(pop * s4).astype(np.int64)
    k25 = pop - k0 - k15 - k45 - k65
    men = np.round(pop * rng.uniform(0.48, 0.51, (n, 1))).astype(np.int64)
    c1, c2, c3 = k0 / 15, k15 / 10, k25 / 20  # residents per year of age in the age bands

    def r(x: np.ndarray) -> np.ndarray:
        return np.round(x).astype(np.int64)

    hh_size = np.clip(1.55 + 3.5 * s0, 1.6, 2.7)
    persons_in_hh = r(pop * 0.985)
    hh = r(persons_in_hh / hh_size)
    single = r(hh * np.clip(0.62 - 0.9 * (hh_size - 1.6), 0.2, 0.65))
    inw_0_17 = k0 + r(3 * c2)
    hh_kids = np.minimum(r(inw_0_17 / 1.75), hh - single)
    density = rng.uniform(4000, 11000, n)  # residents per km2 of land, first year
    land = np.maximum(np.round(pop[:, 0] / density * 100), 5).astype(np.int64)
    water = np.round(land * rng.uniform(0, 0.15, n)).astype(np.int64)
    ones = np.ones((1, n_years), dtype=np.int64)
    return {
        "pop": pop, "men": men, "women": pop - men,
        "k0": k0, "k15": k15, "k25": k25, "k45": k45, "k65": k65,
        "births": rng.poisson(c1 * 1.05).astype(np.int64),
        "hh": hh, "hh_single": single, "hh_kids": hh_kids, "persons_in_hh": persons_in_hh,
        "dwellings": r(hh * rng.uniform(1.01, 1.06, (n, 1))),
        "land": land[:, None] * ones, "water": water[:, None] * ones,
        "inw_0_17": inw_0_17, "inw_12_17": r(3 * c1 + 3 * c2), "inw_18_24": r(7 * c2),
        "inw_18_26": r(7 * c2 + 2 * c3), "leerplichtigen": r(10 * c1 + 3 * c2), "jong_0_22": k0 + r(8 * c2),
        "toddlers": r(1.5 * c1), "pop_15_64": k15 + k25 + k45, "edu_known": r(0.97 * (k15 + k25 + k45 + 0.45 * k65)),
        "pupils_vo_mbo": r(0.92 * (3 * c1 + 7 * c2)), "groep_8": r(0.97 * c1), "pupils_vo": r(0.93 * (3 * c1 + 3 * c2)),
    }


def stable_attributes(rng: np.random.Generator, geo: Geography) -> dict[str, np.ndarray]:
    """Per-atom attributes that do not change: distances (km) and urbanity class."""
    n = geo.n_atoms
    return {
        "dist_gp": rng.uniform(0.3, 1.4, n),
        "dist_school": rng.uniform(0.3, 1.0, n),
        "urbanity": rng.choice([1, 1, 2, 2, 3], size=n).astype(float),
    }
