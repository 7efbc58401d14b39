"""Merge local associations with literature weights (closed form, vectorised; no Dagster).

Steps (``merge_effects``):

1. **Local estimate to Cohen's d** (``to_cohens_d``). A local estimate ``b`` is a standardised
   within-area regression coefficient (outcome SDs per factor SD). It is treated as a (partial)
   correlation ``r = b`` (a standardised slope approximates r for |b| < 0.5; Peterson & Brown 2005)
   and converted with the usual correlation-to-d formula ``d = 2 r / sqrt(1 - r^2)``, with the
   delta-method standard error ``se_d = 2 / (1 - r^2)^(3/2) * se_r`` (r clipped to +-0.95). The
   sign convention is kept: positive = the factor goes with a *worse* outcome, as in
   ``literature_weights`` (positive d = the factor makes the sub-goal worse).
2. **Outcomes to sub-goal** (``combine_outcomes``). The effect of a factor on a sub-goal is the
   *mean* of its effects on the sub-goal's outcome indicators (only rows with ``status =
   'estimated'``): ``d = mean(d_i)``, ``se = sqrt(sum(se_i^2)) / n``. Every outcome indicator of a
   sub-goal counts equally, whatever the precision of its estimate, so the estimand does not
   depend on the data (an inverse-variance mean would weigh the outcomes by how precisely they
   happen to be measured, and with exact knowledge of every effect would still rank the factors
   worse: oracle Spearman 0.67 instead of 0.84 on the known-answer datasets, both measured before true
   impacts were rounded, see simulation.TIE_DECIMALS). The standard error treats
   the outcomes as independent, although the outcomes of one sub-goal are measured in the same
   areas. Measured, it is not optimistic (``simulation.subgoal_mean_coverage``): the errors of one
   factor's estimates on two outcomes of a sub-goal correlate 0.03 on average, and the 90% intervals
   of the means cover the true mean 0.96 of the time on Demostad (50 datasets), 0.93 in a region of 8
   (20; the sub-goal ``veilig_minder_criminaliteit`` alone is 10% optimistic there).
3. **Normal-normal pooling** per (factor, sub-goal): literature ``N(d_lit, se_lit^2 + tau^2)``
   and local ``N(d_loc, (se_loc^2 + tau^2) / w)``, both read as estimates of the municipality's
   own effect that may each be off by a between-source deviation of SD ``tau`` (a two-source
   random-effects mean; "prior" and "likelihood" in older text meant the same); combined

       v_post = 1 / (1 / v_lit + 1 / v_loc),   d_post = v_post * (d_lit / v_lit + d_loc / v_loc)

   with ``v_lit = se_lit^2 + tau^2`` and ``v_loc = (se_loc^2 + tau^2) / w``. Defaults ``tau = 0.1``
   (between-source heterogeneity on the d scale) and ``w = 0.5`` (local ecological evidence counts
   half). With ``w = 1`` this is the random-effects inverse-variance mean of the two sources with
   a known tau^2; with ``tau = 0`` as well, the fixed-effect mean. A merged standard error is never
   below ``tau / sqrt(1 + w)`` (0.082 with the defaults), however much data: the reason the rank
   intervals do not narrow with more data (models_ml/README.md).

**The common scale is a convention, not a measurement** (a statistician's review). The local d is
an *area-level* association: the within-area coefficient in SDs of the outcome's signal per SD of
the factor score, passed through the r-to-d formula. Its size depends on how much the outcome and
the factor vary between and within areas, not only on the effect on a person; the literature d is
an *individual-level* effect (a log odds ratio times sqrt(3)/pi, for example). The same individual
odds ratio of 2 (d 0.38) gives a local d of about 0.50, 0.26 or 0.13 when only the between-area SD
of the outcome's baseline is 0.25, 0.5 or 1. So how strongly the two sources pull against each
other, and how a literature-only factor ranks against a local-only one, rests on this convention.
``MergeConfig.local_scale`` multiplies the local d and its standard error before pooling, for a
sensitivity analysis of exactly that (``python -m models_ml.sensitivity``; figures in
models_ml/README.md); it is 1 in production.

**Empirical-Bayes shrinkage of local-only pairs** (``shrink_local_only``, on by default). A pair
without literature has no prior but its own data; its local estimates come from as few as 12
wijken and are noisy (standard errors of 0.1-0.3 SD at wijk level), and a flat prior lets that
noise straight into the ranking. So, before step 2, every local estimate whose (factor, sub-goal)
pair has no literature row is shrunk towards 0 with a normal prior ``N(0, A)`` whose variance
``A`` is estimated from the data by marginal maximum likelihood over *all* estimated local
associations of the same area level (``estimate_i ~ N(0, A + se_i^2)``;
``empirical_bayes_prior_variance``): posterior mean ``estimate * A / (A + se^2)``, SD
``se * sqrt(A / (A + se^2))``. Precise (buurt-level) estimates barely move; estimates that are
mostly noise move most. ``d_local_unshrunk`` keeps the combined local estimate before shrinkage.
Pairs with literature are not shrunk here: the literature is their prior (step 3). Measured on
the known-answer datasets: median Spearman of the local-only ranking with the true ranking 0.50
without, 0.57 with shrinkage (``tests/ml/test_known_answer.py``).

**Covariance of the merged effects** (merge-1.2.0; ``merged_covariance``). The local estimates of
one outcome come from one joint regression, so those of correlated factors are correlated
(``associations.local_covariance``; e.g. ``armoede`` and ``schulden`` on ``reg_jeugdhulp_pct``).
Every step above is linear in the local estimates for fixed weights, so the covariance of two
factors' merged effects on one sub-goal follows exactly (formula in ``merged_covariance``); what
the merge adds per pair (tau, the down-weighting ``w``, the literature) is independent and lies on
the diagonal, whose total is ``se_merged^2`` (``variance_parts``). Written to ``ml.effect_merged_cov``;
the ranking draws each sub-goal's effects jointly from it. The outcomes of one sub-goal still count
as independent of each other, as in ``se_local``.

Labels (``source``): ``merged`` (both), ``literature_only`` (no local estimate, or not estimable),
``local_only`` (no literature row). Placeholder literature rows (``is_placeholder``) count as
literature, with ``literature_is_placeholder = True``, and the standard error the seed gives them
(at least 0.5 by its rule: a weakly informative prior that the local data outweigh). ``evidence_grade`` and ``citation`` are
carried over. Every row carries ``note`` (ecological caveat) and ``method_version``.

**Where the sources disagree** (``source_conflict``, since merge-1.2.0): ``conflict_z`` is the
standardised difference local - literature under the merge's own variances, and
``sources_conflict`` flags a pair whose two sources have opposite signs with ``|conflict_z| >=
1.645``; both NULL where a pair has one source. The merged estimate is the same precision-weighted
mean as before: a flag for the reader (e.g. ``vroeg_alcoholgebruik -> gezond_gedrag`` in the demo:
local d -0.53, literature +0.73, z -2.76, merged 0.66), not a change of method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from models_ml.associations import NOTE

METHOD_VERSION = "merge-1.2.0"  # 1.2.0: the merged effects' covariances (merged_covariance) and conflict_z / sources_conflict (the estimates as in 1.1.0)
R_CLIP = 0.95

COLUMNS = [
    "factor_id", "subgoal_id", "link_id", "d_local", "se_local", "d_local_unshrunk", "n_outcomes_local", "outcomes_local",
    "d_literature", "se_literature", "evidence_grade", "literature_is_placeholder", "citation",
    "d_merged", "se_merged", "ci90_lower", "ci90_upper", "local_share", "source", "conflict_z", "sources_conflict",
    "tau", "local_weight", "note", "method_version",
]
MERGED_COV_COLUMNS = ["subgoal_id", "factor_a", "factor_b", "covariance", "correlation", "method_version"]
"""The covariance of two factors' merged effects on one sub-goal (``merged_covariance``; ``ml.effect_merged_cov``)."""

