"""Municipal registrations per buurt and year (SYNTHETIC): youth care, social assistance,
absenteeism, Veilig Thuis, debt counselling, VVE and JGZ at birth. Denominators are the same
buurt's residents by age, so every numerator <= denominator rule of the contract holds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.demo.csvio import buurt_count_rows, write_extract
from pipelines.demo.world import World, binomial, poisson

SOURCE = "gemeente_registraties"


def file_name(first: int, last: int, label: str = "demostad") -> str:
    return f"registraties_{label}_{first}-{last}.csv"


def atom_counts(world: World, rng: np.random.Generator) -> dict[str, np.ndarray]:
    p, v = world.pop, world.value
    jeugdhulp = binomial(rng, p["inw_0_17"], v("reg_jeugdhulp_pct"))
    verblijf = np.minimum(binomial(rng, p["inw_0_17"], v("reg_jeugdhulp_verblijf_per_1000") / 1000), jeugdhulp)
    target_share = np.clip(0.25 + 0.1 * world.panel.factor("buurt_achterstand"), 0.05, 0.6)
    doelgroep = binomial(rng, p["toddlers"], target_share)
    return {
        "inwoners_0_17": p["inw_0_17"], "inwoners_12_17": p["inw_12_17"], "inwoners_18_24": p["inw_18_24"],
        "inwoners_18_26": p["inw_18_26"], "huishoudens": p["hh"], "huishoudens_met_kinderen": p["hh_kids"],
        "eenoudergezinnen": binomial(rng, p["hh_kids"], v("reg_eenoudergezinnen_pct")),
        "jeugdigen_met_jeugdhulp": jeugdhulp,
        "jeugdigen_met_jeugdhulp_met_verblijf": verblijf,
        "bijstand_18_26": binomial(rng, p["inw_18_26"], v("reg_bijstand_jongeren_pct")),
        "huishoudens_in_schuldhulp": binomial(rng, p["hh"], v("reg_schuldhulp_pct")),
        "leerplichtigen": p["leerplichtigen"],
        "relatief_verzuim_meldingen": poisson(rng, p["leerplichtigen"] * v("reg_relatief_verzuim_per_1000") / 1000),
        "absoluut_verzuimers": binomial(rng, p["leerplichtigen"], v("reg_absoluut_verzuim_per_1000") / 1000),
        "meldingen_kindermishandeling": poisson(rng, p["inw_0_17"] * v("reg_kindermishandeling_per_1000") / 1000),
        "meldingen_huiselijk_geweld": poisson(rng, p["hh"] * v("reg_huiselijk_geweld_per_1000") / 1000),
        "peuters_doelgroep_vve": doelgroep,
        "peuters_in_vve": binomial(rng, doelgroep, v("reg_vve_deelname_pct")),
        "levend_geborenen": p["births"],
        "laag_geboortegewicht": binomial(rng, p["births"], v("reg_laag_geboortegewicht_pct")),
        "moeder_rookte_in_zwangerschap": binomial(rng, p["births"], v("reg_roken_zwangerschap_pct")),
        "borstvoeding_3_maanden": binomial(rng, p["births"], v("reg_borstvoeding_3mnd_pct")),
    }


def write(world: World, rng: np.random.Generator, extract_dir: Path) -> dict[Path, int]:
    """One file per gemeente (each municipality delivers its own registrations)."""
    cfg = world.config
    rows = buurt_count_rows(world, atom_counts(world, rng))
    by_gemeente: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_gemeente.setdefault(row["buurtcode"][2:6], []).append(row)
    written = {}
    for gemeente in world.geo.gemeenten:
        path = extract_dir / file_name(cfg.first_year, cfg.last_year, gemeente.slug)
        written[path] = write_extract(path, SOURCE, by_gemeente[gemeente.code[2:6]])
    return written
