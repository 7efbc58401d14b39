"""The ranking's factor model in matrix form, and what its impacts rest on.

``build_model`` puts the merged effects (Cohen's d, sub-goal x factor: ``D``) and the chain strengths
(factor x factor: ``B``) in matrices (``Model``), with the covariances of the estimates that the draws
carry (``covariance_blocks``) and the direction the factor model gives each chain link
(``link_directions``). The chains: ``chain_multipliers`` are the paths through them per sub-goal
(``M_s``; a literature effect, a total effect already, is not continued through them),
``total_effects`` the effects with the paths (``T[s] = D[s] M_s``), ``linked_factors`` the factors
with any effect on a scope's sub-goals, and ``path_shares`` the part of an impact that runs through
each chain (``direct_share``: the direct part).

**What the impact rests on** (``evidence_local``, ``evidence_literature``, ``evidence_placeholder``,
``evidence_shares``): each merged effect's point value is split into its local part and its
literature part (the pooling weights, ``evidence_parts``), the literature part counting as
placeholder when the literature row is an illustrative placeholder; a factor's shares are those
parts' absolute contributions to its impact (direct and through chains; a path through a chain
link whose strength is the prior of ``chains`` counts as placeholder). Local data that point the
other way from the merged effect of their pair, against the literature that outweighs them
(``local_against``; ``fct_effect_merged`` flags clear conflicts, ``sources_conflict``), are no
support: they are left out of the shares and named separately (since ranking-1.6.0). The
explanation says so, marks the sub-goals whose part rests on literature only, and warns when half
or more rests on placeholders (``ranking_text``).

Numbers only: ``ranking`` draws and ranks with this model, ``ranking_text`` puts it into words;
nothing here reads the warehouse or writes a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EVIDENCE = ("local", "literature", "placeholder")
"""The sources a merged effect's point value rests on (``Model.evidence``; ``evidence_*`` columns)."""


@dataclass
class Model:
    """The factor model in matrix form for one ranking run."""

    factors: pd.DataFrame  # factor_id, factor_type, name_nl (index order = matrix order)
    subgoals: pd.DataFrame  # subgoal_id, domain_id, name_nl
    d_mean: np.ndarray  # (S, F) merged effects
    d_se: np.ndarray
    b_mean: np.ndarray  # (F, F): B[to, from]
    b_se: np.ndarray
    evidence: np.ndarray | None = None  # (3, S, F): d_mean split by EVIDENCE (sums to d_mean)
    b_assumed: np.ndarray | None = None  # (F, F) bool: chain links whose strength is an assumption (prior)
    direct_part: np.ndarray | None = None  # (S, F): the part of d_mean that is a direct effect (see chain_multipliers)
    d_cov: np.ndarray | None = None  # (S, F, F): per sub-goal the covariance of its effects (diagonal d_se^2)
    b_cov: np.ndarray | None = None  # (F, F, F): per downstream factor the covariance of its links' strengths
    b_direction: np.ndarray | None = None  # (F, F): the factor model's direction of each chain link, +1 / -1 (0: no link)

    @property
    def orientation(self) -> np.ndarray:
        return np.where(self.factors["factor_type"].to_numpy() == "risk", 1.0, -1.0)


