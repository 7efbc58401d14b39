"""REFERENCE (tests only): models_ml/ranking.py at ranking-1.0.0 before the vectorised ranking
(commit 91b59c6), the per-wijk loop with one explanation call per factor. The reference of the
ranking's numbers in tests/ml/test_ranking_equivalence.py; the pipeline does not use it. Changed
since, as the method changed (ranking-1.2.0), each in its own plain way: factors with equal
impact in a draw share the mean of their ranks (``scipy.stats.rankdata``, impacts equal to 12
decimals), so do factors with equal room in ``rank_by_room_for_improvement``, the rank interval's
bounds are order statistics (numpy's quantile methods 'lower' and 'higher'), and ``direct_share``
is the direct part of the absolute contributions; since ranking-1.6.0 a factor without any effect
on a sub-goal of the scope (no merged effect it reaches over the chain links, ``_reaches``) is
listed but not ranked, without a room for improvement. Its
explanations are those of ranking-1.0.0 and are no longer compared.

Rank factors by their impact on the goals, with uncertainty, city-wide and per wijk.

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
  deviations of the area scores, newest year. City-wide: the mean gap of the wijken.
- ``orientation_j`` is +1 for a risk factor (less of it is better) and -1 for a protective one
  (more of it is better), so that impact is positive when closing the gap helps.

**Uncertainty** is propagated by Monte Carlo: each draw takes every merged effect from
``N(d, se^2)`` and every chain strength from ``N(b, se_b^2)``, recomputes all impacts and ranks
them; a factor gets its median impact and rank, the 90% intervals (5th-95th percentiles) and the
probability of being in the top 5. A factor without local scores has no known room for
improvement and is not ranked (``rankable = false``), with an explanation.

The ranking is not a ranking by prevalence: ``rank_by_room_for_improvement`` shows that ranking
beside it; a factor with much room but weak effects ranks lower than one with less room and
strong effects. The effects are the merged local (ecological) and literature estimates: they are
associations, not proven causal effects, and the ranking says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata
import pandas as pd

METHOD_VERSION = "ranking-1.0.0"
CAVEAT = ("Gebaseerd op samenhangen (lokaal op wijkniveau en uit de literatuur), niet op bewezen "
          "oorzakelijke effecten.")

RANKING_COLUMNS = [
    "scope_type", "scope_id", "area_code", "factor_id", "factor_type", "rankable", "impact",
    "impact_ci90_lower", "impact_ci90_upper", "rank_median", "rank_ci90_lower", "rank_ci90_upper",
    "p_top5", "room_for_improvement", "rank_by_room_for_improvement", "direct_share", "explanation",
    "n_draws", "method_version",
]


@dataclass(frozen=True)
class RankingConfig:
    """n_draws: Monte Carlo draws; goal_weights: sub-goal -> weight (missing: 1); reference_quantile:
    the best quartile (0.25) of comparable areas; top_k: for p_top; seed: of the draws."""

    n_draws: int = 1000
    seed: int = 20150101
    reference_quantile: float = 0.25
    top_k: int = 5
    goal_weights: dict[str, float] = field(default_factory=dict)


@dataclass
class Model:
    """The factor model in matrix form for one ranking run."""

    factors: pd.DataFrame  # factor_id, factor_type, name_nl (index order = matrix order)
    subgoals: pd.DataFrame  # subgoal_id, domain_id, name_nl
    d_mean: np.ndarray  # (S, F) merged effects
    d_se: np.ndarray
    b_mean: np.ndarray  # (F, F): B[to, from]
    b_se: np.ndarray

    @property
    def orientation(self) -> np.ndarray:
        return np.where(self.factors["factor_type"].to_numpy() == "risk", 1.0, -1.0)


def build_model(factors: pd.DataFrame, subgoals: pd.DataFrame, merged: pd.DataFrame,
                chains: pd.DataFrame) -> Model:
    """Matrices of merged effects (sub-goal x factor) and chain strengths (factor x factor)."""
    factors = factors.sort_values("factor_id").reset_index(drop=True)
    subgoals = subgoals.sort_values("subgoal_id").reset_index(drop=True)
    f_idx = {f: i for i, f in enumerate(factors["factor_id"])}
    s_idx = {s: i for i, s in enumerate(subgoals["subgoal_id"])}
    d_mean = np.zeros((len(subgoals), len(factors)))
    d_se = np.zeros_like(d_mean)
    for row in merged.dropna(subset=["d_merged"]).itertuples(index=False):
        if row.factor_id in f_idx and row.subgoal_id in s_idx:
            d_mean[s_idx[row.subgoal_id], f_idx[row.factor_id]] = row.d_merged
            d_se[s_idx[row.subgoal_id], f_idx[row.factor_id]] = row.se_merged
    b_mean = np.zeros((len(factors), len(factors)))
    b_se = np.zeros_like(b_mean)
    for row in chains.itertuples(index=False):
        if row.from_factor_id in f_idx and row.to_factor_id in f_idx:
            b_mean[f_idx[row.to_factor_id], f_idx[row.from_factor_id]] = row.coefficient
            b_se[f_idx[row.to_factor_id], f_idx[row.from_factor_id]] = row.std_error
    return Model(factors, subgoals, d_mean, d_se, b_mean, b_se)


def total_effects(d: np.ndarray, b: np.ndarray) -> np.ndarray:
    """T = D (I - B)^-1, for one (S, F) / (F, F) pair or a stack of draws (n, S, F) / (n, F, F)."""
    eye = np.eye(b.shape[-1])
    return d @ np.linalg.inv(eye - b)


def room_for_improvement(scores: pd.DataFrame, factors: pd.DataFrame, quantile: float = 0.25) -> pd.DataFrame:
    """Gap of every wijk to the best quartile of the gemeente's wijken, per factor, newest year.

    Returns area_code, gemeente_code, factor_id, gap (>= 0). Scores are oriented: higher = more of
    the factor, so the best areas of a risk factor have the lowest scores.
    """
    s = scores[scores["area_level"] == "wijk"]
    newest = s.groupby("factor_id")["year"].transform("max")
    s = s[s["year"] == newest].drop(columns=["factor_type"], errors="ignore").merge(
        factors[["factor_id", "factor_type"]], on="factor_id")
    s = s.assign(gemeente_code="GM" + s["area_code"].str[2:6])
    group = s.groupby(["gemeente_code", "factor_id"])["score"]
    low, high = group.transform(lambda x: x.quantile(quantile)), group.transform(lambda x: x.quantile(1 - quantile))
    risk = s["factor_type"] == "risk"
    s["gap"] = np.where(risk, np.maximum(0.0, s["score"] - low), np.maximum(0.0, high - s["score"]))
    return s[["area_code", "gemeente_code", "factor_id", "gap"]].reset_index(drop=True)


def _draws(model: Model, config: RankingConfig) -> np.ndarray:
    """Total effects per draw: (n_draws, S, F)."""
    rng = np.random.default_rng(config.seed)
    n = config.n_draws
    d = model.d_mean + model.d_se * rng.standard_normal((n, *model.d_mean.shape))
    b = model.b_mean + model.b_se * rng.standard_normal((n, *model.b_mean.shape))
    b = np.where(model.b_mean == 0, 0.0, b)  # only existing links carry strength
    return total_effects(d, b)


def _explain(model: Model, j: int, weights: np.ndarray, gap: float, t_point: np.ndarray,
             m_point: np.ndarray, rankable: bool) -> tuple[str, float]:
    """A sentence a policy adviser can read: which sub-goals and chains carry the factor's impact."""
    name = model.factors.loc[j, "name_nl"]
    if not rankable:
        return (f"{name}: niet gerangschikt, want er zijn geen lokale gegevens over hoe vaak deze factor "
                f"voorkomt (ruimte voor verbetering onbekend). {CAVEAT}"), float("nan")
    orient = model.orientation[j]
    per_goal = weights * t_point[:, j] * orient * gap
    total = per_goal.sum()
    contributions = [abs(weights[s] * model.d_mean[s, k] * m_point[k, j])
                     for s in range(len(weights)) for k in range(len(model.factors))]
    direct = sum(abs(weights[s] * model.d_mean[s, j]) for s in range(len(weights)))
    direct_share = float(direct / sum(contributions)) if sum(contributions) > 0 else float("nan")
    if total <= 0 or gap <= 0:
        reason = "geen ruimte voor verbetering in dit gebied" if gap <= 0 else "geen schadelijke samenhang gevonden"
        return f"{name}: weinig te winnen ({reason}). {CAVEAT}", direct_share
    top = np.argsort(-per_goal)[:3]
    goals = ", ".join(
        f"{model.subgoals.loc[s, 'name_nl']} ({100 * per_goal[s] / total:.0f}%)" for s in top if per_goal[s] > 0
    )
    text = f"{name}: de winst loopt vooral via {goals}."
    # the strongest chain: the downstream factor that carries most of the indirect part
    indirect = {}
    for k in range(len(model.factors)):
        if k != j and abs(m_point[k, j]) > 1e-9:
            indirect[k] = (weights * model.d_mean[:, k]).sum() * m_point[k, j] * orient * gap
    if indirect:
        k = max(indirect, key=lambda k: indirect[k])
        if indirect[k] > 0.05 * total:
            text += (f" Via de keten naar {model.factors.loc[k, 'name_nl']} komt daar "
                     f"{100 * indirect[k] / total:.0f}% bij.")
    return f"{text} {CAVEAT}", direct_share


