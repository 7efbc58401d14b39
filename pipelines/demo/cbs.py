"""CBS Kerncijfers wijken en buurten extracts of the demo (SYNTHETIC), one file per year.

Rows for every gemeente, every wijk and every buurt of the year's area division, in CBS order
(gemeente, then per wijk the wijk row followed by its buurten). Figures are computed from atom
counts summed over the area, so buurt rows add up to their wijk row. Income figures of buurten
with fewer than 500 residents are suppressed with '.', as CBS does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.demo.latent import group_sum
from pipelines.demo.csvio import MISSING, fmt_dec, fmt_int, write_extract
from pipelines.demo.population import SMALL_BUURT_POPULATION
from pipelines.demo.world import World, binomial

SOURCE = "cbs_kerncijfers"
SUPPRESSED_SMALL = ("GemiddeldInkomenPerInwoner_83", "HuishoudensMetEenLaagInkomen_89", "HuishOnderOfRondSociaalMinimum_90")


def file_name(year: int) -> str:
    return f"kerncijfers_wijken_en_buurten_{year}.csv"


def atom_figures(world: World, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Additive atom-level quantities (counts, and value x weight sums for means)."""
    p = world.pop
    v = world.value
    low_base = np.round(p["hh"] * 0.93).astype(np.int64)  # excl. student households, incomplete incomes
    edu_low = binomial(rng, p["edu_known"], v("cbs_laag_opgeleid_pct"))
    high_share = np.clip(0.45 - 0.25 * (v("cbs_laag_opgeleid_pct") - 0.3), 0.15, 0.75)
    edu_high = binomial(rng, p["edu_known"] - edu_low, high_share)
    corp = binomial(rng, p["dwellings"], v("cbs_corporatiewoningen_pct"))
    woz = v("cbs_woz_waarde") * rng.lognormal(0, 0.03, corp.shape)
    income = v("cbs_inkomen_per_inwoner") * rng.lognormal(0, 0.02, corp.shape)
    a = world.attrs
    return {
        **p,
        "edu_low": edu_low, "edu_high": edu_high, "edu_mid": p["edu_known"] - edu_low - edu_high,
        "ww": binomial(rng, p["pop_15_64"], v("cbs_ww_per_1000") / 1000),
        "bijstand": binomial(rng, p["pop_15_64"], v("cbs_bijstand_per_1000") / 1000),
        "aow": binomial(rng, p["k65"], 0.97),
        "workers": binomial(rng, p["pop_15_64"], v("cbs_nettoarbeidsparticipatie")),
        "low_base": low_base,
        "low_income": binomial(rng, low_base, v("cbs_laag_inkomen_pct")),
        "social_min": binomial(rng, low_base, v("cbs_sociaal_minimum_pct")),
        "corp": corp,
        "koop": binomial(rng, p["dwellings"] - corp, 0.72),
        "jeugdzorg": binomial(rng, p["jong_0_22"], v("cbs_jeugdzorg_pct")),
        "wmo": binomial(rng, p["pop"], v("cbs_wmo_per_1000") / 1000),
        "woz_sum": woz * p["dwellings"],
        "income_sum": income * p["pop"],
        "gp_sum": a["dist_gp"][:, None] * p["pop"],
        "school_sum": a["dist_school"][:, None] * p["pop"],
        "urban_sum": a["urbanity"][:, None] * p["pop"],
    }