CONFLICT_Z = float(stats.norm.ppf(0.95))
"""|conflict_z| from which two sources of opposite sign clearly disagree (``sources_conflict``): 1.645,
the two-sided 10% level, as the 90% intervals elsewhere."""


@dataclass(frozen=True)
class MergeConfig:
    """tau: between-source heterogeneity SD on the d scale; local_weight: w in (0, 1], the weight of
    local ecological evidence (its variance is divided by w); shrink_local_only: empirical-Bayes
    shrinkage towards 0 of the local estimates of pairs without literature; local_scale: the local d
    and its SE times this (a sensitivity analysis of the scale convention; 1 in production)."""

    tau: float = 0.1
    local_weight: float = 0.5
    shrink_local_only: bool = True
    local_scale: float = 1.0  # sensitivity only: local d and SE times this before pooling (module docstring)


def to_cohens_d(estimate, std_error) -> tuple[np.ndarray, np.ndarray]:
    """Standardised coefficient (as r) -> Cohen's d and its delta-method standard error."""
    r = np.clip(np.asarray(estimate, dtype=float), -R_CLIP, R_CLIP)
    se_r = np.asarray(std_error, dtype=float)
    d = 2 * r / np.sqrt(1 - r**2)
    se_d = 2 / (1 - r**2) ** 1.5 * se_r
    return d, se_d


