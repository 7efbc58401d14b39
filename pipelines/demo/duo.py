"""DUO education figures per wijk of residence and school year (SYNTHETIC): early school
leavers, havo/vwo school advice and delay in secondary school.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.demo.csvio import write_extract
from pipelines.demo.world import World, binomial

SOURCE = "duo_onderwijs"


def file_name(first: int, last: int, label: str = "demostad") -> str:
    return f"duo_onderwijs_{label}_{first}-{last}.csv"


def write(world: World, rng: np.random.Generator, extract_dir: Path) -> dict[Path, int]:
    p = world.pop
    vo_mbo, groep8, vo = (world.wijk_sum(p[k]) for k in ("pupils_vo_mbo", "groep_8", "pupils_vo"))
    vsv = binomial(rng, vo_mbo, world.wijk_value("duo_vsv_pct", p["pupils_vo_mbo"]))
    advice = binomial(rng, groep8, world.wijk_value("duo_advies_havo_vwo_pct", p["groep_8"]))
    delay = binomial(rng, vo, world.wijk_value("duo_vertraging_vo_pct", p["pupils_vo"]))
    vo_mbo, vsv, groep8, advice, vo, delay = (x.tolist() for x in (vo_mbo, vsv, groep8, advice, vo, delay))
    rows = []
    for t, year in enumerate(world.years):
        for w in world.geo.wijken:
            i = w.index
            rows.append({
                "jaar": str(year), "schooljaar": f"{year}-{year + 1}", "wijkcode": w.code,
                "deelnemers_vo_mbo": str(vo_mbo[i][t]), "voortijdig_schoolverlaters": str(vsv[i][t]),
                "leerlingen_groep_8": str(groep8[i][t]), "advies_havo_vwo": str(advice[i][t]),
                "leerlingen_vo": str(vo[i][t]), "leerlingen_vo_met_vertraging": str(delay[i][t]),
            })
    cfg = world.config
    path = extract_dir / file_name(cfg.first_year, cfg.last_year, cfg.file_label)
    return {path: write_extract(path, SOURCE, rows)}
