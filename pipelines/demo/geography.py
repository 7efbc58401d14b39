"""Areas of the demo (SYNTHETIC): gemeenten, wijken, buurten and the planted buurt code changes.

The building blocks are *atoms*: the smallest units that never change. A buurt code in a given
year is one atom or a set of atoms. In every gemeente that has changes (all of them by default:
there is one, Demostad) two changes are planted:

* a split: one buurt of the split wijk is, from ``split_year`` on, replaced by two new codes
  (the old code's two atoms each get their own code);
* a merge: two buurten of the merge wijk are, from ``merge_year`` on, replaced by one new code.

Counts are generated per atom and summed to whatever codes are valid in a year, so extracts use
the codes of the year's area division and sums stay consistent. Wijken and atoms are numbered
across all gemeenten, gemeente by gemeente, so area sums are group sums over index arrays
(``wijk_of``, ``gemeente_of``, ``division(year)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pipelines.demo.config import DemoConfig, slugify

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
    index: int  # across all gemeenten
    code: str
    name: str
    gemeente_index: int = 0


@dataclass(frozen=True)
class Gemeente:
    index: int
    code: str
    name: str
    wijk_indices: tuple[int, ...]
    has_changes: bool

    @property
    def slug(self) -> str:
        """Lower-case name for file names (``demostad``)."""
        return slugify(self.name)


@dataclass(frozen=True)
class Division:
    """The buurt codes of one year: sorted codes, their atoms, and the code position of every atom."""

    codes: tuple[str, ...]
    atoms: tuple[list[int], ...]
    code_of_atom: np.ndarray  # (n_atoms,) position in ``codes``
    wijk_of_code: np.ndarray  # (n_codes,) wijk index

    def as_dict(self) -> dict[str, list[int]]:
        return dict(zip(self.codes, self.atoms))


@dataclass(frozen=True)
class Geography:
    config: DemoConfig
    wijken: tuple[Wijk, ...]
    atoms: tuple[Atom, ...]
    buurt_names: dict[str, str]
    changes: tuple[dict, ...]  # rows of area_code_changes.csv, without weights (filled by the generator)
    split_wijken: tuple[int, ...]
    merge_wijken: tuple[int, ...]
    gemeenten: tuple[Gemeente, ...] = ()

    @property
    def split_wijk(self) -> int:
        return self.split_wijken[0]

    @property
    def merge_wijk(self) -> int:
        return self.merge_wijken[0]

    @property
    def n_atoms(self) -> int:
        return len(self.atoms)

    @cached_property
    def wijk_of(self) -> np.ndarray:
        """(n_atoms,) wijk index of every atom."""
        return np.array([a.wijk_index for a in self.atoms], dtype=np.int64)

    @cached_property
    def gemeente_of_wijk(self) -> np.ndarray:
        return np.array([w.gemeente_index for w in self.wijken], dtype=np.int64)

    @cached_property
    def gemeente_of(self) -> np.ndarray:
        """(n_atoms,) gemeente index of every atom."""
        return self.gemeente_of_wijk[self.wijk_of]

    @cached_property
    def _divisions(self) -> dict[int, Division]:
        return {}

    def division(self, year: int) -> Division:
        """The area division of the year (cached)."""
        if year not in self._divisions:
            by_code: dict[str, list[int]] = {}
            for atom in self.atoms:
                by_code.setdefault(atom.code_in(year), []).append(atom.index)
            codes = tuple(sorted(by_code))
            atoms = tuple(by_code[c] for c in codes)
            code_of_atom = np.empty(self.n_atoms, dtype=np.int64)
            for k, members in enumerate(atoms):
                code_of_atom[members] = k
            wijk_of_code = self.wijk_of[[members[0] for members in atoms]]
            self._divisions[year] = Division(codes, atoms, code_of_atom, wijk_of_code)
        return self._divisions[year]

    def buurten_in(self, year: int) -> dict[str, list[int]]:
        """Buurt code -> atom indices, for the area division of the year, sorted by code."""
        return self.division(year).as_dict()

    def atoms_of_wijk(self, wijk_index: int) -> list[int]:
        return np.flatnonzero(self.wijk_of == wijk_index).tolist()

    def wijk_matrix(self) -> np.ndarray:
        """(n_wijken, n_atoms) 0/1 membership matrix (dense: for small configs only)."""
        m = np.zeros((len(self.wijken), self.n_atoms))
        m[self.wijk_of, np.arange(self.n_atoms)] = 1.0
        return m

    def area_rows(self) -> list[dict]:
        """Rows of ground_truth/areas.csv: every code that occurs in any year."""
        cfg = self.config
        rows = [dict(area_code=g.code, area_level="gemeente", name=g.name, parent_code="",
                     valid_from_year=cfg.first_year, valid_to_year=cfg.last_year) for g in self.gemeenten]
        for w in self.wijken:
            rows.append(dict(area_code=w.code, area_level="wijk", name=w.name,
                             parent_code=self.gemeenten[w.gemeente_index].code,
                             valid_from_year=cfg.first_year, valid_to_year=cfg.last_year))
        spans: dict[str, list[int]] = {}
        parent: dict[str, str] = {}
        for year in cfg.years:
            division = self.division(year)
            for code, wijk in zip(division.codes, division.wijk_of_code.tolist()):
                spans.setdefault(code, []).append(year)
                parent[code] = self.wijken[wijk].code
        for code in sorted(spans):
            rows.append(dict(area_code=code, area_level="buurt", name=self.buurt_names[code], parent_code=parent[code],
                             valid_from_year=min(spans[code]), valid_to_year=max(spans[code])))
        # gemeente rows first, then all wijken, then all buurten; each block sorted by code
        return rows


def _buurt_code(digits: str, wijk: int, buurt: int) -> str:
    return f"BU{digits}{wijk + 1:02d}{buurt:02d}"


def build_geography(cfg: DemoConfig) -> Geography:
    """Gemeenten, wijken, atoms and code changes; fully determined by the config (no randomness)."""
    gemeenten: list[Gemeente] = []
    wijken: list[Wijk] = []
    atoms: list[Atom] = []
    names: dict[str, str] = {}
    changes: list[dict] = []
    split_wijken: list[int] = []
    merge_wijken: list[int] = []

    def add(wijk: int, before: str, after: str, year: int | None, name: str) -> None:
        atoms.append(Atom(len(atoms), wijk, before, after, year, name))

    for g, gm_code in enumerate(cfg.gemeente_codes):
        digits = gm_code[2:]
        n_wijken = cfg.n_wijken_of(g)
        first = len(wijken)
        for i in range(n_wijken):
            name = WIJK_NAMES[i % len(WIJK_NAMES)] + ("" if i < len(WIJK_NAMES) else f" {i + 1}")
            wijken.append(Wijk(first + i, f"WK{digits}{i + 1:02d}", name, g))
        has_changes = cfg.has_changes(g)
        split_local = min(2, n_wijken - 1)  # third wijk (or the last one)
        merge_local = n_wijken - 1
        if merge_local == split_local:
            split_local = 0
        if has_changes:
            split_wijken.append(first + split_local)
            merge_wijken.append(first + merge_local)
        for i in range(n_wijken):
            w = first + i
            n = cfg.n_buurten(w)
            wname = wijken[w].name
            merged = (n - 1, n) if has_changes and i == merge_local else ()
            for b in range(1, n + 1):
                code = _buurt_code(digits, i, b)
                name = f"{wname}-{BUURT_PARTS[(b - 1 + 3 * i) % len(BUURT_PARTS)]}"
                names[code] = name
                if has_changes and i == split_local and b == 2:
                    for part, new_b in (("Noord", n + 1), ("Zuid", n + 2)):
                        new = _buurt_code(digits, i, new_b)
                        names[new] = f"{name} {part}"
                        add(w, code, new, cfg.split_year, names[new])
                        changes.append(dict(year=cfg.split_year, old_code=code, new_code=new, change_type="split"))
                elif b in merged:
                    new = _buurt_code(digits, i, n + 1)
                    names[new] = f"{wname}-Samen"
                    add(w, code, new, cfg.merge_year, name)
                    changes.append(dict(year=cfg.merge_year, old_code=code, new_code=new, change_type="merge"))
                else:
                    add(w, code, code, None, name)
        gemeenten.append(Gemeente(g, gm_code, cfg.gemeente_label(g), tuple(range(first, first + n_wijken)), has_changes))
    return Geography(cfg, tuple(wijken), tuple(atoms), names, tuple(changes), tuple(split_wijken),
                     tuple(merge_wijken), tuple(gemeenten))
