"""Areas of Demostad (SYNTHETIC): wijken, buurten and the planted buurt code changes.

The building blocks are *atoms*: the smallest units that never change. A buurt code in a given
year is one atom or a set of atoms. Two changes are planted:

* a split: one buurt of the split wijk is, from ``split_year`` on, replaced by two new codes
  (the old code's two atoms each get their own code);
* a merge: two buurten of the merge wijk are, from ``merge_year`` on, replaced by one new code.

Counts are generated per atom and summed to whatever codes are valid in a year, so extracts use
the codes of the year's area division and sums stay consistent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.demo.config import DemoConfig

WIJK_NAMES = (
    "Centrum", "Oude Haven", "Molenwijk", "Noorderpark", "Zuiderveld", "Westerkwartier",
    "Oosterdijk", "Kerkebuurt", "Vaartzicht", "Hoogland", "Beekdal", "Lindenhof",
    "Duinrand", "Polderzoom", "Stationskwartier", "Singelrand",
)
BUURT_PARTS = (
    "Plein", "Hof", "Kade", "Laan", "Park", "Veld", "Gaarde", "Weide", "Hoek", "Dreef",
    "Erf", "Akker", "Zoom", "Straat", "Kamp", "Wal",
)


@dataclass(frozen=True)
class Atom:
    """A stable unit; ``code_before`` is its buurt code until ``change_year``, ``code_after`` from then on."""

    index: int
    wijk_index: int
    code_before: str
    code_after: str
    change_year: int | None  # None: the code never changes
    name: str

    def code_in(self, year: int) -> str:
        if self.change_year is not None and year >= self.change_year:
            return self.code_after
        return self.code_before


@dataclass(frozen=True)
class Wijk:
    index: int
    code: str
    name: str


@dataclass(frozen=True)
class Geography:
    config: DemoConfig
    wijken: tuple[Wijk, ...]
    atoms: tuple[Atom, ...]
    buurt_names: dict[str, str]
    changes: tuple[dict, ...]  # rows of area_code_changes.csv, without weights (filled by the generator)
    split_wijk: int
    merge_wijk: int

    @property
    def n_atoms(self) -> int:
        return len(self.atoms)

    def buurten_in(self, year: int) -> dict[str, list[int]]:
        """Buurt code -> atom indices, for the area division of the year, sorted by code."""
        out: dict[str, list[int]] = {}
        for atom in self.atoms:
            out.setdefault(atom.code_in(year), []).append(atom.index)
        return dict(sorted(out.items()))

    def atoms_of_wijk(self, wijk_index: int) -> list[int]:
        return [a.index for a in self.atoms if a.wijk_index == wijk_index]

    def wijk_matrix(self) -> np.ndarray:
        """(n_wijken, n_atoms) 0/1 membership matrix."""
        m = np.zeros((len(self.wijken), self.n_atoms))
        for a in self.atoms:
            m[a.wijk_index, a.index] = 1.0
        return m

    def area_rows(self) -> list[dict]:
        """Rows of ground_truth/areas.csv: every code that occurs in any year."""
        cfg = self.config
        rows = [dict(area_code=cfg.gemeente_code, area_level="gemeente", name=cfg.gemeente_name,
                     parent_code="", valid_from_year=cfg.first_year, valid_to_year=cfg.last_year)]
        for w in self.wijken:
            rows.append(dict(area_code=w.code, area_level="wijk", name=w.name, parent_code=cfg.gemeente_code,
                             valid_from_year=cfg.first_year, valid_to_year=cfg.last_year))
        spans: dict[str, list[int]] = {}
        parent: dict[str, str] = {}
        for year in cfg.years:
            for code, atoms in self.buurten_in(year).items():
                spans.setdefault(code, []).append(year)
                parent[code] = self.wijken[self.atoms[atoms[0]].wijk_index].code
        for code in sorted(spans):
            rows.append(dict(area_code=code, area_level="buurt", name=self.buurt_names[code], parent_code=parent[code],
                             valid_from_year=min(spans[code]), valid_to_year=max(spans[code])))
        return rows


def _buurt_code(cfg: DemoConfig, wijk: int, buurt: int) -> str:
    return f"BU{cfg.gemeente_digits}{wijk + 1:02d}{buurt:02d}"


def build_geography(cfg: DemoConfig) -> Geography:
    """Wijken, atoms and code changes; fully determined by the config (no randomness)."""
    digits = cfg.gemeente_digits
    wijken = tuple(
        Wijk(i, f"WK{digits}{i + 1:02d}", WIJK_NAMES[i % len(WIJK_NAMES)] + ("" if i < len(WIJK_NAMES) else f" {i + 1}"))
        for i in range(cfg.n_wijken)
    )
    split_wijk = min(2, cfg.n_wijken - 1)  # third wijk (or the last one)
    merge_wijk = cfg.n_wijken - 1
    if merge_wijk == split_wijk:
        split_wijk = 0
    atoms: list[Atom] = []
    names: dict[str, str] = {}
    changes: list[dict] = []

    def add(wijk: int, before: str, after: str, year: int | None, name: str) -> None:
        atoms.append(Atom(len(atoms), wijk, before, after, year, name))

    for w in range(cfg.n_wijken):
        n = cfg.n_buurten(w)
        wname = wijken[w].name
        merged = (n - 1, n) if w == merge_wijk else ()
        for b in range(1, n + 1):
            code = _buurt_code(cfg, w, b)
            name = f"{wname}-{BUURT_PARTS[(b - 1 + 3 * w) % len(BUURT_PARTS)]}"
            names[code] = name
            if w == split_wijk and b == 2:
                for part, new_b in (("Noord", n + 1), ("Zuid", n + 2)):
                    new = _buurt_code(cfg, w, new_b)
                    names[new] = f"{name} {part}"
                    add(w, code, new, cfg.split_year, names[new])
                    changes.append(dict(year=cfg.split_year, old_code=code, new_code=new, change_type="split"))
            elif b in merged:
                new = _buurt_code(cfg, w, n + 1)
                names[new] = f"{wname}-Samen"
                add(w, code, new, cfg.merge_year, name)
                changes.append(dict(year=cfg.merge_year, old_code=code, new_code=new, change_type="merge"))
            else:
                add(w, code, code, None, name)
    return Geography(cfg, wijken, tuple(atoms), names, tuple(changes), split_wijk, merge_wijk)
