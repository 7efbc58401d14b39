"""Write the planted truth of the demo (SYNTHETIC) to ground_truth/: effects, chains, areas,
code changes, indicator scales and the latent panels per buurt code and year.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.demo import latent as lat
from pipelines.demo import seeds, truth
from pipelines.demo.csvio import write_table
from pipelines.demo.world import World

README_TEMPLATE = Path(__file__).with_name("ground_truth_README.md")


def _f(x: float, d: int = 4) -> str:
    text = f"{x:.{d}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def change_rows(world: World) -> list[list[str]]:
    """Each change with the share of the old code's residents (year before) that goes to the new code."""
    pop = world.pop["pop"]
    rows = []
    for c in sorted(world.geo.changes, key=lambda c: (c["year"], c["old_code"], c["new_code"])):
        t_before = world.years.index(c["year"]) - 1
        old_atoms = [a.index for a in world.geo.atoms if a.code_in(c["year"] - 1) == c["old_code"]]
        moved = [i for i in old_atoms if world.geo.atoms[i].code_in(c["year"]) == c["new_code"]]
        share = pop[moved, t_before].sum() / pop[old_atoms, t_before].sum()
        rows.append([str(c["year"]), c["old_code"], c["new_code"], c["change_type"], _f(share)])
    return rows


def _panel_rows(world: World, ids: list[str], values: np.ndarray) -> list[str]:
    """Lines ``code,year,id,value`` of the population-weighted mean over each buurt code's atoms
    (values formatted as ``_f`` does, vectorised for the national scale)."""
    lines = []
    pop = world.pop["pop"].astype(float)
    for t, year in enumerate(world.years):
        division = world.geo.division(year)
        n = len(division.codes)
        w = pop[:, t]
        den = np.bincount(division.code_of_atom, weights=w, minlength=n)
        means = [(np.bincount(division.code_of_atom, weights=values[k, :, t] * w, minlength=n) / den).tolist()
                 for k in range(len(ids))]
        for i, code in enumerate(division.codes):
            prefix = f"{code},{year},"
            lines.extend(f"{prefix}{name},{means[k][i]:.4f}" for k, name in enumerate(ids))
    return lines


def _write_lines(path: Path, columns: list[str], lines: list[str]) -> None:
    """Fast path of ``write_table`` for rows that need no quoting (codes, ids and numbers); a
    value printed as -0.0000 is written as 0.0000, as ``_f`` does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(columns) + "\n")
        for start in range(0, len(lines), 100_000):
            chunk = "\n".join(lines[start:start + 100_000]) + "\n"
            fh.write(chunk.replace(",-0.0000\n", ",0.0000\n"))


def write(world: World, out: Path, seed: int) -> list[Path]:
    inds = seeds.indicators()
    files: dict[str, tuple[list[str], list[list[str]]]] = {
        "planted_effects.csv": (
            ["factor_id", "outcome_indicator_id", "subgoal_id", "effect_sd", "outcome_direction"],
            [[f, o, inds[o].subgoal_id, _f(e, 2), inds[o].direction] for f, o, e in sorted(truth.PLANTED_EFFECTS)],
        ),
        "planted_chains.csv": (
            ["from_factor_id", "to_factor_id", "coefficient_sd"],
            [[a, b, _f(c, 2)] for a, b, c in truth.PLANTED_CHAINS],
        ),
        "areas.csv": (
            ["area_code", "area_level", "name", "parent_code", "valid_from_year", "valid_to_year"],
            [[str(r[k]) for k in ("area_code", "area_level", "name", "parent_code", "valid_from_year", "valid_to_year")]
             for r in world.geo.area_rows()],
        ),
        "area_code_changes.csv": (["year", "old_code", "new_code", "change_type", "weight"], change_rows(world)),
        "indicator_scales.csv": (
            ["indicator_id", "measures", "factor_id", "subgoal_id", "source", "link", "base_value", "scale_per_sd", "orientation"],
            [[i, inds[i].measures, inds[i].factor_id, inds[i].subgoal_id, inds[i].source, *_link(i)] for i in sorted(inds)],
        ),
    }
    panels = {
        "latent_factors.csv": (["area_code", "year", "factor_id", "z"], _panel_rows(world, world.panel.factors, world.panel.z)),
        "latent_outcomes.csv": (
            ["area_code", "year", "outcome_indicator_id", "y"], _panel_rows(world, world.panel.outcomes, world.panel.y)
        ),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (columns, rows) in files.items():
        path = out / name
        write_table(path, columns, rows)
        written.append(path)
    for name, (columns, lines) in panels.items():
        path = out / name
        _write_lines(path, columns, lines)
        written.append(path)
    readme = out / "README.md"
    cfg = world.config
    readme.write_text(
        README_TEMPLATE.read_text(encoding="utf-8").format(
            seed=seed, first_year=cfg.first_year, last_year=cfg.last_year, n_wijken=len(world.geo.wijken),
            n_effects=len(truth.PLANTED_EFFECTS), n_chains=len(truth.PLANTED_CHAINS), gemeente=_gemeente_codes(world),
            name=cfg.gemeente_name if cfg.n_gemeenten == 1 else f"{cfg.n_gemeenten} synthetic gemeenten {cfg.gemeente_name} 001-{cfg.n_gemeenten:03d}",
        ),
        encoding="utf-8",
    )
    written.append(readme)
    return written


def _link(indicator_id: str) -> list[str]:
    link, scale = lat.link_and_scale(indicator_id)
    return [link, _f(truth.BASE_VALUES[indicator_id], 2), _f(scale, 2), str(lat.orientation(indicator_id))]


def _gemeente_codes(world: World) -> str:
    codes = [g.code for g in world.geo.gemeenten]
    return codes[0] if len(codes) == 1 else f"{codes[0]}-{codes[-1]}"
