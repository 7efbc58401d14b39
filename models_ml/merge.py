"""Merge local associations with literature weights (closed form, vectorised; no Dagster).

Steps (``merge_effects``):

1. **Local estimate to Cohen's d** (``to_cohens_d``). A local estimate ``b`` is a standardised
   within-area regression coefficient (outcome SDs per factor SD). It is treated as a (partial)
   correlation ``r = b`` (a standardised slope approximates r for |b| < 0.5; Peterson & Brown 2005)
   and converted with the usual correlation-to-d formula ``d = 2 r / sqrt(1 - r^2)``, with the
   delta-method standard error ``se_d = 2 / (1 - r^2)^(3/2) * se_r`` (r clipped to +-0.95). The
   sign convention is kept: positive = the factor goes with a *worse* outcome, as in
   ``literature_weights`` (positive d = the factor makes the sub-goal worse).
2. **Outcomes to sub-goal** (``combine_outcomes``). The d's of the outcome indicators of one
   sub-goal (only rows with ``status = 'estimated'``) are combined per factor by inverse-variance
   weighting: ``d = sum(w_i d_i) / sum(w_i)``, ``se = sqrt(1 / sum(w_i))``, ``w_i = 1 / se_i^2``.
   This treats the outcomes as independent pieces of evidence; outcomes of one sub-goal measured
   in the same areas are correlated, so this standard error is optimistic (documented; the
   down-weighting ``w`` below absorbs part of it).
3. **Normal-normal pooling** per (factor, sub-goal): prior = literature ``N(d_lit, se_lit^2 +
   tau^2)``; local likelihood ``N(d_loc, (se_loc^2 + tau^2) / w)``; posterior

       v_post = 1 / (1 / v_lit + 1 / v_loc),   d_post = v_post * (d_lit / v_lit + d_loc / v_loc)

   with ``v_lit = se_lit^2 + tau^2`` and ``v_loc = (se_loc^2 + tau^2) / w``. Defaults ``tau = 0.1``
   (between-source heterogeneity on the d scale) and ``w = 0.5`` (local ecological evidence counts
   half). With ``w = 1`` this is the random-effects inverse-variance mean of the two sources with
   a known tau^2; with ``tau = 0`` as well, the fixed-effect mean.

Labels (``source``): ``merged`` (both), ``literature_only`` (no local estimate, or not estimable),
``local_only`` (no literature row). Placeholder literature rows (``is_placeholder``) count as
literature, with ``literature_is_placeholder = True``. ``evidence_grade`` and ``citation`` are
carried over. Every row carries ``note`` (ecological caveat) and ``method_version``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from models_ml.associations import NOTE

METHOD_VERSION = "merge-1.0.0"
R_CLIP = 0.95

COLUMNS = [
    "factor_id", "subgoal_id", "link_id", "d_local", "se_local", "n_outcomes_local", "outcomes_local",
    "d_literature", "se_literature", "evidence_grade", "literature_is_placeholder", "citation",
    "d_merged", "se_merged", "ci90_lower", "ci90_upper", "local_share", "source", "tau", "local_weight",
    "note", "method_version",
]


@dataclass(frozen=True)
class MergeConfig:
    """tau: between-source heterogeneity SD on the d scale; local_weight: w in (0, 1], the weight of
    local ecological evidence (its variance is divided by w)."""

    tau: float = 0.1
    local_weight: float = 0.5


def to_cohens_d(estimate, std_error) -> tuple[np.ndarray, np.ndarray]:
    """Standardised coefficient (as r) -> Cohen's d and its delta-method standard error."""
    r = np.clip(np.asarray(estimate, dtype=float), -R_CLIP, R_CLIP)
    se_r = np.asarray(std_error, dtype=float)
    d = 2 * r / np.sqrt(1 - r**2)
    se_d = 2 / (1 - r**2) ** 1.5 * se_r
    return d, se_d


def combine_outcomes(associations: pd.DataFrame) -> pd.DataFrame:
    """Per (factor_id, subgoal_id): inverse-variance weighted d over the estimated outcome rows.

    Returns columns factor_id, subgoal_id, d_local, se_local, n_outcomes_local, outcomes_local.
    """
    est = associations[(associations["status"] == "estimated") & associations["estimate"].notna()
                       & (associations["std_error"] > 0)].copy()
    if est.empty:
        return pd.DataFrame(columns=["factor_id", "subgoal_id", "d_local", "se_local", "n_outcomes_local",
                                     "outcomes_local"])
    est["d"], est["se_d"] = to_cohens_d(est["estimate"], est["std_error"])
    est["w"] = 1 / est["se_d"] ** 2
    est["wd"] = est["w"] * est["d"]
    g = est.groupby(["factor_id", "subgoal_id"])
    out = pd.DataFrame({
        "d_local": g["wd"].sum() / g["w"].sum(),
        "se_local": np.sqrt(1 / g["w"].sum()),
        "n_outcomes_local": g.size(),
        "outcomes_local": g["outcome_indicator_id"].agg(lambda s: ";".join(sorted(s))),
    }).reset_index()
    return out


