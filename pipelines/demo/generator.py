"""Generate the SYNTHETIC demo municipality Demostad (GM9999), or several synthetic gemeenten
(``DemoConfig.national()``): extracts plus ground truth.

``generate_demo(out_dir, seed, config)`` writes ``out_dir/extracts`` (files shaped exactly like
the real source extracts, conforming to ``data_contracts/sources``) and ``out_dir/ground_truth``
(the planted truth). Deterministic: the same seed and config give byte-identical files.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from data_contracts.contract import load_contracts
from pipelines.demo import cbs, duo, gebieden, ggd, ground_truth, politie, registraties
from pipelines.demo.config import DemoConfig
from pipelines.demo.geography import build_geography
from pipelines.demo.latent import build_latent
from pipelines.demo.population import build_population, stable_attributes
from pipelines.demo.world import World

__all__ = ["DemoConfig", "DemoResult", "generate_demo", "build_world"]

DEFAULT_SEED = 20150101
WRITERS = (cbs, registraties, ggd, duo, politie, gebieden)  # each has SOURCE and write(world, rng, extract_dir)
OUT_README = """# Demostad — SYNTHETIC demo data

Everything in this folder is **synthetic**: {name} ({code}) {what} made up by
`pipelines/demo` (seed {seed}). No figure describes a real place or real people.

* `extracts/`: source extracts in the exact format of the data contracts (`data_contracts/sources`).
* `ground_truth/`: the planted effects, chains, areas and code changes; see its README.md.
"""


@dataclass
class DemoResult:
    out_dir: Path
    extract_dir: Path
    ground_truth_dir: Path
    seed: int
    config: DemoConfig
    rows_per_file: dict[Path, int] = field(default_factory=dict)  # every extract file -> data rows
    ground_truth_files: list[Path] = field(default_factory=list)


def _rngs(seed: int, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def build_world(seed: int = DEFAULT_SEED, config: DemoConfig | None = None) -> tuple[World, list[np.random.Generator]]:
    """The latent world before any file is written; returns the generators left for the writers."""
    cfg = config or DemoConfig()
    rng_latent, rng_pop, rng_attrs, *rng_writers = _rngs(seed, 3 + len(WRITERS))
    geo = build_geography(cfg)
    panel, d_stable = build_latent(rng_latent, geo, len(cfg.years))
    pop = build_population(rng_pop, geo, len(cfg.years), d_stable)
    return World(cfg, geo, pop, stable_attributes(rng_attrs, geo), panel), rng_writers


def _remove_stale(extract_dir: Path, ground_truth_dir: Path) -> None:
    patterns = [c.file_format.file_name_pattern for c in load_contracts().values()]
    for folder, owned in ((extract_dir, patterns), (ground_truth_dir, ["*.csv", "README.md"])):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and any(fnmatch.fnmatch(path.name, p) for p in owned):
                    path.unlink()


def generate_demo(out_dir: Path, seed: int = DEFAULT_SEED, config: DemoConfig | None = None) -> DemoResult:
    """Write Demostad's extracts and ground truth under ``out_dir``; overwrite earlier output."""
    cfg = config or DemoConfig()
    out_dir = Path(out_dir)
    result = DemoResult(out_dir, out_dir / "extracts", out_dir / "ground_truth", seed, cfg)
    _remove_stale(result.extract_dir, result.ground_truth_dir)
    result.extract_dir.mkdir(parents=True, exist_ok=True)
    world, rng_writers = build_world(seed, cfg)
    for writer, rng in zip(WRITERS, rng_writers):
        result.rows_per_file.update(writer.write(world, rng, result.extract_dir))
    result.rows_per_file = dict(sorted(result.rows_per_file.items()))
    result.ground_truth_files = ground_truth.write(world, result.ground_truth_dir, seed)
    (out_dir / "README.md").write_text(
        OUT_README.format(**_readme_names(cfg), seed=seed), encoding="utf-8"
    )
    return result


def _readme_names(cfg: DemoConfig) -> dict[str, str]:
    if cfg.n_gemeenten == 1:
        return {"name": cfg.gemeente_name, "code": cfg.gemeente_code, "what": "is a fictional municipality"}
    codes = cfg.gemeente_codes
    return {"name": f"{cfg.gemeente_label(0)} to {cfg.gemeente_label(cfg.n_gemeenten - 1)}",
            "code": f"{codes[0]}-{codes[-1]}", "what": f"are {cfg.n_gemeenten} fictional municipalities"}