def _reaches(model: Model, weights: np.ndarray) -> np.ndarray:
    """Per factor: does any path of chain links (none: the factor itself) lead to a factor with a
    merged effect (a value or an uncertainty) on a sub-goal of positive weight?"""
    n = len(model.factors)
    has_effect = [any(weights[s] != 0 and (model.d_mean[s, k] != 0 or model.d_se[s, k] > 0)
                      for s in range(len(weights))) for k in range(n)]
    found = []
    for j in range(n):
        seen, todo = {j}, [j]
        while todo:
            f = todo.pop()
            for k in range(n):
                if model.b_mean[k, f] != 0 and k not in seen:
                    seen.add(k)
                    todo.append(k)
        found.append(any(has_effect[k] for k in seen))
    return np.array(found)


def rank_scope(model: Model, draws: np.ndarray, gaps: np.ndarray, weights: np.ndarray,
               eligible: np.ndarray, config: RankingConfig) -> pd.DataFrame:
    """Rank the eligible factors with known gaps for one scope (one set of weights and gaps)."""
    rankable = eligible & np.isfinite(gaps) & _reaches(model, weights)
    g = np.where(np.isfinite(gaps), gaps, 0.0)
    # impact per draw: (n, F) = sum_s w_s T[n, s, j] * orientation_j * gap_j
    impact = np.einsum("s,nsf->nf", weights, draws) * model.orientation * g
    idx = np.flatnonzero(rankable)
    ranks = np.full(impact.shape, np.nan)
    if len(idx):
        ranks[:, idx] = rankdata(-np.round(impact[:, idx], 12), method="average", axis=1)
    room_rank = pd.Series(np.where(rankable, g, np.nan)).rank(ascending=False, method="average")
    m_point = np.linalg.inv(np.eye(len(model.factors)) - model.b_mean)
    t_point = model.d_mean @ m_point
    rows = []
    for j in range(len(model.factors)):
        if not eligible[j]:
            continue
        explanation, direct_share = _explain(model, j, weights, g[j], t_point, m_point, bool(rankable[j]))
        ok = bool(rankable[j])
        rows.append({
            "factor_id": model.factors.loc[j, "factor_id"],
            "factor_type": model.factors.loc[j, "factor_type"],
            "rankable": ok,
            "impact": float(np.median(impact[:, j])) if ok else None,
            "impact_ci90_lower": float(np.quantile(impact[:, j], 0.05)) if ok else None,
            "impact_ci90_upper": float(np.quantile(impact[:, j], 0.95)) if ok else None,
            "rank_median": float(np.median(ranks[:, j])) if ok else None,
            "rank_ci90_lower": float(np.quantile(ranks[:, j], 0.05, method="lower")) if ok else None,
            "rank_ci90_upper": float(np.quantile(ranks[:, j], 0.95, method="higher")) if ok else None,
            "p_top5": float(np.mean(ranks[:, j] <= config.top_k)) if ok else None,
            "room_for_improvement": float(gaps[j]) if ok else None,
            "rank_by_room_for_improvement": float(room_rank[j]) if ok else None,
            "direct_share": direct_share if ok else None,
            "explanation": explanation,
        })
    return pd.DataFrame(rows)