def pool(d_lit, se_lit, d_loc, se_loc, tau: float = 0.1, local_weight: float = 0.5):
    """Normal-normal posterior (mean, SD, local share of precision); NaN inputs mean 'absent'.

    Literature only: N(d_lit, se_lit^2 + tau^2). Local only: N(d_loc, (se_loc^2 + tau^2) / w).
    """
    if not 0 < local_weight <= 1:
        raise ValueError("local_weight must be in (0, 1]")
    d_lit, se_lit, d_loc, se_loc = (np.asarray(x, dtype=float) for x in (d_lit, se_lit, d_loc, se_loc))
    v_lit = se_lit**2 + tau**2
    v_loc = (se_loc**2 + tau**2) / local_weight
    p_lit = np.where(np.isfinite(d_lit) & np.isfinite(v_lit), 1 / v_lit, 0.0)
    p_loc = np.where(np.isfinite(d_loc) & np.isfinite(v_loc), 1 / v_loc, 0.0)
    p = p_lit + p_loc
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.where(p_lit > 0, d_lit, 0.0) * p_lit + np.where(p_loc > 0, d_loc, 0.0) * p_loc) / p
        sd = np.sqrt(1 / p)
        share = p_loc / p
    none = p == 0
    return np.where(none, np.nan, mean), np.where(none, np.nan, sd), np.where(none, np.nan, share)


def load_literature(con) -> pd.DataFrame:
    """Literature rows with their factor and sub-goal (via ``factor_subgoal_links``)."""
    return con.execute(
        "select w.link_id, k.factor_id, k.subgoal_id, w.effect_size_d, w.se_d, w.evidence_grade, "
        "w.is_placeholder, w.citation "
        "from factor_model.literature_weights w "
        "join factor_model.factor_subgoal_links k on k.link_id = w.link_id "
        "where w.scale = 'cohens_d'").df()


def merge_effects(associations: pd.DataFrame, literature: pd.DataFrame,
                  config: MergeConfig | None = None) -> pd.DataFrame:
    """One row per (factor_id, subgoal_id) that has literature or a local estimate (``COLUMNS``).

    ``associations``: output of ``associations.estimate_associations``. ``literature``: columns
    link_id, factor_id, subgoal_id, effect_size_d, se_d, evidence_grade, is_placeholder, citation
    (``load_literature``).
    """
    cfg = config or MergeConfig()
    local = combine_outcomes(associations)
    lit = literature.rename(columns={"effect_size_d": "d_literature", "se_d": "se_literature",
                                     "is_placeholder": "literature_is_placeholder"})
    lit = lit[["link_id", "factor_id", "subgoal_id", "d_literature", "se_literature", "evidence_grade",
               "literature_is_placeholder", "citation"]]
    m = lit.merge(local, on=["factor_id", "subgoal_id"], how="outer", indicator=True)
    has_lit = m["_merge"] != "right_only"
    has_loc = m["d_local"].notna()
    d, sd, share = pool(m["d_literature"], m["se_literature"], m["d_local"], m["se_local"],
                        cfg.tau, cfg.local_weight)
    z = stats.norm.ppf(0.95)
    m["d_merged"], m["se_merged"], m["local_share"] = d, sd, share
    m["ci90_lower"], m["ci90_upper"] = d - z * sd, d + z * sd
    m["source"] = np.select([has_lit & has_loc, has_lit], ["merged", "literature_only"], "local_only")
    m["link_id"] = m["link_id"].fillna(m["factor_id"] + "__" + m["subgoal_id"])
    m["literature_is_placeholder"] = m["literature_is_placeholder"].astype("boolean")
    m["n_outcomes_local"] = m["n_outcomes_local"].fillna(0).astype("int64")
    m["tau"], m["local_weight"] = cfg.tau, cfg.local_weight
    m["note"], m["method_version"] = NOTE, METHOD_VERSION
    return m[COLUMNS].sort_values(["factor_id", "subgoal_id"]).reset_index(drop=True)