def build_model(factors: pd.DataFrame, subgoals: pd.DataFrame, merged: pd.DataFrame,
                chains: pd.DataFrame, merged_cov: pd.DataFrame | None = None,
                chain_cov: pd.DataFrame | None = None) -> Model:
    """Matrices of merged effects (sub-goal x factor) and chain strengths (factor x factor).

    ``merged_cov`` (``merge.merged_covariance``: subgoal_id, factor_a, factor_b, covariance) and
    ``chain_cov`` (``chains.joint_covariance``: to_factor_id, factor_a, factor_b, covariance): the
    covariances of effects that come from one joint regression, which the draws then carry
    (``Model.d_cov``, ``Model.b_cov``; ``covariance_blocks``). Without them every effect is drawn
    independently (ranking-1.5.0 and before)."""
    factors = factors.sort_values("factor_id").reset_index(drop=True)
    subgoals = subgoals.sort_values("subgoal_id").reset_index(drop=True)
    f_idx = {f: i for i, f in enumerate(factors["factor_id"])}
    s_idx = {s: i for i, s in enumerate(subgoals["subgoal_id"])}
    d_mean = np.zeros((len(subgoals), len(factors)))
    d_se = np.zeros_like(d_mean)
    known = merged.dropna(subset=["d_merged"])
    known = known[known["factor_id"].isin(list(f_idx)) & known["subgoal_id"].isin(list(s_idx))]
    for row in known.itertuples(index=False):
        d_mean[s_idx[row.subgoal_id], f_idx[row.factor_id]] = row.d_merged
        d_se[s_idx[row.subgoal_id], f_idx[row.factor_id]] = row.se_merged
    direct_part = None
    if "local_share" in merged.columns:
        # local estimates hold the co-linked factors fixed (direct effects); literature figures are
        # total effects (see chain_multipliers): the local share of a pair is its direct part
        direct_part = np.ones_like(d_mean)
        direct_part[[s_idx[s] for s in known["subgoal_id"]], [f_idx[f] for f in known["factor_id"]]] = (
            known["local_share"].fillna(1.0).to_numpy(dtype=float))
    evidence = None
    if {"d_local", "d_literature", "local_share", "literature_is_placeholder"} <= set(merged.columns):
        evidence = np.zeros((len(EVIDENCE), *d_mean.shape))
        rows = [s_idx[s] for s in known["subgoal_id"]], [f_idx[f] for f in known["factor_id"]]
        for e, part in enumerate(evidence_parts(known)):
            evidence[e][rows] = part
    b_mean = np.zeros((len(factors), len(factors)))
    b_se = np.zeros_like(b_mean)
    b_assumed = np.zeros(b_mean.shape, dtype=bool) if "source" in chains.columns else None
    for row in chains.itertuples(index=False):
        if row.from_factor_id in f_idx and row.to_factor_id in f_idx:
            b_mean[f_idx[row.to_factor_id], f_idx[row.from_factor_id]] = row.coefficient
            b_se[f_idx[row.to_factor_id], f_idx[row.from_factor_id]] = row.std_error
            if b_assumed is not None:
                b_assumed[f_idx[row.to_factor_id], f_idx[row.from_factor_id]] = row.source == "prior"
    d_cov = covariance_blocks(d_se, merged_cov, "subgoal_id", s_idx, f_idx)
    b_cov = covariance_blocks(b_se, chain_cov, "to_factor_id", f_idx, f_idx)
    return Model(factors, subgoals, d_mean, d_se, b_mean, b_se, evidence, b_assumed, direct_part, d_cov, b_cov,
                 link_directions(chains, f_idx))


def covariance_blocks(se: np.ndarray, cov: pd.DataFrame | None, row: str, row_idx: dict[str, int],
                      col_idx: dict[str, int]) -> np.ndarray | None:
    """(R, C, C): per row of ``se`` (a sub-goal of D, a downstream factor of B) the covariance of its
    effects: ``se[r]^2`` on the diagonal, ``cov``'s ``covariance`` of (``factor_a``, ``factor_b``) off
    it (both ways). Rows without an off-diagonal entry are diagonal; None when ``cov`` has no entry
    for the model's rows and columns (then the draws are independent)."""
    if cov is None or cov.empty:
        return None
    keep = cov[cov[row].isin(list(row_idx)) & cov["factor_a"].isin(list(col_idx)) & cov["factor_b"].isin(list(col_idx))]
    if keep.empty:
        return None
    out = np.zeros((*se.shape, se.shape[1]))
    r = keep[row].map(row_idx).to_numpy()
    a, b = keep["factor_a"].map(col_idx).to_numpy(), keep["factor_b"].map(col_idx).to_numpy()
    value = keep["covariance"].to_numpy(dtype=float)
    out[r, a, b] = value
    out[r, b, a] = value
    diag = np.arange(se.shape[1])
    out[:, diag, diag] = se**2
    return out


def link_directions(chains: pd.DataFrame, f_idx: dict[str, int]) -> np.ndarray | None:
    """(F, F): ``[to, from]`` +1 where the factor model says the chain link increases the downstream
    factor, -1 where it decreases it (``effect_direction``), 0 without a link; None when ``chains``
    has no ``effect_direction`` (the explanation then takes the direction the factor types imply)."""
    if "effect_direction" not in chains.columns:
        return None
    out = np.zeros((len(f_idx), len(f_idx)))
    for row in chains.itertuples(index=False):
        if row.from_factor_id in f_idx and row.to_factor_id in f_idx:
            sign = 1.0 if row.effect_direction == "increases" else -1.0
            out[f_idx[row.to_factor_id], f_idx[row.from_factor_id]] = sign
    return out