def _weights(model: Model, config: RankingConfig, domain: str | None = None) -> np.ndarray:
    w = np.array([config.goal_weights.get(s, 1.0) for s in model.subgoals["subgoal_id"]], dtype=float)
    if domain is not None:
        w = w * (model.subgoals["domain_id"].to_numpy() == domain)
    return w / w.sum()


def rank_factors(model: Model, scores: pd.DataFrame, life_phases: pd.DataFrame,
                 config: RankingConfig | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """City-wide rankings (gemeente, per domain, per life phase) and per-wijk rankings.

    ``scores``: intermediate.int_factor_score; ``life_phases``: factor_id, life_phase_id.
    Returns (``mart_factor_ranking`` rows, ``mart_factor_ranking_area`` rows) with ``RANKING_COLUMNS``.
    """
    cfg = config or RankingConfig()
    draws = _draws(model, cfg)
    gaps = room_for_improvement(scores, model.factors, cfg.reference_quantile)
    fids = model.factors["factor_id"]
    all_factors = np.ones(len(fids), dtype=bool)
    city, areas = [], []
    for gemeente, per in gaps.groupby("gemeente_code"):
        city_gap = per.groupby("factor_id")["gap"].mean().reindex(fids).to_numpy()
        scopes = [("gemeente", gemeente, _weights(model, cfg), all_factors)]
        scopes += [("domain", d, _weights(model, cfg, d), all_factors)
                   for d in sorted(model.subgoals["domain_id"].unique())]
        for phase, members in life_phases.groupby("life_phase_id"):
            scopes.append(("life_phase", phase, _weights(model, cfg), fids.isin(members["factor_id"]).to_numpy()))
        for scope_type, scope_id, w, eligible in scopes:
            city.append(rank_scope(model, draws, city_gap, w, eligible, cfg).assign(
                scope_type=scope_type, scope_id=scope_id, area_code=gemeente))
        for wijk, own in per.groupby("area_code"):
            wijk_gap = own.set_index("factor_id")["gap"].reindex(fids).to_numpy()
            areas.append(rank_scope(model, draws, wijk_gap, _weights(model, cfg), all_factors, cfg).assign(
                scope_type="wijk", scope_id=wijk, area_code=wijk))
    out = []
    for parts in (city, areas):
        df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RANKING_COLUMNS)
        df["n_draws"], df["method_version"] = cfg.n_draws, METHOD_VERSION
        out.append(df[RANKING_COLUMNS])
    return out[0], out[1]
