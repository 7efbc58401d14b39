"""Rank factors by their impact on the goals, with uncertainty, city-wide and per wijk.

A factor's **impact** is the harm that closing its room for improvement would take away:

    impact_j = gap_j * sum_s w_s * T[s, j] * orientation_j

- ``T = D (I - B)^-1`` are the **total effects** of the factors on the sub-goals: ``D[s, j]`` the
  merged effect (Cohen's d, positive = worse) of factor j on sub-goal s, ``B[k, j]`` the strength
  of the chain link j -> k. ``(I - B)^-1 = I + B + B^2 + ...`` (the chains are acyclic), so an
  effect that runs through other factors counts, not only the direct one.
- ``w_s`` are goal weights (equal by default; restricted to one domain for a domain ranking).
- ``gap_j`` is the **room for improvement**: how far the area's factor score lies from a
  reference, the best quartile of the comparable areas (the wijken of the gemeente): for a risk
  factor ``max(0, score - q25)``, for a protective factor ``max(0, q75 - score)``, in standard
  deviations of the area scores, in the factor's newest year with published wijk scores
  (``newest_published_year``, since ranking-1.6.0; per gemeente since ranking-1.6.1). City-wide: the
  mean gap of the wijken.
- ``orientation_j`` is +1 for a risk factor (less of it is better) and -1 for a protective one
  (more of it is better), so that impact is positive when closing the gap helps.

**What the impact rests on** (``evidence_local``, ``evidence_literature``, ``evidence_placeholder``):
the local, literature and placeholder parts of its merged effects' contributions to it, local data
that point the other way from the literature left out (``ranking_model.evidence_shares``).

**Uncertainty** is propagated by Monte Carlo: each draw takes every sub-goal's merged effects
jointly from ``N(d[s], Sigma_s)`` and every factor's incoming chain strengths from ``N(b[k],
Sigma_k)`` (since ranking-1.6.0, ``effect_draws``: estimates of one joint regression are
correlated, ``merge.merged_covariance`` and ``chains.joint_covariance``; the diagonals are the
``se^2`` of before, so every marginal is unchanged; before, each was drawn independently), and (``RankingConfig.score_error``,
since ranking-1.5.0) every published wijk score from its sampling distribution (since ranking-1.6.0
its empirical-Bayes posterior, ``posterior_scores``) with the best quartile and the gaps recomputed
from the drawn scores (``gap_draws``), recomputes all impacts and ranks
them; a factor gets its median impact and rank, the 90% intervals (5th-95th percentiles) and the
probability of being in the top 5; every ranked factor's explanation ends with its place and
90% rank interval in words (``ranking_text.rank_sentence``, since ranking-1.6.0). A factor without local scores
has no known room for improvement and is not ranked (``rankable = false``), with an explanation;
nor is, in a scope, a factor without any effect, direct or through the chains, on the scope's
sub-goals (``ranking_model.linked_factors``, since ranking-1.6.0: a domain ranking ranked them at an impact of
exactly 0).

The ranking is not a ranking by prevalence: ``rank_by_room_for_improvement`` shows that ranking
beside it; a factor with much room but weak effects ranks lower than one with less room and
strong effects. The effects are the merged local (ecological) and literature estimates: they are
associations, not proven causal effects, and the ranking says so.

**Computation.** The draws are shared by every scope and area; ``rank_areas`` ranks all areas of a
scope at once (every wijk of every gemeente in one call), in chunks of areas that bound the memory
of the per-draw impacts (``CHUNK_BYTES``). Its rows are the same, to the bit and in the same order,
as ranking one area at a time (``tests/ml/test_ranking_equivalence.py``).

**Where the parts live.** Here: the configuration (``RankingConfig``), the scores the ranking reads
and the room for improvement, the draws, the ranks (``rank_areas``, ``rank_factors``) and the
rows. ``ranking_model``: the factor model in matrix form (``build_model``, ``Model``), the chains'
paths and what each impact rests on. ``ranking_text``: the Dutch explanations of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models_ml.panel import SIGNAL_VARIANCE_FLOOR, published_score_errors_sql
from models_ml.ranking_model import (
    EVIDENCE, Model, evidence_shares, linked_factors, path_shares, point_chain_multipliers, total_effects,
)
from models_ml.ranking_text import SCOPE_KEY, explanations, noisy_scores_sentence, not_ranked_reasons, rank_sentence

METHOD_VERSION = "ranking-1.6.2"  # 1.6.2: the explanation names what outweighs local data that point the other way (literature or assumptions), and the places it gives lie inside the interval it gives
RANKING_COLUMNS = [
    "scope_type", "scope_id", "area_code", "factor_id", "factor_type", "rankable", "not_ranked_reason", "impact",
    "impact_ci90_lower", "impact_ci90_upper", "rank_median", "rank_ci90_lower", "rank_ci90_upper", "priority",
    "p_top5", "room_for_improvement", "score_year", "rank_by_room_for_improvement", "direct_share",
    "evidence_local", "evidence_literature", "evidence_placeholder", "explanation", "note",
    "n_draws", "method_version",
]
NOTE = "Ecological (area-level) associations merged with literature weights, not individual causal effects."
"""The ``note`` of every ranking row, as the other ML marts carry theirs (``associations.NOTE``)."""


@dataclass(frozen=True)
class RankingConfig:
    """n_draws: Monte Carlo draws; goal_weights: sub-goal -> weight (missing: 1); reference_quantile:
    the best quartile (0.25) of comparable areas; top_k: for p_top; seed: of the draws.

    score_error (since ranking-1.5.0): every draw also draws each wijk's published score from its
    sampling distribution (``score + N(0, error_var)``, column ``error_var`` of ``load_scores``) and
    recomputes the best quartile and the gap from the drawn scores, so that the impact and rank
    intervals carry the uncertainty of the room for improvement too, not only that of the effects.
    Many wijk scores are mostly sampling noise (median SE 0.33 of a score SD of 1 in the demo, 1.28
    for ``roken_zwangerschap``); treated as exact they gave rank intervals that were too narrow.
    False: the gaps are exact (ranking-1.4.0 and before).

    score_shrinkage (since ranking-1.6.0; only with score_error): the drawn scores come from each
    score's empirical-Bayes posterior (``posterior_scores``: shrunk towards the mean of the
    gemeente's wijken by the share of its variance that is sampling noise) instead of from
    ``N(score, error_var)``. Drawn around the observed score, a noisy score carried its noise twice
    and ``max(0, .)`` turned it into room for improvement: the median impact of the noisiest
    factors was up to 1.56 times their point impact. False: ranking-1.5.0."""

    n_draws: int = 1000
    seed: int = 20150101
    reference_quantile: float = 0.25
    top_k: int = 5
    goal_weights: dict[str, float] = field(default_factory=dict)
    score_error: bool = True
    score_shrinkage: bool = True


def _quantile_positions(n, q: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where ``np.quantile(x, q)`` (method 'linear') of a sample of size ``n`` (an array of sizes)
    looks in the sorted sample: positions below and above and the weight of the one above,
    computed as numpy computes them (virtual index ``(n - 1) q``), so that ``_lerp`` of the two
    order statistics is ``np.quantile`` to the bit."""
    n = np.asarray(n)
    virtual = (n - 1) * np.float64(q)
    below = np.floor(virtual)
    gamma = virtual - below
    below = below.astype(np.intp)
    above = below + 1
    last = virtual >= n - 1
    below, above = np.where(last, n - 1, below), np.where(last, n - 1, above)
    first = virtual < 0
    below, above = np.where(first, 0, below), np.where(first, 0, above)
    return below, above, gamma