def evidence_parts(merged: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The merged effects' point values ``d_merged`` split by source: local, cited literature,
    placeholder literature (the three add up to ``d_merged``).

    The normal-normal posterior mean is ``local_share * d_local + (1 - local_share) * d_literature``
    (``merge.pool``: each source weighted by its share of the precision), so the local part is
    ``local_share * d_local`` and the literature part the rest, which counts as placeholder when
    the literature row is a placeholder.
    """
    share = merged["local_share"].to_numpy(dtype=float)  # absent source: its estimate is NaN, its share 0
    local = share * np.nan_to_num(merged["d_local"].to_numpy(dtype=float))
    literature = (1 - share) * np.nan_to_num(merged["d_literature"].to_numpy(dtype=float))
    placeholder = merged["literature_is_placeholder"].fillna(False).to_numpy(dtype=bool)
    return local, np.where(placeholder, 0.0, literature), np.where(placeholder, literature, 0.0)


def local_against(model: Model) -> np.ndarray:
    """(S, F) bool: the pairs whose local part points the other way from their merged effect: the
    literature outweighs local data of the opposite sign (``fct_effect_merged.conflict_z`` says how
    clearly they differ). Such local data pull the merged effect towards 0: they are no support
    for it (``evidence_by_goal``). Where the local data outweigh a literature figure of the
    opposite sign (in the demo mostly placeholders of +-0.2), the merged effect has their sign and
    they are its support. All False without evidence."""
    if model.evidence is None:
        return np.zeros(model.d_mean.shape, dtype=bool)
    return model.evidence[EVIDENCE.index("local")] * model.d_mean < 0


def evidence_by_goal(model: Model, weights: np.ndarray, m_point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What each sub-goal's part of every factor's impact rests on: ((3, S, F), (S, F)).

    The impact of factor j is a sum of contributions ``w_s D[s, k] M_s[k, j]`` over sub-goals s and
    factors k (k = j: direct; otherwise through the chain to k), ``M_s`` from ``chain_multipliers``
    (``m_point``, (S, F, F)). Each contribution is split like ``D[s, k]`` (``evidence_parts``); the
    first array holds, per source of ``EVIDENCE``, sub-goal s and factor j, the sum of the absolute
    values of that source's parts of the contributions to sub-goal s, so that contributions of
    opposite sign do not hide one another. Chains whose strength is an assumption (``b_assumed``:
    links without local data keep the prior strength of ``chains``) count as placeholder: ``M_s``
    splits into the paths over estimated links only, ``M_est`` (the same multipliers without the
    assumed links), and the paths with at least one assumed link, ``M_s - M_est``, whose
    contributions are placeholder whatever their ``D[s, k]`` rests on. The local part of a pair
    whose local estimate points the other way from the merged effect, against the literature that
    outweighs it (``local_against``), is not support: it is left out of the first array and summed
    in the second (since ranking-1.6.0;
    before, its absolute value counted as local support: ``vroeg_alcoholgebruik`` read "13% lokale
    gegevens" in the demo where its local estimate, d -0.53 against the literature's +0.73, pulled
    the merged effect the other way). NaN without evidence (a model built without the merge's columns).
    """
    shape = (len(EVIDENCE), *model.d_mean.shape)
    if model.evidence is None:
        return np.full(shape, np.nan), np.full(model.d_mean.shape, np.nan)
    m_est = estimated_chain_multiplier(model, m_point)
    against = local_against(model)
    parts = model.evidence.copy()
    local = EVIDENCE.index("local")
    parts[local] = np.where(against, 0.0, parts[local])
    size = np.stack([_through_goal(weights, part, m_est) for part in parts])  # (3, S, F)
    size[EVIDENCE.index("placeholder")] += _through_goal(weights, model.d_mean, m_point - m_est)
    return size, _through_goal(weights, np.where(against, model.evidence[local], 0.0), m_est)


def evidence_shares(model: Model, weights: np.ndarray, m_point: np.ndarray) -> np.ndarray:
    """(3, F): per factor, the share of its impact's support that rests on each source of ``EVIDENCE``
    (``evidence_by_goal`` summed over the sub-goals, as shares of their sum; local data that point
    the other way from the literature are not counted: ``local_against_share``). The room for
    improvement multiplies every contribution alike and drops out. NaN without evidence (a model
    built without the merge's columns) or without any effect.
    """
    size = evidence_by_goal(model, weights, m_point)[0].sum(axis=1)  # (3, F)
    total = size.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, size / total, np.nan)