def outcome_effects(associations: pd.DataFrame) -> pd.DataFrame:
    """The association rows ``combine_outcomes`` averages (``status = 'estimated'``, an estimate and a
    standard error > 0), with their Cohen's d and its standard error (``d``, ``se_d``; ``to_cohens_d``)."""
    est = associations[(associations["status"] == "estimated") & associations["estimate"].notna()
                       & (associations["std_error"] > 0)].copy()
    est["d"], est["se_d"] = to_cohens_d(est["estimate"], est["std_error"])
    return est


def combine_outcomes(associations: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per (factor_id, subgoal_id): the mean d over the estimated outcome rows, se = sqrt(sum se^2) / n.

    Returns columns factor_id, subgoal_id, d_local, se_local, n_outcomes_local, outcomes_local;
    ``by``: columns grouped by before those two (the known-answer tests' ``seed``: many datasets at once).
    """
    keys = [*by, "factor_id", "subgoal_id"]
    est = outcome_effects(associations)
    if est.empty:
        return pd.DataFrame(columns=[*keys, "d_local", "se_local", "n_outcomes_local", "outcomes_local"])
    est["var_d"] = est["se_d"] ** 2
    g = est.groupby(keys)
    out = pd.DataFrame({
        "d_local": g["d"].mean(),
        "se_local": np.sqrt(g["var_d"].sum()) / g.size(),
        "n_outcomes_local": g.size(),
        "outcomes_local": g["outcome_indicator_id"].agg(lambda s: ";".join(sorted(s))),
    }).reset_index()
    return out


def empirical_bayes_prior_variance(estimate, std_error) -> float:
    """Marginal maximum-likelihood ``A`` of the model ``estimate_i ~ N(0, A + se_i^2)``.

    The variance of the true effects around 0 that the spread of the estimates supports beyond
    their own sampling error; 0 when the estimates are no more spread than their errors explain.
    """
    from scipy.optimize import minimize_scalar

    b = np.asarray(estimate, dtype=float)
    v = np.asarray(std_error, dtype=float) ** 2
    ok = np.isfinite(b) & np.isfinite(v)
    b, v = b[ok], v[ok]
    if len(b) < 2:
        return float("nan")

    def neg_loglik(log_a: float) -> float:
        t = np.exp(log_a) + v
        return 0.5 * float(np.sum(np.log(t) + b**2 / t))

    best = minimize_scalar(neg_loglik, bounds=(np.log(1e-8), np.log(10.0)), method="bounded")
    a = float(np.exp(best.x))
    return 0.0 if a <= 1e-7 else a


def shrink_local_only(associations: pd.DataFrame, literature_pairs: set[tuple[str, str]]) -> pd.DataFrame:
    """Empirical-Bayes shrinkage towards 0 of the estimated local associations whose (factor_id,
    subgoal_id) has no literature; the prior variance per ``area_level`` from all its estimates.

    Returns a copy with ``estimate`` and ``std_error`` replaced by the posterior mean and SD on
    those rows and ``shrunk`` (bool) marking them.
    """
    out = associations.copy()
    out["shrunk"] = False
    est = (out["status"] == "estimated") & out["estimate"].notna() & (out["std_error"] > 0)
    no_lit = np.array([k not in literature_pairs for k in zip(out["factor_id"], out["subgoal_id"])], dtype=bool)
    levels = out["area_level"] if "area_level" in out else pd.Series("all", index=out.index)
    for level in levels[est].unique():
        in_level = est & (levels == level)
        a = empirical_bayes_prior_variance(out.loc[in_level, "estimate"], out.loc[in_level, "std_error"])
        if not np.isfinite(a):
            continue
        rows = in_level & no_lit
        se2 = out.loc[rows, "std_error"] ** 2
        k = a / (a + se2)
        out.loc[rows, "estimate"] = out.loc[rows, "estimate"] * k
        out.loc[rows, "std_error"] = np.sqrt(se2 * k)
        out.loc[rows, "shrunk"] = True
    return out


def source_variances(se_lit, se_loc, tau: float, local_weight: float):
    """The variances the merge gives its two sources (arrays or Series, elementwise): literature
    ``v_lit = se_lit^2 + tau^2``, local ``v_loc = (se_loc^2 + tau^2) / w``. Used by ``pool``,
    ``variance_parts`` and ``source_conflict``."""
    return se_lit**2 + tau**2, (se_loc**2 + tau**2) / local_weight


def pool(d_lit, se_lit, d_loc, se_loc, tau: float = 0.1, local_weight: float = 0.5):
    """Normal-normal posterior (mean, SD, local share of precision); NaN inputs mean 'absent'.

    Literature only: N(d_lit, se_lit^2 + tau^2). Local only: N(d_loc, (se_loc^2 + tau^2) / w).
    """
    if not 0 < local_weight <= 1:
        raise ValueError("local_weight must be in (0, 1]")
    d_lit, se_lit, d_loc, se_loc = (np.asarray(x, dtype=float) for x in (d_lit, se_lit, d_loc, se_loc))
    v_lit, v_loc = source_variances(se_lit, se_loc, tau, local_weight)
    p_lit = np.where(np.isfinite(d_lit) & np.isfinite(v_lit), 1 / v_lit, 0.0)
    p_loc = np.where(np.isfinite(d_loc) & np.isfinite(v_loc), 1 / v_loc, 0.0)
    p = p_lit + p_loc
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.where(p_lit > 0, d_lit, 0.0) * p_lit + np.where(p_loc > 0, d_loc, 0.0) * p_loc) / p
        sd = np.sqrt(1 / p)
        share = p_loc / p
    none = p == 0
    return np.where(none, np.nan, mean), np.where(none, np.nan, sd), np.where(none, np.nan, share)


def local_estimates(associations: pd.DataFrame, literature: pd.DataFrame, config: MergeConfig) -> pd.DataFrame:
    """The association rows whose mean is a pair's local estimate: shrunk (``shrink_local_only``)
    where the pair has no literature, if ``config.shrink_local_only``; else as estimated."""
    if not config.shrink_local_only:
        return associations
    return shrink_local_only(associations, set(zip(literature["factor_id"], literature["subgoal_id"])))


def _outcome_d(associations: pd.DataFrame, literature: pd.DataFrame, config: MergeConfig) -> pd.DataFrame:
    """Per estimated outcome row as ``merge_effects`` averages it: outcome_indicator_id, factor_id,
    subgoal_id, ``se_d`` (its standard error on the d scale: shrunk, converted, times ``local_scale``)
    and ``n`` (how many outcome rows the pair's mean has)."""
    est = outcome_effects(local_estimates(associations, literature, config))
    est = est[["outcome_indicator_id", "factor_id", "subgoal_id", "se_d"]].copy()
    est["se_d"] = est["se_d"] * config.local_scale
    est["n"] = est.groupby(["factor_id", "subgoal_id"])["se_d"].transform("size")
    return est


def _local_share(merged: pd.DataFrame) -> pd.Series:
    """``local_share`` of the merged pairs with a local estimate, indexed by (factor_id, subgoal_id)."""
    has = merged["d_local"].notna()
    return merged.loc[has].set_index(["factor_id", "subgoal_id"])["local_share"].astype(float)


def merged_covariance(associations: pd.DataFrame, local_cov: pd.DataFrame, literature: pd.DataFrame,
                      merged: pd.DataFrame, config: MergeConfig | None = None) -> pd.DataFrame:
    """The covariance of the merged effects of two factors on one sub-goal (``MERGED_COV_COLUMNS``;
    table ``ml.effect_merged_cov``), one row per pair ``factor_a < factor_b`` with a non-zero one.

    Every step from a local estimate to ``d_merged`` is linear in it for fixed weights: the
    conversion to d (the delta method's ``2 / (1 - r^2)^(3/2)``), the empirical-Bayes shrinkage (the
    posterior SD is ``sqrt(k)`` times the estimate's standard error), ``local_scale``, the plain mean
    over the sub-goal's outcomes (``1 / n`` per factor) and the pooling (``local_share`` of the
    local estimate). So with ``corr`` the correlation of two estimates of one outcome
    (``local_cov``: ``associations.local_covariance``) and ``se_d`` each estimate's standard error
    on the d scale after those steps (as ``merge_effects`` computes it),

        cov(d[s, a], d[s, b]) = share_a share_b sum_o corr_o,ab se_d,oa se_d,ob / (n_sa n_sb)

    over the outcomes o of sub-goal s that estimated both factors; estimates of different outcomes
    count as independent, as ``se_local`` counts them. What the merge adds on top (the
    heterogeneity ``tau^2``, the down-weighting of local evidence by ``w``, the literature's
    variance) is independent per pair and lies on the diagonal only (``variance_parts``), whose
    total is ``se_merged^2``. ``merged``: ``merge_effects``'s output for the same inputs.
    """
    cfg = config or MergeConfig()
    if local_cov is None or local_cov.empty or merged.empty:
        return _cov_frame([])
    rows = _outcome_d(associations, literature, cfg).set_index(["outcome_indicator_id", "factor_id"])
    pairs = local_cov[["outcome_indicator_id", "subgoal_id", "factor_a", "factor_b", "correlation"]]
    for side in ("a", "b"):
        pairs = pairs.join(rows[["se_d", "n"]].rename(columns=lambda c: f"{c}_{side}"),
                           on=["outcome_indicator_id", f"factor_{side}"], how="inner")
    pairs = pairs.assign(part=pairs["correlation"] * pairs["se_d_a"] * pairs["se_d_b"] / (pairs["n_a"] * pairs["n_b"]))
    out = pairs.groupby(["subgoal_id", "factor_a", "factor_b"], as_index=False)["part"].sum()
    share = _local_share(merged)
    se = merged.set_index(["factor_id", "subgoal_id"])["se_merged"].astype(float)
    key_a, key_b = (pd.MultiIndex.from_arrays([out[f"factor_{x}"], out["subgoal_id"]]) for x in ("a", "b"))
    out["covariance"] = (out["part"] * share.reindex(key_a).to_numpy() * share.reindex(key_b).to_numpy())
    out["correlation"] = out["covariance"] / (se.reindex(key_a).to_numpy() * se.reindex(key_b).to_numpy())
    out = out[out["covariance"].notna() & (out["covariance"] != 0)]
    out["method_version"] = METHOD_VERSION
    return _cov_frame(out[MERGED_COV_COLUMNS].sort_values(["subgoal_id", "factor_a", "factor_b"]).reset_index(drop=True))


def _cov_frame(rows) -> pd.DataFrame:
    """``MERGED_COV_COLUMNS`` with float covariance and correlation (also when empty)."""
    out = pd.DataFrame(rows, columns=MERGED_COV_COLUMNS)
    return out.astype({c: (float if c in ("covariance", "correlation") else object) for c in MERGED_COV_COLUMNS})


def variance_parts(associations: pd.DataFrame, literature: pd.DataFrame, merged: pd.DataFrame,
                   config: MergeConfig | None = None) -> pd.DataFrame:
    """The variance of every merged effect split in two: ``local``, the sampling variance of the local
    estimates as ``merged_covariance`` propagates it (its diagonal: ``share^2 sum_o se_d,o^2 / n^2``),
    and ``independent``, what the merge adds per pair (``share^2 ((se_loc^2 + tau^2) / w - se_loc^2)
    + (1 - share)^2 (se_lit^2 + tau^2)``). Columns factor_id, subgoal_id, local, independent, total;
    ``total`` is ``se_merged^2`` (the normal-normal posterior variance ``share^2 v_loc + (1 - share)^2
    v_lit``), which ``tests/ml/test_merge.py`` checks to 1e-12."""
    cfg = config or MergeConfig()
    rows = _outcome_d(associations, literature, cfg)
    sampling = (rows["se_d"] ** 2 / rows["n"] ** 2).groupby([rows["factor_id"], rows["subgoal_id"]]).sum()
    m = merged.set_index(["factor_id", "subgoal_id"])
    share = m["local_share"].astype(float).where(m["d_local"].notna(), 0.0)
    se_loc, se_lit = m["se_local"].astype(float), m["se_literature"].astype(float)
    v_lit, v_loc = source_variances(se_lit, se_loc, cfg.tau, cfg.local_weight)
    lit = ((1 - share) ** 2 * v_lit).where(m["d_literature"].notna(), 0.0)
    loc = (share**2 * (v_loc - se_loc**2)).where(m["d_local"].notna(), 0.0)
    out = pd.DataFrame({"local": share**2 * sampling.reindex(m.index).fillna(0.0), "independent": loc + lit})
    out["total"] = out["local"] + out["independent"]
    return out.reset_index()


def source_conflict(d_lit, se_lit, d_loc, se_loc, tau: float = 0.1,
                    local_weight: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """How far the local estimate lies from the literature, under the variances the merge gives them
    (``pool``): ``z = (d_loc - d_lit) / sqrt(v_loc + v_lit)`` with ``v_lit = se_lit^2 + tau^2`` and
    ``v_loc = (se_loc^2 + tau^2) / w``, and whether the two clearly disagree: opposite signs and
    ``|z| >= CONFLICT_Z``. Both NaN / NA where a source is absent. The merge pools them all the
    same (a flag, not a change of the estimate); the ranking's explanation does not count local
    data that point the other way as support (``ranking_model.evidence_shares``).
    """
    d_lit, se_lit, d_loc, se_loc = (np.asarray(x, dtype=float) for x in (d_lit, se_lit, d_loc, se_loc))
    v_lit, v_loc = source_variances(se_lit, se_loc, tau, local_weight)
    both = np.isfinite(d_lit) & np.isfinite(v_lit) & np.isfinite(d_loc) & np.isfinite(v_loc)
    with np.errstate(invalid="ignore"):
        z = np.where(both, (d_loc - d_lit) / np.sqrt(v_lit + v_loc), np.nan)
    clash = (np.sign(d_loc) * np.sign(d_lit) < 0) & (np.abs(z) >= CONFLICT_Z)
    return z, pd.array(np.where(both, clash, None), dtype="boolean")


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
    if cfg.shrink_local_only:
        shrunk = combine_outcomes(local_estimates(associations, literature, cfg))
        local = shrunk.merge(local[["factor_id", "subgoal_id", "d_local"]].rename(columns={"d_local": "d_local_unshrunk"}),
                             on=["factor_id", "subgoal_id"], how="left")
    else:
        local["d_local_unshrunk"] = local["d_local"]
    if cfg.local_scale != 1.0:  # a sensitivity analysis of the scale convention, never in production
        for column in ("d_local", "se_local", "d_local_unshrunk"):
            local[column] = local[column] * cfg.local_scale
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
    m["conflict_z"], m["sources_conflict"] = source_conflict(m["d_literature"], m["se_literature"], m["d_local"],
                                                             m["se_local"], cfg.tau, cfg.local_weight)
    m["link_id"] = m["link_id"].fillna(m["factor_id"] + "__" + m["subgoal_id"])
    m["literature_is_placeholder"] = m["literature_is_placeholder"].astype("boolean")
    m["n_outcomes_local"] = m["n_outcomes_local"].fillna(0).astype("int64")
    m["tau"], m["local_weight"] = cfg.tau, cfg.local_weight
    m["note"], m["method_version"] = NOTE, METHOD_VERSION
    return m[COLUMNS].sort_values(["factor_id", "subgoal_id"]).reset_index(drop=True)