def _lerp(a, b, t):
    """numpy's quantile interpolation between neighbouring order statistics (same rounding)."""
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def _pandas_q(q: float) -> np.float64:
    """``q`` as pandas' quantile hands it to numpy (as ``q * 100`` to ``np.percentile``), rounding
    included, so that a quantile computed here is pandas' to the bit."""
    return np.true_divide(np.float64(q) * 100.0, 100)


def _group_quantile(values: np.ndarray, group: np.ndarray, q: float) -> np.ndarray:
    """Per row, the ``q`` quantile of the non-missing values of its group: what
    ``groupby(...).transform(lambda x: x.quantile(q))`` gives (``np.percentile``, linear), to the bit,
    without a Python call per group."""
    out = np.full(len(values), np.nan)
    if not len(values):
        return out
    ok = ~np.isnan(values) & (group >= 0)
    order = np.lexsort((values, group))  # by group, then value; missing values last in their group
    order = order[ok[order]]
    n_groups = int(group.max()) + 1
    n = np.bincount(group[ok], minlength=n_groups)
    start = np.concatenate(([0], np.cumsum(n)[:-1]))
    sorted_values = values[order]
    has = n > 0
    below, above, gamma = _quantile_positions(n[has], _pandas_q(q))
    per_group = np.full(n_groups, np.nan)
    per_group[has] = _lerp(sorted_values[start[has] + below], sorted_values[start[has] + above], gamma)
    out[group >= 0] = per_group[group[group >= 0]]
    return out


SCORES_SQL = """
with errors as ({errors})
select i.area_code, i.area_level, i.year, i.factor_id, i.factor_type, p.score, p.score is null as withheld,
       case when p.score is not null then e.error_var end as error_var
from intermediate.int_factor_score as i
left join marts.fct_factor_score as p
    on p.area_code = i.area_code and p.year = i.year and p.factor_id = i.factor_id
left join errors as e
    on e.area_code = i.area_code and e.year = i.year and e.factor_id = i.factor_id
where i.area_level = 'wijk'
order by i.factor_id, i.area_code, i.year
"""
"""The wijk scores the ranking reads (``load_scores``): every wijk and year that has a score, with the
*published* score of ``marts.fct_factor_score`` (NULL and ``withheld`` where disclosure control
withholds it; the mean of the published indicators where it withholds one of several) and its
sampling error variance on the same scale (``panel.load_published_score_errors``: from published
values only; NULL where the score is withheld)."""


@dataclass(frozen=True)
class FactorModel:
    """The factor model's tables the ranking needs (``load_factor_model``)."""

    factors: pd.DataFrame  # factor_id, factor_type, name_nl
    subgoals: pd.DataFrame  # subgoal_id, domain_id, name_nl
    life_phases: pd.DataFrame  # factor_id, life_phase_id (factor_model.factor_life_phases)


def load_factor_model(con) -> FactorModel:
    """Factors, sub-goals and the factors' life phases from the ``factor_model`` seeds, as
    ``ranking_model.build_model`` and ``rank_factors`` take them."""
    q = lambda sql: con.execute(sql).df()  # noqa: E731
    return FactorModel(q("select factor_id, factor_type, name_nl from factor_model.factors"),
                       q("select subgoal_id, domain_id, name_nl from factor_model.subgoals"),
                       q("select * from factor_model.factor_life_phases"))


def load_scores(con) -> pd.DataFrame:
    """The ranking's factor scores (``SCORES_SQL``), in a fixed row order."""
    return con.execute(SCORES_SQL.format(errors=published_score_errors_sql())).df()


