"""The latent panel of Demostad (SYNTHETIC): factor scores and outcome scores per atom and year.

Factor score ``z[f, atom, year]`` (standardised over the panel before the chains are applied):

    z = loading_f * D + sqrt(1 - loading_f**2) * own_f,   then, in chain order,
    z_to = c * z_from + sqrt(1 - c**2) * z_to   (keeps z_to at about unit variance)

with D a common deprivation component (stable part clustered by wijk plus yearly AR(1) part) and
own_f = stable area part + area-specific slope + yearly AR(1) noise, so a good share of the
variance lies within areas over time. Loadings are 0.25-0.40 (negative for protective factors;
halved for chain targets, which also inherit deprivation through their chain source).

Outcome score ``y[o, atom, year]`` (higher = worse):

    y = sum_f effect_sd(f, o) * z_f + area effect + year effect + noise

Indicators map a latent score to their scale with ``value_at``: logit for percentages, log for
rates and means, around ``truth.BASE_VALUES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.demo import seeds, truth
from pipelines.demo.geography import Geography

MEASUREMENT_NOISE_SD = 0.10  # indicator-specific noise on top of the factor score (was 0.25; see ground_truth_README)
OUTCOME_NOISE_SD = 0.35
OUTCOME_AREA_SD = 0.5
OUTCOME_YEAR_SD = 0.1


@dataclass
class LatentPanel:
    factors: list[str]
    z: np.ndarray  # (n_factors, n_atoms, n_years)
    outcomes: list[str]
    y: np.ndarray  # (n_outcomes, n_atoms, n_years)
    indicator_latent: dict[str, np.ndarray]  # indicator_id -> (n_atoms, n_years), oriented as its factor/outcome

    def factor(self, factor_id: str) -> np.ndarray:
        return self.z[self.factors.index(factor_id)]


def _ar1(rng: np.random.Generator, shape: tuple[int, int], rho: float) -> np.ndarray:
    """Stationary AR(1) series with unit variance along the last axis."""
    eps = rng.standard_normal(shape)
    out = np.empty(shape)
    out[:, 0] = eps[:, 0]
    for t in range(1, shape[1]):
        out[:, t] = rho * out[:, t - 1] + np.sqrt(1 - rho**2) * eps[:, t]
    return out


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def deprivation(rng: np.random.Generator, geo: Geography, n_years: int) -> tuple[np.ndarray, np.ndarray]:
    """Common deprivation component D (atoms x years) and its stable part per atom."""
    wijk_part = rng.standard_normal(len(geo.wijken))
    stable = _standardise(0.7 * wijk_part[geo.wijk_of] + 0.7 * rng.standard_normal(geo.n_atoms))
    d = 0.8 * stable[:, None] + 0.6 * _ar1(rng, (geo.n_atoms, n_years), 0.5)
    return _standardise(d), stable


def build_latent(rng: np.random.Generator, geo: Geography, n_years: int) -> tuple[LatentPanel, np.ndarray]:
    """Factor and outcome panels with the planted chains and effects; also returns the stable deprivation."""
    n_atoms = geo.n_atoms
    types = seeds.factor_types()
    factors = list(types)
    d, d_stable = deprivation(rng, geo, n_years)
    years_centred = (np.arange(n_years) - (n_years - 1) / 2) / max(n_years - 1, 1)
    z = np.empty((len(factors), n_atoms, n_years))
    chain_targets = {dst for _, dst, _ in truth.PLANTED_CHAINS}
    for i, f in enumerate(factors):
        loading = rng.uniform(0.25, 0.40) * (-1 if types[f] == "protective" else 1)
        if f in chain_targets:  # they also inherit deprivation through their chain source
            loading *= 0.5
        stable = rng.standard_normal(n_atoms)[:, None]
        slope = rng.standard_normal(n_atoms)[:, None] * years_centred[None, :]
        own = _standardise(0.65 * stable + 0.45 * slope + 0.6 * _ar1(rng, (n_atoms, n_years), 0.3))
        city_trend = rng.uniform(-0.3, 0.3) * years_centred[None, :]
        z[i] = _standardise(loading * d + np.sqrt(1 - loading**2) * own) + city_trend
    for src, dst, coef in truth.PLANTED_CHAINS:
        z[factors.index(dst)] = coef * z[factors.index(src)] + np.sqrt(1 - coef**2) * z[factors.index(dst)]

    inds = seeds.indicators()
    outcomes = sorted({o for _, o, _ in truth.PLANTED_EFFECTS} | {i for i, x in inds.items() if x.is_outcome})
    y = np.empty((len(outcomes), n_atoms, n_years))
    for k, o in enumerate(outcomes):
        area = OUTCOME_AREA_SD * (0.6 * d_stable + 0.8 * rng.standard_normal(n_atoms))
        year = np.cumsum(rng.normal(0.0, OUTCOME_YEAR_SD, n_years))
        y[k] = area[:, None] + year[None, :] + rng.normal(0.0, OUTCOME_NOISE_SD, (n_atoms, n_years))
        for f, outcome, effect in truth.PLANTED_EFFECTS:
            if outcome == o:
                y[k] += effect * z[factors.index(f)]

    latent: dict[str, np.ndarray] = {}
    for ind_id in sorted(inds):
        ind = inds[ind_id]
        if ind.is_outcome:
            latent[ind_id] = y[outcomes.index(ind_id)]
        else:
            noise = rng.normal(0.0, MEASUREMENT_NOISE_SD, (n_atoms, n_years))
            latent[ind_id] = z[factors.index(ind.factor_id)] + noise
    return LatentPanel(factors, z, outcomes, y, latent), d_stable


def orientation(indicator_id: str) -> int:
    """+1 if the indicator's value rises with its latent score, -1 if it falls."""
    ind = seeds.indicators()[indicator_id]
    worse_when_higher = ind.direction == "higher_is_worse"
    if ind.is_outcome:
        return 1 if worse_when_higher else -1  # outcome latent: higher = worse
    risk = seeds.factor_types()[ind.factor_id] == "risk"
    return 1 if risk == worse_when_higher else -1


def link_and_scale(indicator_id: str) -> tuple[str, float]:
    unit = seeds.indicators()[indicator_id].unit
    if unit in ("percentage", "survey_prevalence"):
        return "logit", truth.LOGIT_SCALE
    if unit == "mean":
        return "log", truth.MEAN_LOG_SCALE
    return "log", truth.LOG_SCALE


def value_at(indicator_id: str, latent: np.ndarray) -> np.ndarray:
    """Map a latent score to the indicator's scale (percent as a fraction 0-1 for percentages)."""
    link, scale = link_and_scale(indicator_id)
    base = truth.BASE_VALUES[indicator_id]
    shift = orientation(indicator_id) * scale * latent
    if link == "logit":
        p = base / 100.0
        return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + shift)))
    return base * np.exp(shift)


def group_sum(x: np.ndarray, group_of: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of the rows of ``x`` (atoms x years) per group, given the group of every atom (float)."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        return np.bincount(group_of, weights=x, minlength=n_groups)
    return np.stack([np.bincount(group_of, weights=x[:, t], minlength=n_groups) for t in range(x.shape[1])], axis=1)


def aggregate(values: np.ndarray, weights: np.ndarray, group_of: np.ndarray, n_groups: int) -> np.ndarray:
    """Weighted mean of atom values (atoms x years) per group, given the group of every atom."""
    return group_sum(values * weights, group_of, n_groups) / group_sum(weights, group_of, n_groups)
