"""Settings of the synthetic demo municipality (Demostad, GM9999). SYNTHETIC: no real data."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_BUURTEN_PER_WIJK = (8, 6, 7, 5, 9, 6, 7, 8, 6, 7, 5, 6)  # 80 buurten in 12 wijken


@dataclass(frozen=True)
class DemoConfig:
    """Size and period of the generated municipality.

    ``buurten_per_wijk`` gives the number of buurten of each wijk in the first year (before the
    planted split and merge); it is cycled when shorter than ``n_wijken``.
    """

    n_wijken: int = 12
    buurten_per_wijk: tuple[int, ...] = field(default=DEFAULT_BUURTEN_PER_WIJK)
    first_year: int = 2015
    last_year: int = 2024
    gemeente_code: str = "GM9999"
    gemeente_name: str = "Demostad"

    def __post_init__(self) -> None:
        if self.n_wijken < 2:
            raise ValueError("Demostad needs at least 2 wijken (one for the split, one for the merge)")
        if self.last_year - self.first_year < 3:
            raise ValueError("Demostad needs at least 4 years so that the area code changes fall inside the period")
        if not (len(self.gemeente_code) == 6 and self.gemeente_code.startswith("GM") and self.gemeente_code[2:].isdigit()):
            raise ValueError(f"gemeente_code must look like GM9999, got {self.gemeente_code!r}")
        if min(self.buurten_per_wijk) < 2:
            raise ValueError("every wijk needs at least 2 buurten")

    @classmethod
    def small(cls) -> "DemoConfig":
        """A small municipality for fast tests: 3 wijken, 12 buurten, 2019-2024."""
        return cls(n_wijken=3, buurten_per_wijk=(4, 4, 4), first_year=2019, last_year=2024)

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @property
    def gemeente_digits(self) -> str:
        return self.gemeente_code[2:]

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
