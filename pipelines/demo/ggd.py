"""GGD health monitor prevalences per wijk (SYNTHETIC), one file per survey round.

Youth monitor (jeugd_12_18) in odd years, adult and elderly monitor (volwassenen_18_64,
ouderen_65_plus) in even years. Per wijk, round and target group a number of respondents
(RESPONDENTS_MIN-RESPONDENTS_MAX, 400-1500) is drawn; each prevalence is a binomial draw around the true value and carries a
95% Wilson interval, so ci_ondergrens <= percentage <= ci_bovengrens within [0, 100].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.demo import seeds
from pipelines.demo.csvio import fmt_dec, write_extract
from pipelines.demo.world import World

SOURCE = "ggd_monitor"
TARGET_GROUPS = {"GZjeugd": "jeugd_12_18", "GZvolw": "volwassenen_18_64", "GZoud": "ouderen_65_plus"}
WEIGHTS = {"jeugd_12_18": "inw_12_17", "volwassenen_18_64": "pop_15_64", "ouderen_65_plus": "k65"}
Z95 = 1.959964
RESPONDENTS_MIN, RESPONDENTS_MAX = 400, 1500  # per wijk, round and target group (was 150-600)


def file_name(year: int) -> str:
    return f"ggd_gezondheidsmonitor_{year}.csv"


def target_group(source_code: str) -> str:
    return TARGET_GROUPS[source_code.split("_", 1)[0]]


def wilson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = k / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2)) / (1 + Z95**2 / n)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def write(world: World, rng: np.random.Generator, extract_dir: Path) -> dict[Path, int]:
    inds = [i for i in seeds.indicators().values() if i.source == SOURCE]
    n_wijken, n_years = len(world.geo.wijken), len(world.years)
    respondents = {g: rng.integers(RESPONDENTS_MIN, RESPONDENTS_MAX + 1, (n_wijken, n_years)) for g in sorted(WEIGHTS)}
    rows_by_year: dict[int, list[tuple]] = {}
    for ind in sorted(inds, key=lambda i: i.source_code):
        group = target_group(ind.source_code)
        truth = world.wijk_value(ind.indicator_id, world.pop[WEIGHTS[group]])
        n = respondents[group]
        k = rng.binomial(n, truth)
        lo, hi = wilson(k, n)
        pcts = (100 * k / n).tolist()
        lo100, hi100, n_list = (100 * lo).tolist(), (100 * hi).tolist(), n.tolist()
        for t, year in enumerate(world.years):
            if (group == "jeugd_12_18") != (year % 2 == 1):
                continue
            rows = rows_by_year.setdefault(year, [])
            for w in world.geo.wijken:
                i = w.index
                pct = pcts[i][t]
                rows.append((w.code, group, ind.source_code, {
                    "jaar": str(year), "wijkcode": w.code, "doelgroep": group, "indicator_code": ind.source_code,
                    "indicator_omschrijving": ind.name_nl, "percentage": fmt_dec(pct, 1),
                    "ci_ondergrens": fmt_dec(min(lo100[i][t], pct), 1), "ci_bovengrens": fmt_dec(max(hi100[i][t], pct), 1),
                    "aantal_respondenten": str(n_list[i][t]),
                }))
    written = {}
    for year in sorted(rows_by_year):
        path = extract_dir / file_name(year)
        written[path] = write_extract(path, SOURCE, [r[-1] for r in sorted(rows_by_year[year], key=lambda r: r[:3])])
    return written