def room_for_improvement(scores: pd.DataFrame, factors: pd.DataFrame, quantile: float = 0.25) -> pd.DataFrame:
    """Gap of every wijk to the best quartile of the gemeente's wijken, per factor, newest year.

    Returns area_code, gemeente_code, factor_id, gap (>= 0; NaN without a score) and withheld.
    Scores are oriented: higher = more of the factor, so the best areas of a risk factor have the
    lowest scores. ``scores`` as ``load_scores`` gives them: a wijk whose score is ``withheld``
    (disclosure control) counts for the newest year but gets no gap and does not enter the
    quartiles, so no published gap, impact or rank gives its score back. Without a ``withheld``
    column every score counts.
    """
    s = newest_scores(scores, factors)
    group = s.groupby(["gemeente_code", "factor_id"]).ngroup().to_numpy()
    score = s["score"].to_numpy(dtype=float)
    low, high = _group_quantile(score, group, quantile), _group_quantile(score, group, 1 - quantile)
    s["gap"] = gap_to_reference(score, low, high, (s["factor_type"] == "risk").to_numpy())
    return s[["area_code", "gemeente_code", "factor_id", "gap", "withheld"]].reset_index(drop=True)


def newest_scores(scores: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """The wijk scores of every factor's newest *published* year (``newest_published_year``), with
    gemeente_code and factor_type; ``score`` NaN where it is ``withheld`` (never read), ``error_var``
    (its sampling error variance) 0 where unknown (a score without one counts as exact, as in
    ``panel.factor_score_error_variance``) and NaN where the score is withheld, so that nothing
    downstream reads a withheld score's variance."""
    s = scores[scores["area_level"] == "wijk"]
    s = s.assign(withheld=s["withheld"].fillna(False).astype(bool) if "withheld" in s else False)
    s = s[s["year"] == newest_published_year(s)].drop(columns=["factor_type"], errors="ignore").merge(
        factors[["factor_id", "factor_type"]], on="factor_id")
    s = s.assign(gemeente_code="GM" + s["area_code"].str[2:6])
    error_var = s["error_var"].to_numpy(dtype=float) if "error_var" in s else np.zeros(len(s))
    return s.assign(score=np.where(s["withheld"], np.nan, s["score"].to_numpy(dtype=float)),
                    error_var=np.where(s["withheld"], np.nan, np.nan_to_num(error_var, nan=0.0)))


def newest_published_year(wijk_scores: pd.DataFrame) -> pd.Series:
    """Per row of ``wijk_scores`` (with ``withheld``), the year whose scores of its factor the ranking
    uses in its gemeente: the newest year in which at least one of the gemeente's wijk scores of the
    factor is published, or the newest year where none ever is (every wijk then unranked as withheld).

    Per gemeente since ranking-1.6.1: a gemeente is ranked on its own wijken only (the best quartile
    is the gemeente's), so a year that another gemeente of the region has, and this one has not yet,
    left this gemeente's factor unranked (every wijk without a score that year).

    Since ranking-1.6.0. Before, it was the newest scored year, published or not: a year in which
    disclosure control withholds every wijk score of a factor (``vroeggeboorte_laag_geboortegewicht``
    2024 in the demo: 4 published wijk values, fewer than the 5 a score's spread needs) left the
    factor unranked city-wide and in every wijk, though the year before had 9 published scores
    (and ``mart_wijk_profile`` showed them).
    """
    year = wijk_scores["year"]
    published = year.where(~wijk_scores["withheld"])
    by = [wijk_scores["area_code"].str[2:6].rename("gemeente"), wijk_scores["factor_id"]]
    newest_published = published.groupby(by).transform("max")
    return newest_published.fillna(year.groupby(by).transform("max"))


def gap_to_reference(score, low, high, risk) -> np.ndarray:
    """The room for improvement: a risk factor's distance above the ``low`` reference (the best
    quartile's bound), a protective factor's below the ``high`` one, 0 inside the best quartile
    (arrays that broadcast; NaN where the score is NaN)."""
    return np.where(risk, np.maximum(0.0, score - low), np.maximum(0.0, high - score))


def psd_cholesky(cov: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor L of a covariance matrix (L L' = cov). A matrix that is positive
    semi-definite only up to rounding (a correlation near +-1, or singular) has its eigenvalues
    clipped at ``1e-12`` times the largest and is rescaled to its own diagonal, so that the
    variances stay exactly what they were."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(cov)
        values = np.clip(values, 1e-12 * max(float(values.max()), 0.0), None)
        fixed = (vectors * values) @ vectors.T
        scale = np.sqrt(np.diag(cov) / np.diag(fixed))
        return np.linalg.cholesky(fixed * np.outer(scale, scale))


def correlated_draws(mean: np.ndarray, se: np.ndarray, cov: np.ndarray | None, z: np.ndarray) -> np.ndarray:
    """``mean + se * z`` (z: (n, R, C) standard normal), except that each row r of ``cov`` (R, C, C)
    with an off-diagonal entry is drawn jointly, ``mean[r] + L_r z[:, r]`` with ``L_r`` the Cholesky
    factor of its covariance over the columns with a variance (``psd_cholesky``). Rows without one
    are the independent draws to the bit, so a model without covariances draws what ranking-1.5.0 did."""
    out = mean + se * z
    if cov is None:
        return out
    off = cov.copy()
    diag = np.arange(cov.shape[-1])
    off[:, diag, diag] = 0.0
    for r in np.flatnonzero(np.any(off != 0, axis=(1, 2))):
        active = np.flatnonzero(np.diag(cov[r]) > 0)
        chol = psd_cholesky(cov[r][np.ix_(active, active)])
        out[:, r, active] = mean[r, active] + z[:, r, active] @ chol.T
    return out


def effect_draws(model: Model, config: RankingConfig) -> tuple[np.ndarray, np.ndarray]:
    """The drawn merged effects (n_draws, S, F) and chain strengths (n_draws, F, F): each sub-goal's
    effects from ``N(d_mean[s], d_cov[s])`` and each factor's incoming strengths from
    ``N(b_mean[k], b_cov[k])`` (``correlated_draws``), independent normals where no covariance is
    known. The same standard normals in the same order as ranking-1.5.0 (deterministic with
    ``config.seed``)."""
    rng = np.random.default_rng(config.seed)
    n = config.n_draws
    z_d = rng.standard_normal((n, *model.d_mean.shape))
    z_b = rng.standard_normal((n, *model.b_mean.shape))
    d = correlated_draws(model.d_mean, model.d_se, model.d_cov, z_d)
    b = correlated_draws(model.b_mean, model.b_se, model.b_cov, z_b)
    return d, np.where(model.b_mean == 0, 0.0, b)  # only existing links carry strength


def _draws(model: Model, config: RankingConfig) -> np.ndarray:
    """Total effects per draw: (n_draws, S, F)."""
    d, b = effect_draws(model, config)
    return total_effects(d, b, model.direct_part)


CHUNK_BYTES = 64 * 2**20  # impacts of one chunk of areas (n_draws x areas x factors, float64)


def _sorted_quantile(sorted_values: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    """The ``q`` quantile (pandas', to the bit) along axis 1 of values sorted along it with the
    NaNs last, ``count[j]`` finite values in column j: (n, A, F) -> (n, F)."""
    below, above, gamma = _quantile_positions(count, _pandas_q(q))
    at = lambda pos: np.take_along_axis(sorted_values, pos[None, None, :], axis=1)[:, 0, :]  # noqa: E731
    return _lerp(at(below), at(above), gamma)


def _signal_variance(score: np.ndarray, error_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of one gemeente's wijk scores (wijken, F): the mean of the published scores, the
    variance of their true values ``tau^2`` (their variance minus the mean sampling variance, at
    least ``SIGNAL_VARIANCE_FLOOR`` of their variance; NaN with fewer than 2 scores) and the mean
    sampling variance."""
    finite = np.isfinite(score)
    count = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, score, 0.0).sum(axis=0) / count
        variance = np.where(finite, (score - mean) ** 2, 0.0).sum(axis=0) / (count - 1)
        noise = np.where(finite, error_sd ** 2, 0.0).sum(axis=0) / count
        tau2 = np.where(count >= 2, np.maximum(variance - noise, SIGNAL_VARIANCE_FLOOR * variance), np.nan)
    return mean, tau2, noise


def score_reliability(score: np.ndarray, error_sd: np.ndarray) -> np.ndarray:
    """Per column of one gemeente's wijk scores, the share of their differences that is real:
    ``tau^2 / (tau^2 + mean sampling variance)`` (``_signal_variance``); 1 for exact scores, NaN with
    fewer than 2 scores."""
    _, tau2, noise = _signal_variance(score, error_sd)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(noise == 0, np.where(np.isfinite(tau2), 1.0, np.nan), tau2 / (tau2 + noise))


def posterior_scores(score: np.ndarray, error_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The empirical-Bayes posterior of one gemeente's true wijk scores: (mean, sd), each (wijken, F).

    Per factor (column) the true scores are taken as ``N(m, tau^2)`` across the gemeente's wijken,
    ``m`` the mean of the published scores and ``tau^2`` their variance minus the mean sampling
    variance (at least ``SIGNAL_VARIANCE_FLOOR`` of their variance, as for the outcomes in
    ``panel``); a wijk's observed score ``N(true, error_sd^2)``. Its posterior is
    ``N(m + B (score - m), B error_sd^2)`` with ``B = tau^2 / (tau^2 + error_sd^2)``: a score that is
    mostly noise is pulled towards the gemeente's mean, an exact one (``error_sd`` 0) keeps its
    value to the bit. A factor with fewer than 2 published scores, or no spread, is not shrunk.
    NaN where the score is.
    """
    mean, tau2, _ = _signal_variance(score, error_sd)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(np.isfinite(tau2) & (tau2 > 0), tau2 / (tau2 + error_sd ** 2), 1.0)
    exact = error_sd == 0
    post_mean = np.where(exact | (b == 1.0), score, mean + b * (score - mean))
    return post_mean, np.where(exact, 0.0, np.sqrt(b) * error_sd)


def gap_draws(score: np.ndarray, error_sd: np.ndarray, risk: np.ndarray, quantile: float, n: int,
              rng: np.random.Generator, shrink: bool = True) -> np.ndarray:
    """The room for improvement of one gemeente's wijken in ``n`` draws: (n, wijken, F).

    Each draw takes every published score (``score``, (wijken, F), NaN where there is none) from
    its empirical-Bayes posterior (``posterior_scores``; ``shrink`` False: from ``N(score,
    error_sd^2)``, ranking-1.5.0) and recomputes the best quartile of the drawn scores and each
    wijk's gap to it (``room_for_improvement``, per draw). The reference moves with the scores: a
    noisy gemeente's quartile is as uncertain as its wijken. A score with ``error_sd`` 0 keeps its
    value, so where every score of a factor is exact its gaps are the point gaps to the bit. NaN
    where the score is.
    """
    centre, spread = posterior_scores(score, error_sd) if shrink else (score, error_sd)
    noise = rng.standard_normal((score.shape[0], n, score.shape[1])).transpose(1, 0, 2)  # wijk-major stream
    drawn = centre[None] + np.where(np.isfinite(score), spread, 0.0)[None] * noise
    ordered = np.sort(drawn, axis=1)  # NaN last
    count = np.isfinite(score).sum(axis=0)
    low, high = _sorted_quantile(ordered, count, quantile), _sorted_quantile(ordered, count, 1 - quantile)
    return gap_to_reference(drawn, low[:, None, :], high[:, None, :], risk)


def mean_gap_draws(draws: np.ndarray, point: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """The city-wide gap per draw, (n, F): the mean of the wijken's gap draws ((n, wijken, F), NaN
    where a wijk has no gap), as the point city-wide gap (``point``, (F,)) is the mean of their
    gaps. A factor whose scores are all ``exact`` ((F,)) keeps ``point`` to the bit (pandas' mean
    and numpy's sum may differ in the last bit, which would break exact ties between factors)."""
    known = np.isfinite(draws[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(known, draws, 0.0).sum(axis=1) / known.sum(axis=0)
    return np.where(exact | ~known.any(axis=0), point, mean)


def _summaries(n: int) -> dict[str, tuple]:
    """For ``n`` draws: which order statistics give the median and the 5th / 95th percentiles."""
    half = n // 2
    median = (half, half) if n % 2 else (half - 1, half)
    lower, upper = (tuple(x.item() for x in _quantile_positions(n, q)) for q in (0.05, 0.95))
    return {"median": median, "lower": lower, "upper": upper}


def _median(x_lo: np.ndarray, x_hi: np.ndarray) -> np.ndarray:
    """``np.median`` from its two middle order statistics (the mean of the two, as numpy computes it)."""
    return (x_lo + x_hi) / 2.0


def _tied_half_ranks(sorted_values: np.ndarray) -> np.ndarray:
    """For values sorted along the last axis: ``2 * rank - 2`` of each place, where tied values share
    the mean of the places they occupy (``scipy.stats.rankdata(method='average')``), so that a
    half rank is an integer."""
    k = sorted_values.shape[-1]
    place = np.arange(k)
    starts = np.ones(sorted_values.shape, dtype=bool)
    starts[..., 1:] = sorted_values[..., 1:] != sorted_values[..., :-1]
    ends = np.ones(sorted_values.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    first = np.maximum.accumulate(np.where(starts, place, 0), axis=-1)
    last = np.flip(np.minimum.accumulate(np.flip(np.where(ends, place, k - 1), axis=-1), axis=-1), axis=-1)
    return first + last


def _impact_order_statistics(base: np.ndarray, g: np.ndarray, gap_draws: np.ndarray | None,
                             positions: list[int]) -> dict[int, np.ndarray]:
    """The pos-th smallest impact over the draws of every area and factor, (areas, F) per position.

    With exact gaps (``gap_draws`` None) the impact in draw n is ``base[n, j] * g[a, j]``, and since
    the gaps are >= 0 the sorted impacts of an area are its gap times the sorted ``base``: no
    per-area sort. With drawn gaps ((n, areas, F)) the impacts are sorted per area, in chunks of
    areas of at most ``CHUNK_BYTES``.
    """
    if gap_draws is None:
        sorted_base = np.sort(base, axis=0)
        return {pos: sorted_base[pos][None, :] * g for pos in positions}
    n, n_areas, n_f = gap_draws.shape
    out = {pos: np.empty((n_areas, n_f)) for pos in positions}
    step = max(1, CHUNK_BYTES // (8 * n * max(n_f, 1)))
    for start in range(0, n_areas, step):
        ordered = np.sort(base[:, None, :] * gap_draws[:, start:start + step], axis=0)
        for pos in positions:
            out[pos][start:start + step] = ordered[pos]
    return out


def rank_areas(model: Model, draws: np.ndarray, gaps: np.ndarray, weights: np.ndarray,
               eligible: np.ndarray, config: RankingConfig, withheld: np.ndarray | None = None,
               gap_draws: np.ndarray | None = None) -> pd.DataFrame:
    """Rank the eligible factors with known gaps for many areas at once (one set of weights).

    ``gaps``: (areas, F) room for improvement (NaN where unknown); ``withheld``: (areas, F), True
    where it is unknown because disclosure control withholds the score (the explanation says so);
    ``gap_draws``: (n, areas, F), the room for improvement in every draw (``gap_draws``; 0 where the
    gap is unknown; None: the gaps are exact). Returns one row per area and
    eligible factor (area by area, factors in factor order) with column ``area_index`` (row of
    ``gaps``) and the ranking columns of ``rank_scope``.

    The impact of factor j in draw n is ``base[n, j] * gap_j`` with ``base = sum_s w_s T[n, s, j]
    orientation_j``, shared by all areas (``gap_j`` the draw's gap with ``gap_draws``). Its median
    and 90% interval: ``_impact_order_statistics``. The ranks: per chunk of areas with the same
    rankable factors, the impacts of every draw are sorted (``argsort``, as for one area) and the
    ranks counted per factor; the median, 90% interval and top-k probability of the rank follow
    from those counts. The published ``room_for_improvement`` and the explanation stay those of the
    point gaps.
    """
    gaps = np.atleast_2d(np.asarray(gaps, dtype=float))
    n_areas, n_f = gaps.shape
    n = draws.shape[0]
    linked = linked_factors(model, weights)
    rankable = eligible[None, :] & np.isfinite(gaps) & linked[None, :]
    g = np.where(np.isfinite(gaps), gaps, 0.0)
    base = np.einsum("s,nsf->nf", weights, draws) * model.orientation  # (n, F)
    stats = _summaries(n)
    positions = sorted({*stats["median"], *stats["lower"][:2], *stats["upper"][:2]})
    impact_at = _impact_order_statistics(base, g, gap_draws, positions)

    impact = _median(impact_at[stats["median"][0]], impact_at[stats["median"][1]]) + 0.0  # + 0.0: no -0.0
    lo, hi, t = stats["lower"]
    impact_lower = _lerp(impact_at[lo], impact_at[hi], t) + 0.0
    lo, hi, t = stats["upper"]
    impact_upper = _lerp(impact_at[lo], impact_at[hi], t) + 0.0

    # ranks: counts[a, j, r] = number of draws in which factor j has rank r + 1 in area a
    rank_median = np.full((n_areas, n_f), np.nan)
    rank_lower, rank_upper, p_top = rank_median.copy(), rank_median.copy(), rank_median.copy()
    masks, group = np.unique(rankable, axis=0, return_inverse=True)
    group = np.asarray(group).reshape(-1)
    for m, mask in enumerate(masks):
        idx = np.flatnonzero(mask)
        k = len(idx)
        if k == 0:
            continue
        members = np.flatnonzero(group == m)
        step = max(1, CHUNK_BYTES // (8 * n * k))
        for start in range(0, len(members), step):
            rows = members[start:start + step]
            gap = g[rows][:, idx][None, :, :] if gap_draws is None else gap_draws[:, rows][:, :, idx]
            neg = -(base[:, None, idx] * gap)  # (n, chunk, k), as -impact[:, idx]
            order = np.argsort(neg, axis=-1)  # order[n, a, p]: the factor at sorted place p + 1
            half = _tied_half_ranks(np.take_along_axis(neg, order, axis=-1))  # 2 * rank - 2 of that factor
            bins = 2 * k - 1
            a_code = np.arange(len(rows))[None, :, None]
            flat = (a_code * k + order) * bins + half
            counts = np.bincount(flat.ravel(), minlength=len(rows) * k * bins).reshape(len(rows), k, bins)
            cum = np.cumsum(counts, axis=-1)

            def rank_at(pos: int) -> np.ndarray:  # the pos-th smallest rank (1-based), (chunk, k)
                return 1.0 + (cum <= pos).sum(axis=-1) / 2.0

            sel = np.ix_(rows, idx)
            rank_median[sel] = _median(rank_at(stats["median"][0]), rank_at(stats["median"][1]))
            # rank bounds are order statistics, not interpolated: the rank at or below the 5th
            # percentile's place, at or above the 95th's (numpy's methods 'lower' and 'higher')
            lo, hi, t = stats["lower"]
            rank_lower[sel] = rank_at(lo)
            lo, hi, t = stats["upper"]
            rank_upper[sel] = rank_at(hi if t > 0 else lo)
            in_top = min(config.top_k, k)  # draws with a rank <= top_k (half rank <= 2 top_k - 2)
            p_top[sel] = (cum[:, :, 2 * in_top - 2] if in_top > 0 else np.zeros((len(rows), k), dtype=int)) / n
    room_rank = pd.DataFrame(np.where(rankable, g, np.nan)).rank(axis=1, ascending=False, method="average").to_numpy()
    m_point = point_chain_multipliers(model)
    t_point = np.einsum("sk,skj->sj", model.d_mean, m_point)
    shares = evidence_shares(model, weights, m_point)
    paths = path_shares(model, weights, m_point)
    direct_share = np.broadcast_to(np.diag(paths), g.shape)
    reasons = not_ranked_reasons(rankable, linked, withheld)
    texts = explanations(model, weights, g, rankable, eligible, t_point, m_point, shares, paths, impact,
                          impact_lower, impact_upper, reasons)

    cols = np.flatnonzero(eligible)
    area_index = np.repeat(np.arange(n_areas), len(cols))
    factor_index = np.tile(cols, n_areas)
    ok = rankable[area_index, factor_index]

    def pick(values: np.ndarray, where: np.ndarray = ok) -> np.ndarray:
        return np.where(where, values[area_index, factor_index], np.nan)

    return pd.DataFrame({
        "area_index": area_index,
        "factor_id": model.factors["factor_id"].to_numpy()[factor_index],
        "factor_type": model.factors["factor_type"].to_numpy()[factor_index],
        "rankable": ok,
        "not_ranked_reason": reasons[area_index, factor_index],
        "impact": pick(impact),
        "impact_ci90_lower": pick(impact_lower),
        "impact_ci90_upper": pick(impact_upper),
        "rank_median": pick(rank_median),
        "rank_ci90_lower": pick(rank_lower),
        "rank_ci90_upper": pick(rank_upper),
        "p_top5": pick(p_top),
        "room_for_improvement": pick(gaps),
        "rank_by_room_for_improvement": pick(room_rank),
        "direct_share": pick(direct_share),
        **{f"evidence_{source}": pick(np.broadcast_to(shares[e], g.shape)) for e, source in enumerate(EVIDENCE)},
        "explanation": texts,
    })


def _gemeente_batches(gemeente_of_wijk: np.ndarray, per_wijk_bytes: int) -> list[list[tuple[int, int]]]:
    """The wijk rows (``gemeente_of_wijk`` sorted) of every gemeente, (start, stop), grouped into
    batches of whole gemeenten of at most ``CHUNK_BYTES`` (a gemeente larger than that alone)."""
    bounds = np.r_[np.flatnonzero(np.r_[True, gemeente_of_wijk[1:] != gemeente_of_wijk[:-1]]), len(gemeente_of_wijk)]
    per_batch = max(1, CHUNK_BYTES // max(per_wijk_bytes, 1))
    batches: list[list[tuple[int, int]]] = []
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        if not batches or hi - batches[-1][0][0] > per_batch:
            batches.append([])
        batches[-1].append((lo, hi))
    return batches


def _rank_wijken(model: Model, draws: np.ndarray, cfg: RankingConfig, gemeente_of_wijk: np.ndarray,
                 wijk_gap: np.ndarray, wijk_withheld: np.ndarray, city_gap: np.ndarray,
                 score: np.ndarray | None, error_sd: np.ndarray) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The per-wijk ranking rows (``rank_areas``, ``area_index`` = wijk row) and the city-wide gap
    per draw, (n, gemeenten, F), 0 where unknown (None with exact scores: ``score`` None).

    With drawn scores the gap draws of every wijk (``gap_draws``) are made gemeente by gemeente
    (the best quartile is the gemeente's) and ranked in batches of whole gemeenten, so that at
    national scale only one batch's draws (``CHUNK_BYTES``) is held, besides the city-wide means.
    The draws come from one stream in gemeente order, wijk by wijk, so they do not depend on the
    batches.
    """
    weights, all_factors = _weights(model, cfg), np.ones(len(model.factors), dtype=bool)
    if score is None:
        return rank_areas(model, draws, wijk_gap, weights, all_factors, cfg, wijk_withheld), None
    n, n_f = draws.shape[0], len(model.factors)
    rng = np.random.default_rng([cfg.seed, 1])  # a stream of its own: the effect draws stay as they were
    risk = (model.factors["factor_type"] == "risk").to_numpy()
    sd = np.nan_to_num(error_sd)
    city = np.empty((n, len(city_gap), n_f))
    parts, g_index = [], 0
    for batch in _gemeente_batches(gemeente_of_wijk, 8 * n * n_f):
        start, stop = batch[0][0], batch[-1][1]
        batch_draws = np.empty((n, stop - start, n_f))
        for lo, hi in batch:
            drawn = gap_draws(score[lo:hi], sd[lo:hi], risk, cfg.reference_quantile, n, rng, cfg.score_shrinkage)
            exact = ((sd[lo:hi] == 0) | ~np.isfinite(score[lo:hi])).all(axis=0)
            city[:, g_index] = mean_gap_draws(drawn, city_gap[g_index], exact)
            batch_draws[:, lo - start:hi - start] = np.nan_to_num(drawn)
            g_index += 1
        part = rank_areas(model, draws, wijk_gap[start:stop], weights, all_factors, cfg,
                          wijk_withheld[start:stop], batch_draws)
        parts.append(part.assign(area_index=part["area_index"] + start))
    return pd.concat(parts, ignore_index=True), np.nan_to_num(city)


def rank_scope(model: Model, draws: np.ndarray, gaps: np.ndarray, weights: np.ndarray,
               eligible: np.ndarray, config: RankingConfig) -> pd.DataFrame:
    """Rank the eligible factors with known gaps for one scope (one set of weights and gaps)."""
    return rank_areas(model, draws, np.asarray(gaps, dtype=float)[None, :], weights, eligible,
                      config).drop(columns="area_index")


def _weights(model: Model, config: RankingConfig, domain: str | None = None) -> np.ndarray:
    w = np.array([config.goal_weights.get(s, 1.0) for s in model.subgoals["subgoal_id"]], dtype=float)
    if domain is not None:
        w = w * (model.subgoals["domain_id"].to_numpy() == domain)
    return w / w.sum()


def _area_matrix(frame: pd.DataFrame, column: str, areas, factors) -> np.ndarray:
    """``column`` of a frame with one row per area_code and factor_id as an (areas, factors) float
    matrix; NaN where absent."""
    return (frame.set_index(["area_code", "factor_id"])[column].unstack("factor_id")
            .reindex(index=areas, columns=factors).to_numpy(dtype=float))


def _matrix(flags: pd.Series, rows, columns) -> np.ndarray:
    """A boolean (rows, columns) matrix from a series indexed by (row, column); False where absent."""
    return flags.astype(float).unstack().reindex(index=rows, columns=columns).fillna(0.0).to_numpy() > 0


PRIORITY_ORDER = [("rank_median", True), ("p_top5", False), ("impact", False), ("factor_id", True)]
"""How ``priority`` orders a scope's rankable factors: median rank, then the chance of the top 5,
then the impact (both descending), then the factor's code, so that every position is taken once."""


def priority(rows: pd.DataFrame) -> pd.Series:
    """Each rankable factor's place in its scope's list, 1, 2, 3, ... without ties or gaps (the
    order of ``PRIORITY_ORDER``); missing for factors that are not rankable. The median ranks
    themselves can tie or skip (factors tied in a draw share the mean of their places), so no
    factor need have rank_median 1; a table or chart that needs one order uses this."""
    ranked = rows[rows["rankable"].astype(bool)]
    by, ascending = zip(*PRIORITY_ORDER)
    ranked = ranked.sort_values(SCOPE_KEY + list(by), ascending=[True] * len(SCOPE_KEY) + list(ascending),
                                kind="stable")
    place = ranked.groupby(SCOPE_KEY, sort=False).cumcount() + 1
    return place.reindex(rows.index).astype("Int64")


def _reliabilities(score: np.ndarray, error_sd: np.ndarray, wijken: pd.DataFrame, fids: pd.Series) -> pd.Series:
    """``score_reliability`` of every gemeente's newest published wijk scores (``score``, ``error_sd``:
    (wijken, F) in the order of ``wijken``), indexed by gemeente_code and factor_id."""
    sd = np.nan_to_num(error_sd)
    gemeente = wijken["gemeente_code"].to_numpy()
    parts = {g: score_reliability(score[gemeente == g], sd[gemeente == g]) for g in np.unique(gemeente)}
    return pd.concat({g: pd.Series(v, index=fids.to_numpy()) for g, v in parts.items()},
                     names=["gemeente_code", "factor_id"])


def rank_factors(model: Model, scores: pd.DataFrame, life_phases: pd.DataFrame,
                 config: RankingConfig | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """City-wide rankings (gemeente, per domain, per life phase) and per-wijk rankings.

    ``scores``: as ``load_scores`` gives them (the published scores; see ``room_for_improvement``);
    ``life_phases``: factor_id, life_phase_id.
    Returns (``mart_factor_ranking`` rows, ``mart_factor_ranking_area`` rows) with ``RANKING_COLUMNS``:
    per gemeente (in code order) its scopes (gemeente, domains, life phases) factor by factor, and
    every wijk (gemeente by gemeente, in code order). All areas of a scope are ranked at once from
    the same draws (``rank_areas``).
    """
    cfg = config or RankingConfig()
    draws = _draws(model, cfg)
    gaps = room_for_improvement(scores, model.factors, cfg.reference_quantile)
    newest = newest_scores(scores, model.factors)
    fids = model.factors["factor_id"]
    all_factors = np.ones(len(fids), dtype=bool)
    gemeenten = sorted(gaps["gemeente_code"].unique())
    if not gemeenten:
        empty = pd.DataFrame(columns=RANKING_COLUMNS)
        return empty, empty.copy()
    # city-wide gap: the mean gap of the gemeente's wijken (pandas' groupby mean, as per gemeente)
    by_gemeente = gaps.groupby(["gemeente_code", "factor_id"])
    city_gap = (by_gemeente["gap"].mean().unstack("factor_id")
                .reindex(index=gemeenten, columns=fids).to_numpy(dtype=float))
    city_withheld = _matrix(by_gemeente["withheld"].all(), gemeenten, fids)  # every wijk's score withheld
    wijken = gaps[["gemeente_code", "area_code"]].drop_duplicates().sort_values(["gemeente_code", "area_code"])
    wijk_gap = _area_matrix(gaps, "gap", wijken["area_code"], fids)
    wijk_withheld = _matrix(gaps.set_index(["area_code", "factor_id"])["withheld"], wijken["area_code"], fids)
    error_sd = np.sqrt(_area_matrix(newest, "error_var", wijken["area_code"], fids))
    wijk_score = _area_matrix(newest, "score", wijken["area_code"], fids)
    # with exact scores (error_var 0 or absent) the drawn gaps are the point gaps to the bit
    areas, city_draws = _rank_wijken(
        model, draws, cfg, wijken["gemeente_code"].to_numpy(), wijk_gap, wijk_withheld, city_gap,
        wijk_score if cfg.score_error else None, error_sd)
    scopes = [("gemeente", None, _weights(model, cfg), all_factors)]
    scopes += [("domain", d, _weights(model, cfg, d), all_factors) for d in sorted(model.subgoals["domain_id"].unique())]
    for phase, members in life_phases.groupby("life_phase_id"):
        scopes.append(("life_phase", phase, _weights(model, cfg), fids.isin(members["factor_id"]).to_numpy()))
    city = []
    for order, (scope_type, scope_id, w, eligible) in enumerate(scopes):
        part = rank_areas(model, draws, city_gap, w, eligible, cfg, city_withheld, city_draws)
        area = np.asarray(gemeenten, dtype=object)[part["area_index"].to_numpy()]
        city.append(part.assign(scope_type=scope_type, scope_id=area if scope_id is None else scope_id,
                                area_code=area, _scope=order))
    codes = wijken["area_code"].to_numpy(dtype=object)[areas["area_index"].to_numpy()]
    areas = areas.assign(scope_type="wijk", scope_id=codes, area_code=codes)
    city_df = (pd.concat(city, ignore_index=True).sort_values(["area_index", "_scope"], kind="stable")
               if city else pd.DataFrame(columns=RANKING_COLUMNS))
    # the year of the scores behind the room for improvement: each factor's newest in the gemeente
    # (a factor of the youth survey, held in odd years, is a year older than one of the registrations)
    score_year = newest.groupby(["gemeente_code", "factor_id"])["year"].max()
    reliability = (_reliabilities(wijk_score, error_sd, wijken, fids) if cfg.score_error and cfg.score_shrinkage
                   else pd.Series(dtype=float, index=pd.MultiIndex.from_arrays([[], []])))
    out = []
    for df in (city_df, areas):
        df = df.reset_index(drop=True)
        key = pd.MultiIndex.from_arrays(["GM" + df["area_code"].astype(str).str[2:6], df["factor_id"]])
        df["score_year"] = pd.Series(score_year.reindex(key).to_numpy(), index=df.index).astype("Int64")
        df["priority"] = priority(df)
        df["explanation"] = df["explanation"] + noisy_scores_sentence(df, reliability) + rank_sentence(df)
        df["note"], df["n_draws"], df["method_version"] = NOTE, cfg.n_draws, METHOD_VERSION
        out.append(df[RANKING_COLUMNS])
    return out[0], out[1]