def _row(s: dict[str, float], code: str, level: str, change: str, row_id: int, gemeente: str) -> dict[str, str]:
    pop = s["pop"]
    pct = lambda num, den, d=1: fmt_dec(100 * num / den, d) if den > 0 else MISSING  # noqa: E731
    row = {
        "ID": str(row_id), "WijkenEnBuurten": code.ljust(10), "Gemeentenaam_1": gemeente,
        "SoortRegio_2": level.ljust(10), "Codering_3": code, "IndelingswijzigingGemeenteWijkBuurt_4": change,
        "AantalInwoners_5": fmt_int(pop), "Mannen_6": fmt_int(s["men"]), "Vrouwen_7": fmt_int(s["women"]),
        "k_0Tot15Jaar_8": fmt_int(s["k0"]), "k_15Tot25Jaar_9": fmt_int(s["k15"]), "k_25Tot45Jaar_10": fmt_int(s["k25"]),
        "k_45Tot65Jaar_11": fmt_int(s["k45"]), "k_65JaarOfOuder_12": fmt_int(s["k65"]),
        "GeboorteTotaal_25": fmt_int(s["births"]), "HuishoudensTotaal_29": fmt_int(s["hh"]),
        "Eenpersoonshuishoudens_30": fmt_int(s["hh_single"]), "HuishoudensMetKinderen_32": fmt_int(s["hh_kids"]),
        "GemiddeldeHuishoudensgrootte_33": fmt_dec(s["persons_in_hh"] / s["hh"], 1),
        "Bevolkingsdichtheid_34": fmt_int(pop / (s["land"] / 100)),
        "Woningvoorraad_35": fmt_int(s["dwellings"]),
        "GemiddeldeWOZWaardeVanWoningen_39": fmt_int(s["woz_sum"] / s["dwellings"]),
        "Koopwoningen_47": pct(s["koop"], s["dwellings"], 0), "InBezitWoningcorporatie_49": pct(s["corp"], s["dwellings"], 0),
        "BasisonderwijsVmboMbo1_75": fmt_int(s["edu_low"]), "HavoVwoMbo24_76": fmt_int(s["edu_mid"]),
        "HboWo_77": fmt_int(s["edu_high"]), "Nettoarbeidsparticipatie_78": pct(s["workers"], s["pop_15_64"], 0),
        "GemiddeldInkomenPerInwoner_83": fmt_dec(s["income_sum"] / pop, 1),
        "HuishoudensMetEenLaagInkomen_89": pct(s["low_income"], s["low_base"]),
        "HuishOnderOfRondSociaalMinimum_90": pct(s["social_min"], s["low_base"]),
        "PersonenPerSoortUitkeringBijstand_94": fmt_int(s["bijstand"]), "PersonenPerSoortUitkeringWW_96": fmt_int(s["ww"]),
        "PersonenPerSoortUitkeringAOW_97": fmt_int(s["aow"]), "JongerenMetJeugdzorgInNatura_98": fmt_int(s["jeugdzorg"]),
        "PercentageJongerenMetJeugdzorg_99": pct(s["jeugdzorg"], s["jong_0_22"]), "WmoClienten_100": fmt_int(s["wmo"]),
        "AfstandTotHuisartsenpraktijk_117": fmt_dec(s["gp_sum"] / pop, 1), "AfstandTotSchool_120": fmt_dec(s["school_sum"] / pop, 1),
        "OppervlakteTotaal_122": fmt_int(s["land"] + s["water"]), "OppervlakteLand_123": fmt_int(s["land"]),
        "OppervlakteWater_124": fmt_int(s["water"]),
        "MateVanStedelijkheid_127": fmt_int(min(5, max(1, round(s["urban_sum"] / pop)))),
    }
    if level == "Buurt" and pop < SMALL_BUURT_POPULATION:
        for column in SUPPRESSED_SMALL:
            row[column] = MISSING
    return row


def _level_sums(figures: dict[str, np.ndarray], group_of: np.ndarray, n_groups: int, t: int) -> list[dict[str, float]]:
    """Per group, every figure summed over the group's atoms in year index ``t``."""
    sums = {k: group_sum(arr[:, t], group_of, n_groups).tolist() for k, arr in figures.items()}
    return [{k: v[i] for k, v in sums.items()} for i in range(n_groups)]


def write(world: World, rng: np.random.Generator, extract_dir: Path) -> dict[Path, int]:
    figures = atom_figures(world, rng)
    geo = world.geo
    changed_codes = {c["new_code"] for c in geo.changes}
    n_wijken, n_gemeenten = len(geo.wijken), len(geo.gemeenten)
    written: dict[Path, int] = {}
    for t, year in enumerate(world.years):
        division = geo.division(year)
        previous = set(geo.division(year - 1).codes) if t > 0 else set()
        changed_now = {c for c in changed_codes if c in division.as_dict() and (t == 0 or c not in previous)}
        gemeente_sums = _level_sums(figures, geo.gemeente_of, n_gemeenten, t)
        wijk_sums = _level_sums(figures, geo.wijk_of, n_wijken, t)
        buurt_sums = _level_sums(figures, division.code_of_atom, len(division.codes), t)
        codes_of_wijk: dict[int, list[int]] = {}
        for k, wijk in enumerate(division.wijk_of_code.tolist()):
            codes_of_wijk.setdefault(wijk, []).append(k)
        rows: list[dict[str, str]] = []
        for gemeente in geo.gemeenten:
            name = gemeente.name
            rows.append(_row(gemeente_sums[gemeente.index], gemeente.code, "Gemeente", "1", len(rows), name))
            for w in gemeente.wijk_indices:
                wijk = geo.wijken[w]
                codes = [division.codes[k] for k in codes_of_wijk.get(w, [])]
                wijk_change = "2" if t > 0 and any(c in changed_now for c in codes) else "1"
                rows.append(_row(wijk_sums[w], wijk.code, "Wijk", wijk_change, len(rows), name))
                for k in codes_of_wijk.get(w, []):
                    code = division.codes[k]
                    change = "3" if t > 0 and code in changed_now else "1"
                    rows.append(_row(buurt_sums[k], code, "Buurt", change, len(rows), name))
        path = extract_dir / file_name(year)
        written[path] = write_extract(path, SOURCE, rows)
    return written
