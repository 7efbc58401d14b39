"""Settings of the synthetic demo data (SYNTHETIC: no real data).

By default one municipality, Demostad (GM9999). ``DemoConfig.national()`` is a national-scale
synthetic country of 350 gemeenten (GM9001-GM9350, named "Synthetisch 001" ...), used by the
benchmark ``benchmarks/national_run.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFAULT_BUURTEN_PER_WIJK = (8, 6, 7, 5, 9, 6, 7, 8, 6, 7, 5, 6)  # 80 buurten in 12 wijken
# national scale: 350 gemeenten x 9.4 wijken (3,290) x about 4.25 buurten (about 14,000)
NATIONAL_WIJKEN_PER_GEMEENTE = (6, 8, 10, 12, 9, 11, 7, 13, 9, 9)
NATIONAL_BUURTEN_PER_WIJK = (3, 4, 5, 4, 6, 3, 5, 4)


@dataclass(frozen=True)
class DemoConfig:
    """Size and period of the generated municipality (or municipalities).

    ``buurten_per_wijk`` gives the number of buurten of each wijk in the first year (before the
    planted split and merge); it is cycled over the wijken (numbered across all gemeenten) when
    shorter. With ``n_gemeenten`` > 1 the gemeenten get consecutive codes from ``gemeente_code``
    and the names ``"<gemeente_name> 001"`` ...; ``wijken_per_gemeente`` (cycled; empty: every
    gemeente has ``n_wijken``) sets their sizes, and every ``change_every``-th gemeente (the
    first one included) gets a planted buurt split and merge.
    """

    n_wijken: int = 12
    buurten_per_wijk: tuple[int, ...] = field(default=DEFAULT_BUURTEN_PER_WIJK)
    first_year: int = 2015
    last_year: int = 2024
    gemeente_code: str = "GM9999"
    gemeente_name: str = "Demostad"
    n_gemeenten: int = 1
    wijken_per_gemeente: tuple[int, ...] = ()
    change_every: int = 50

    def __post_init__(self) -> None:
        if min(self.wijken_per_gemeente or (self.n_wijken,)) < 2:
            raise ValueError("every gemeente needs at least 2 wijken (one for the split, one for the merge)")
        if self.last_year - self.first_year < 3:
            raise ValueError("Demostad needs at least 4 years so that the area code changes fall inside the period")
        if not (len(self.gemeente_code) == 6 and self.gemeente_code.startswith("GM") and self.gemeente_code[2:].isdigit()):
            raise ValueError(f"gemeente_code must look like GM9999, got {self.gemeente_code!r}")
        if self.n_gemeenten < 1 or int(self.gemeente_code[2:]) + self.n_gemeenten - 1 > 9999:
            raise ValueError(f"{self.n_gemeenten} gemeenten from {self.gemeente_code} do not fit in GM0000-GM9999")
        if max(self.wijken_per_gemeente or (self.n_wijken,)) > 99:
            raise ValueError("at most 99 wijken per gemeente (2-digit wijk numbers)")
        if min(self.buurten_per_wijk) < 2 or max(self.buurten_per_wijk) > 97:
            raise ValueError("every wijk needs 2 to 97 buurten")
        if self.change_every < 1:
            raise ValueError("change_every must be at least 1")

    @classmethod
    def small(cls) -> "DemoConfig":
        """A small municipality for fast tests: 3 wijken, 12 buurten, 2019-2024."""
        return cls(n_wijken=3, buurten_per_wijk=(4, 4, 4), first_year=2019, last_year=2024)

    @classmethod
    def national(cls) -> "DemoConfig":
        """National scale (SYNTHETIC): 350 gemeenten GM9001-GM9350, 3,290 wijken, about 14,000
        buurten, 2015-2024; buurt splits and merges planted in 7 gemeenten."""
        return cls(
            n_wijken=NATIONAL_WIJKEN_PER_GEMEENTE[0], buurten_per_wijk=NATIONAL_BUURTEN_PER_WIJK,
            gemeente_code="GM9001", gemeente_name="Synthetisch", n_gemeenten=350,
            wijken_per_gemeente=NATIONAL_WIJKEN_PER_GEMEENTE, change_every=50,
        )

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @property
    def gemeente_digits(self) -> str:
        return self.gemeente_code[2:]

    @property
    def gemeente_codes(self) -> list[str]:
        first = int(self.gemeente_digits)
        return [f"GM{first + i:04d}" for i in range(self.n_gemeenten)]

    def gemeente_label(self, index: int) -> str:
        """Name of the gemeente with this index (0-based)."""
        return self.gemeente_name if self.n_gemeenten == 1 else f"{self.gemeente_name} {index + 1:03d}"

    @property
    def file_label(self) -> str:
        """Lower-case label in the names of files that cover every gemeente (``demostad``)."""
        slug = slugify(self.gemeente_name)
        return slug if self.n_gemeenten == 1 else f"{slug}_nl"

    def n_wijken_of(self, gemeente_index: int) -> int:
        sizes = self.wijken_per_gemeente or (self.n_wijken,)
        return sizes[gemeente_index % len(sizes)]

    def has_changes(self, gemeente_index: int) -> bool:
        return gemeente_index % self.change_every == 0

    def n_buurten(self, wijk_index: int) -> int:
        return self.buurten_per_wijk[wijk_index % len(self.buurten_per_wijk)]

    @property
    def split_year(self) -> int:
        """Year from which the split buurt is replaced by its two parts."""
        return self.first_year + (self.last_year - self.first_year + 1) // 2

    @property
    def merge_year(self) -> int:
        """Year from which the two merged buurten are replaced by one code."""
        return min(self.split_year + 1, self.last_year)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())