def outweighing_sources(model: Model, weights: np.ndarray, m_point: np.ndarray) -> np.ndarray:
    """(2, S, F): what outweighs the local data that point the other way (``local_against``): per
    sub-goal s and factor j, the literature (``[0]``) and the placeholder (``[1]``) parts of those
    pairs' merged effects, summed through the sub-goal as ``evidence_by_goal`` sums the support; 0
    where no local data point the other way, NaN without evidence. So that a text does not call a
    placeholder "the literature"."""
    if model.evidence is None:
        return np.full((2, *model.d_mean.shape), np.nan)
    m_est = estimated_chain_multiplier(model, m_point)
    against = local_against(model)
    return np.stack([_through_goal(weights, np.where(against, model.evidence[EVIDENCE.index(source)], 0.0), m_est)
                     for source in ("literature", "placeholder")])


def local_against_share(model: Model, weights: np.ndarray, m_point: np.ndarray) -> np.ndarray:
    """(S, F): per sub-goal, the absolute contributions of local data that point the other way from
    the literature (``evidence_by_goal``), as a share of the factor's support (the sum of
    ``evidence_shares``' sizes over all sub-goals); NaN without evidence or support."""
    size, against = evidence_by_goal(model, weights, m_point)
    total = size.sum(axis=(0, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, against / total, np.nan)


def chain_multiplier(b: np.ndarray) -> np.ndarray:
    """M = (I - B)^-1 for one (F, F) B or a stack (n, F, F).

    The chain graph is acyclic, so M = I + B + B^2 + ... ends after its longest path; summed that
    way (Horner), a factor that does not reach another gets an exact 0, where the matrix inverse
    leaves +-1e-17 that would order factors without any effect by floating-point noise (their
    exact ties are ranked as ties, ``ranking.rank_areas``). A cyclic B (not a valid factor model) falls
    back to the inverse.
    """
    n_f = b.shape[-1]
    eye = np.eye(n_f)
    reach = np.any(b != 0, axis=tuple(range(b.ndim - 2))) if b.ndim > 2 else b != 0
    power, depth = reach.copy(), 0
    while power.any() and depth < n_f:
        power = (power.astype(int) @ reach.astype(int)) > 0
        depth += 1
    if power.any():
        return np.linalg.inv(eye - b)
    m = eye + b
    for _ in range(depth):
        m = eye + b @ m
    return m


def chain_multipliers(b: np.ndarray, direct_part: np.ndarray | None, n_subgoals: int) -> np.ndarray:
    """Per sub-goal s the paths through the chains, ``M_s = (I - B diag(direct_part[s]))^-1``:
    (..., S, F, F) for one (F, F) B or a stack (n, F, F).

    A local estimate of a factor's effect on a sub-goal holds the factor's co-linked factors fixed,
    so it is a *direct* effect, and the paths through the chains (``B``) add to it. A literature
    figure is a *total* effect: an association of the factor alone (an odds ratio of the
    exposure), which already contains what runs through the other factors; adding the chains to it
    would count those paths twice (the literature's README: overlapping factors double-count).
    So a path continues from factor j towards sub-goal s only in proportion to the direct part of
    j's effect on s: its local share after the merge (``local_share``: 1 for a local-only pair, 0
    for a literature-only one), and 1 where j has no effect of its own on s (the chain is then the
    only route). ``T[s] = D[s] M_s`` is the total effect. Without literature every direct part is 1
    and ``M_s = (I - B)^-1`` for every s (ranking-1.3.0 and before used that everywhere).
    """
    if direct_part is None or np.all(direct_part == 1.0):
        m = chain_multiplier(b)
        return np.broadcast_to(m[..., None, :, :], (*m.shape[:-2], n_subgoals, *m.shape[-2:]))
    return chain_multiplier(b[..., None, :, :] * direct_part[:, None, :])


def linked_factors(model: Model, weights: np.ndarray) -> np.ndarray:
    """(F,) bool: the factors with any effect, direct or through the chains, on a sub-goal of
    positive weight, whose impact can differ from 0 in some draw (a merged effect with a value or
    an uncertainty, reached over links of the chains). The others are not ranked in that scope
    (since ranking-1.6.0: before, a domain ranking ranked them at an impact of exactly 0, shared
    ranks and all, above linked factors whose impact was below 0)."""
    has_effect = ((model.d_mean != 0) | (model.d_se > 0)).astype(float)  # (S, F)
    paths = chain_multiplier((model.b_mean != 0).astype(float))  # path counts, no cancellation
    return (np.abs(weights) @ has_effect @ paths) > 0


def assumed_link_signs(model: Model) -> np.ndarray:
    """(F, F): the sign the factor model gives each chain link (``b_direction``), 0 without a link;
    where the model carries no directions, the one the factor types imply (a link between factors
    of the same type increases, between a risk and a protective factor decreases: the rule every
    link of the seed follows)."""
    if model.b_direction is not None:
        return np.where(model.b_mean != 0, model.b_direction, 0.0)
    orient = model.orientation
    return np.where(model.b_mean != 0, orient[:, None] * orient[None, :], 0.0)


def point_chain_multipliers(model: Model) -> np.ndarray:
    """``chain_multipliers`` of the point chain strengths: (S, F, F)."""
    return chain_multipliers(model.b_mean, model.direct_part, len(model.subgoals))


def estimated_chain_multiplier(model: Model, m_point: np.ndarray) -> np.ndarray:
    """``chain_multipliers`` over chain links with local data only (links whose strength is the
    chains' prior, ``b_assumed``, left out); ``m_point`` when none is assumed."""
    if model.b_assumed is None or not model.b_assumed.any():
        return m_point
    return chain_multipliers(np.where(model.b_assumed, 0.0, model.b_mean), model.direct_part, len(model.subgoals))


def total_effects(d: np.ndarray, b: np.ndarray, direct_part: np.ndarray | None = None) -> np.ndarray:
    """T[s] = D[s] M_s (``chain_multipliers``), for one (S, F) / (F, F) pair or a stack of draws
    (n, S, F) / (n, F, F); without ``direct_part`` (every effect direct) T = D (I - B)^-1."""
    if direct_part is None or np.all(direct_part == 1.0):
        return d @ chain_multiplier(b)
    return np.einsum("...sk,...skj->...sj", d, chain_multipliers(b, direct_part, d.shape[-2]))


def _abs_contributions(weights: np.ndarray, d: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(S, F, F): ``[s, k, j]`` the absolute contribution ``|w_s D[s, k] M_s[k, j]|`` to factor j's
    impact at sub-goal s through factor k (k = j: direct)."""
    return np.einsum("s,sk,skj->skj", np.abs(weights), np.abs(d), np.abs(m))


def _through_goal(weights: np.ndarray, d: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(S, F): ``[s, j]`` what of factor j's impact runs to sub-goal s (summed over the factors k)."""
    return _abs_contributions(weights, d, m).sum(axis=1)


def path_contributions(weights: np.ndarray, d: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(F, F): ``[k, j]`` what of factor j's impact runs through factor k (k = j: direct), summed
    over the sub-goals."""
    return _abs_contributions(weights, d, m).sum(axis=0)


def path_shares(model: Model, weights: np.ndarray, m_point: np.ndarray) -> np.ndarray:
    """(F, F): ``[k, j]`` the share of factor j's impact whose contributions run through factor k
    (``[j, j]``: the direct share, ``direct_share``).

    The impact of factor j is a sum of contributions ``w_s D[s, k] M_s[k, j]`` (k = j: direct;
    otherwise through the chain to k; ``m_point``: (S, F, F), ``chain_multipliers``); a path's share
    is its contributions' absolute values over the sum for all, like ``evidence_shares``, so the
    shares lie in [0, 1] also when a chain works against the direct effect. The room for
    improvement multiplies every contribution alike and drops out. NaN for a factor without any
    effect on the weighted sub-goals.
    """
    through = path_contributions(weights, model.d_mean, m_point)
    total = through.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, through / total, np.nan)
