"""The area division of every demo gemeente per year and its code changes (SYNTHETIC), as the extracts
``gebieden_*.csv`` (contract gebiedsindeling) and ``gebiedswijzigingen_*.csv`` (contract
gebiedswijzigingen). The same facts as ground_truth/areas.csv and area_code_changes.csv, in the
shape a municipality delivers them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.demo.csvio import fmt_dec, write_extract
from pipelines.demo.ground_truth import change_rows
from pipelines.demo.geography import Gemeente
from pipelines.demo.world import World

SOURCE = "gebiedsindeling"
CHANGES_SOURCE = "gebiedswijzigingen"
CHANGE_TYPES = {"split": "splitsing", "merge": "samenvoeging"}


def division_rows(world: World, gemeente: Gemeente) -> list[dict[str, str]]:
    """The gemeente, its wijken and its buurten in every year."""
    geo = world.geo
    rows = []
    for year in world.years:
        rows.append({"jaar": str(year), "gebiedscode": gemeente.code, "gebiedsnaam": gemeente.name,
                     "soort": "gemeente", "bovenliggende_code": ""})
        for w in gemeente.wijk_indices:
            rows.append({"jaar": str(year), "gebiedscode": geo.wijken[w].code, "gebiedsnaam": geo.wijken[w].name,
                         "soort": "wijk", "bovenliggende_code": gemeente.code})
        for code, w in _buurten_by_gemeente(world, year).get(gemeente.index, []):
            rows.append({"jaar": str(year), "gebiedscode": code, "gebiedsnaam": geo.buurt_names[code],
                         "soort": "buurt", "bovenliggende_code": geo.wijken[w].code})
    return rows


def _buurten_by_gemeente(world: World, year: int) -> dict[int, list[tuple[str, int]]]:
    """Gemeente index -> (buurt code, wijk index) of the year's division, in code order (cached)."""
    cache = world.geo.__dict__.setdefault("_buurten_by_gemeente", {})
    if year not in cache:
        division = world.geo.division(year)
        out: dict[int, list[tuple[str, int]]] = {}
        gemeente_of_wijk = world.geo.gemeente_of_wijk.tolist()
        for code, w in zip(division.codes, division.wijk_of_code.tolist()):
            out.setdefault(gemeente_of_wijk[w], []).append((code, w))
        cache[year] = out
    return cache[year]


def write(world: World, rng: np.random.Generator, extract_dir: Path) -> dict[Path, int]:
    """Per gemeente its area division and, if it has any, its code changes (as a municipality delivers them)."""
    cfg = world.config
    span = f"{cfg.first_year}-{cfg.last_year}"
    change_dicts = [
        {"jaar": year, "oude_code": old, "nieuwe_code": new, "soort_wijziging": CHANGE_TYPES[kind],
         "aandeel": fmt_dec(float(share), 4)}
        for year, old, new, kind, share in change_rows(world)
    ]
    written = {}
    for gemeente in world.geo.gemeenten:
        division = extract_dir / f"gebieden_{gemeente.slug}_{span}.csv"
        written[division] = write_extract(division, SOURCE, division_rows(world, gemeente))
        own_changes = [c for c in change_dicts if c["oude_code"][2:6] == gemeente.code[2:6]]
        if own_changes:  # a file with only a header is not a valid extract
            changes = extract_dir / f"gebiedswijzigingen_{gemeente.slug}_{span}.csv"
            written[changes] = write_extract(changes, CHANGES_SOURCE, own_changes)
    return written
