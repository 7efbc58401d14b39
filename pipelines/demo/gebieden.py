"""The area division of Demostad per year and its code changes (SYNTHETIC), as the extracts
``gebieden_*.csv`` (contract gebiedsindeling) and ``gebiedswijzigingen_*.csv`` (contract
gebiedswijzigingen). The same facts as ground_truth/areas.csv and area_code_changes.csv, in the
shape a municipality delivers them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.demo.csvio import fmt_dec, write_extract
from pipelines.demo.ground_truth import change_rows
from pipelines.demo.world import World

SOURCE = "gebiedsindeling"
CHANGES_SOURCE = "gebiedswijzigingen"
CHANGE_TYPES = {"split": "splitsing", "merge": "samenvoeging"}


def division_rows(world: World) -> list[dict[str, str]]:
    cfg = world.config
    rows = []
    for year in world.years:
        rows.append({"jaar": str(year), "gebiedscode": cfg.gemeente_code, "gebiedsnaam": cfg.gemeente_name,
                     "soort": "gemeente", "bovenliggende_code": ""})
        for w in world.geo.wijken:
            rows.append({"jaar": str(year), "gebiedscode": w.code, "gebiedsnaam": w.name,
                         "soort": "wijk", "bovenliggende_code": cfg.gemeente_code})
        for code, atoms in world.geo.buurten_in(year).items():
            wijk = world.geo.wijken[world.geo.atoms[atoms[0]].wijk_index]
            rows.append({"jaar": str(year), "gebiedscode": code, "gebiedsnaam": world.geo.buurt_names[code],
                         "soort": "buurt", "bovenliggende_code": wijk.code})
    return rows


def write(world: World, rng: np.random.Generator, extract_dir: Path) -> dict[Path, int]:
    cfg = world.config
    span = f"{cfg.first_year}-{cfg.last_year}"
    division = extract_dir / f"gebieden_demostad_{span}.csv"
    changes = extract_dir / f"gebiedswijzigingen_demostad_{span}.csv"
    change_dicts = [
        {"jaar": year, "oude_code": old, "nieuwe_code": new, "soort_wijziging": CHANGE_TYPES[kind],
         "aandeel": fmt_dec(float(share), 4)}
        for year, old, new, kind, share in change_rows(world)
    ]
    return {
        division: write_extract(division, SOURCE, division_rows(world)),
        changes: write_extract(changes, CHANGES_SOURCE, change_dicts),
    }
