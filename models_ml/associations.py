"""Local factor-outcome associations: two-way fixed-effects regressions with area-clustered uncertainty.

Per outcome panel (``models_ml.panel.OutcomePanel``): the standardised, oriented link-scale outcome
``y`` is regressed on the standardised scores of the factors linked to the outcome's sub-goal, with
area and year fixed effects removed by demeaning (the *within* transformation; alternating
projections, exact for unbalanced panels). The coefficient of a factor is the change in the outcome
(in its signal SDs, higher = worse) per one SD of the factor score, holding the other linked
factors, the area and the year fixed: an **ecological (area-level) association, not an individual
causal effect** (every output row says so in ``note``).

Two estimation paths:

* ``ols_fe_cr3`` (default) — OLS on the within-transformed data; cluster-robust standard errors
  by area from the cluster jackknife (CR3, closed form: leave one area out, refit; scaled by
  ``(G-1)/G``); the 90% interval uses the t distribution with G-1 degrees of freedom. CR3 rather
  than CR1 because the demo's wijk-level outcomes have 12 areas: with CR1 the z-scores of zero
  effects had SD 1.3 and the wijk intervals were too narrow (``AssociationConfig.cluster_se``).
* ``ols_fe_cr1`` (``cluster_se="CR1"``) — the same with the CR1 small-sample factor ``G/(G-1) *
  (N-1)/(N-K)`` (G areas, N observations, K slope coefficients; the fixed effects are absorbed and
  not counted, as for statsmodels' ``cov_type='cluster'`` on the same within-transformed data).
* ``ridge_fe_bootstrap`` — a scikit-learn pipeline ``StandardScaler + RidgeCV`` on the within-
  transformed data, with the penalty chosen by grouped K-fold cross-validation over areas (no area
  in both a training and a validation fold); uncertainty from an area-clustered pairs bootstrap
  (resample whole areas with replacement, re-demean, refit with the chosen penalty; seeded); the
  standard error is the SD of the bootstrap estimates and the 90% interval their 5th-95th
  percentiles. Ridge shrinks towards zero: use it only where factors are collinear.

**Errors in variables** (since associations-1.3.0, ``AssociationConfig.errors_in_variables``): the
factor scores carry sampling error (``OutcomePanel.factor_error_var``, from
``panel.factor_score_error_variance``), which attenuates OLS towards 0 by the score's within-area
reliability. Where that reliability (column ``reliability``) is at least ``MIN_RELIABILITY`` the
OLS path uses ``(X'X - S)^-1 X'y`` instead (``measurement_error_rows``; Fuller 1987), with CR3 /
CR1 standard errors from its estimating equations (``cluster_robust_cov``), and reports the
coefficient per SD of the factor's signal (flag ``corrected_for_measurement_error``); below it
the factor is flagged ``low_reliability`` and left as OLS estimates it. ``MIN_RELIABILITY`` is 0.2
since associations-1.6.0 (0.7 before), except in a panel of fewer than ``FEW_CLUSTERS`` (30)
clusters, which keeps 0.7 (``reliability_threshold``; the demo's 12 wijken): the rare-event
registrations (reliability 0.25-0.4) came out at about half their effect, which Demostad's wide
intervals hid but a pooled region's narrow ones did not; below 0.2 the reliability is itself too
uncertain to divide by, and so is a small signal variance estimated from a dozen clusters
(models_ml/README.md, "The estimand and its scale"; models_ml/MEASUREMENTS.md, "associations-1.6.0"). Since
associations-1.7.0 the scores are the association scores (``association_scores``: each indicator on
its link scale where its counts allow, as the outcomes are), so that within an area a score follows
its factor with one slope and the sampling error is most of what the correction needs to know.

**Precision weights** (opt-in, ``AssociationConfig(precision_weights=True)``): weighted least
squares with weights ``1 / (sigma2 + v_i)`` (``precision_weights``: ``v_i`` the row's sampling
variance, large for a small buurt; ``sigma2`` the rest of the noise, by moments from the
unweighted residuals), weighted two-way fixed effects, and the same CR3 / errors-in-variables
machinery on the weighted rows (checked against statsmodels' WLS with area and year dummies). Off
by default: on the known-answer datasets it made the buurt standard errors about 7% smaller, did
not improve the ranking (Spearman median 0.579 against 0.597 on 20 datasets) and covered the
planted effects less often (0.822 against 0.863; weighting towards large areas, where the
corrected sampling error is small, leaves more of the demo's other measurement noise
uncorrected). Worth a try where area sizes differ far more than in the demo.

**A factor scored per wijk in a buurt panel** (``wijk_score_for_buurt``: every buurt of a wijk has
its wijk's score) varies only between wijken, so its errors are correlated within the wijk, not
only within the buurt: since associations-1.2.0 its standard error is clustered by wijk (CR3 with
the wijken as clusters, t with wijken - 1 degrees of freedom); the other factors of the panel keep
their buurt clusters. Since associations-1.4.0 it is the larger of the wijk- and the
buurt-clustered standard error (still with wijken - 1 degrees of freedom): a variance from a dozen
clusters is itself noisy, and taken alone the wijk one was the smaller in 14 of the demo's 44 such
rows (down to 0.63 of the buurt one), which let intervals exclude 0 that the buurt clusters did not. On simulated panels with wijk-year shocks the buurt clusters gave z-scores
with SD 2.2, the wijk clusters 0.97 (``tests/ml/test_associations.py``). On the known-answer
datasets, which have no such shocks, both were right (z SD 1.00 with buurt clusters).

**Several gemeenten in one panel** (a national warehouse): the year effects become gemeente x year
effects and, from ``MIN_GEMEENTEN_TO_CLUSTER`` gemeenten on, the clusters are gemeenten instead
of areas (``effect_codes``); one gemeente, as in the demo, is not affected.

**Covariance of the estimates** (associations-1.5.0; ``estimate_associations_with_covariance``,
``local_covariance``, table ``ml.association_local_cov``): the estimates of one outcome come from one
joint regression, so those of correlated factors are correlated (e.g. ``armoede`` and ``schulden``
on ``reg_jeugdhulp_pct``, r -0.56). Per pair of an outcome's estimated factors: the regression's
correlation (of the CR3 / CR1 covariance with the panel's own clusters; of the bootstrap draws on
the ridge path) scaled by the *reported* standard errors, which stay exactly as they are (a wijk
score's is the larger of two clusterings, so not the diagonal of one matrix). The merge and the
ranking propagate it.

``regularisation='auto'`` (default) uses OLS unless the largest variance inflation factor exceeds
``VIF_COLLINEAR`` (then ridge); ``'none'`` always OLS; ``'ridge'`` always ridge.

Diagnostics per outcome: ``max_vif`` and ``condition_number`` of the within-transformed,
standardised factor matrix; ``vif`` per factor; flags ``too_little_data`` (fewer than
``MIN_AREAS`` areas, ``MIN_YEARS`` years, or ``MIN_OBS_PER_PREDICTOR`` observations per factor),
``collinear`` (VIF above ``VIF_COLLINEAR``), ``perfectly_collinear`` (a factor that is an exact
linear combination of others after the within transformation is dropped, and the row says with
which), ``no_within_variation``, ``no_factor_data``, plus the panel flags
``interpolated_years`` and ``wijk_score_for_buurt``. A pair that cannot be estimated gets
``status = 'not_estimable'``, a ``reason`` and NULL estimate, standard error and interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from models_ml.panel import OutcomePanel

METHOD_VERSION = "associations-1.7.0"  # 1.7.0: the panels regress on the association scores (indicators on their link scale where their counts allow)
NOTE = "Ecological (area-level) association, not an individual causal effect."
MIN_AREAS = 10
MIN_YEARS = 3
MIN_OBS_PER_PREDICTOR = 5
MIN_GEMEENTEN_TO_CLUSTER = 20  # with at least this many gemeenten in a panel, cluster by gemeente
VIF_COLLINEAR = 10.0
MIN_RELIABILITY = 0.2  # below this within-area reliability a factor's estimate is not corrected (flag low_reliability)
FEW_CLUSTERS = 30  # a panel with fewer clusters than this corrects only from MIN_RELIABILITY_FEW_CLUSTERS on
MIN_RELIABILITY_FEW_CLUSTERS = 0.7
CI_LEVEL = 0.90
MIN_NOISE_SHARE = 0.1  # precision weights: the area-year noise variance is at least this share of the mean sampling variance
CR3_CHUNK_BYTES = 64 * 2**20  # memory of one batch of per-cluster cross-product matrices

COLUMNS = [
    "outcome_indicator_id", "subgoal_id", "factor_id", "area_level", "estimate", "std_error",
    "ci90_lower", "ci90_upper", "n_areas", "n_years", "n_obs", "n_factors", "method", "alpha",
    "vif", "max_vif", "condition_number", "reliability", "flags", "status", "reason", "note", "method_version",
]
COV_COLUMNS = [
    "outcome_indicator_id", "subgoal_id", "factor_a", "factor_b", "correlation", "covariance", "method_version",
]
"""The covariance of two estimates of one outcome (``local_covariance``; table ``ml.association_local_cov``)."""


@dataclass(frozen=True)
class AssociationConfig:
    """Settings of ``estimate_associations``.

    regularisation: 'auto' (ridge only when max VIF > vif_collinear), 'none' (always OLS) or 'ridge'.
    n_boot: bootstrap draws of the ridge path; seed: its random seed.
    cluster_se: 'CR3' (cluster jackknife, default) or 'CR1' for the OLS path's standard errors.
    min_gemeenten_to_cluster: from this many gemeenten in one panel on, cluster by gemeente
    (``effect_codes``; a panel of several gemeenten always gets gemeente x year effects).
    alphas: candidate ridge penalties; cv_folds: grouped CV folds over areas.
    errors_in_variables: correct the OLS path for the sampling error of the factor scores
    (``measurement_error_rows``) where a factor's within-area reliability is at least
    ``min_reliability``, or ``min_reliability_few_clusters`` in a panel of fewer than ``few_clusters``
    clusters (``reliability_threshold``); off: plain OLS (what the statsmodels cross-checks compare).
    """

    regularisation: str = "auto"
    n_boot: int = 200
    seed: int = 20150101
    alphas: tuple[float, ...] = tuple(np.logspace(-3, 3, 25))
    cv_folds: int = 5
    min_areas: int = MIN_AREAS
    min_years: int = MIN_YEARS
    min_obs_per_predictor: int = MIN_OBS_PER_PREDICTOR
    vif_collinear: float = VIF_COLLINEAR
    cluster_se: str = "CR3"
    min_gemeenten_to_cluster: int = MIN_GEMEENTEN_TO_CLUSTER
    errors_in_variables: bool = True
    min_reliability: float = MIN_RELIABILITY
    few_clusters: int = FEW_CLUSTERS
    min_reliability_few_clusters: float = MIN_RELIABILITY_FEW_CLUSTERS
    precision_weights: bool = False
    min_noise_share: float = MIN_NOISE_SHARE


# --------------------------------------------------------------------------- linear algebra helpers

def within_transform(values: np.ndarray, area: np.ndarray, year: np.ndarray,
                     tol: float = 1e-12, max_iter: int = 10_000, weights: np.ndarray | None = None) -> np.ndarray:
    """Remove area and year means (two-way fixed effects) by alternating projections.

    ``values`` is (n,) or (n, k); ``area`` and ``year`` are integer codes 0..G-1 / 0..T-1. Exact
    in one pass for balanced panels; iterates to ``tol`` (max absolute change) otherwise.
    ``weights``: weighted means instead (the within transformation of weighted least squares: the
    residual of the weighted projection on the area and year dummies).
    """
    x = np.array(values, dtype=float, copy=True)
    squeeze = x.ndim == 1
    if squeeze:
        x = x[:, None]
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    n_a, n_y = int(area.max()) + 1, int(year.max()) + 1
    cnt_a = np.bincount(area, weights=w, minlength=n_a)
    cnt_y = np.bincount(year, weights=w, minlength=n_y)
    for _ in range(max_iter):
        old = x.copy()
        for codes, cnt, n_g in ((area, cnt_a, n_a), (year, cnt_y, n_y)):
            sums = np.zeros((n_g, x.shape[1]))
            np.add.at(sums, codes, x * w[:, None])
            x -= (sums / np.where(cnt > 0, cnt, 1.0)[:, None])[codes]
        if np.max(np.abs(x - old)) < tol:
            break
    return x[:, 0] if squeeze else x


def _nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """Whether every code of ``inner`` lies in one code of ``outer`` (e.g. areas within gemeenten)."""
    pairs = np.unique(np.column_stack([inner, outer]), axis=0)
    return len(pairs) == len(np.unique(inner))


def _first_codes_of_groups(codes: np.ndarray, area: np.ndarray) -> np.ndarray:
    """The first of ``codes`` in every group of areas and codes that share rows (the connected
    components of the area-code graph): one per gemeente when the codes are gemeente x year."""
    n_area, n_code = int(area.max()) + 1, int(codes.max()) + 1
    graph = coo_matrix((np.ones(len(codes)), (area, n_area + codes)), shape=(n_area + n_code,) * 2)
    label = connected_components(graph, directed=False)[1][n_area:]
    return np.unique(label, return_index=True)[1]


def _dummies_within(codes: np.ndarray, area: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Dummies of ``codes``, each demeaned within area: the time effects of a two-way model with the
    area effects partialled out. The first code of every group of areas that share codes is dropped
    (``_first_codes_of_groups``): with gemeente x year codes, each gemeente's dummies sum to 1 in its
    areas, so one per gemeente is collinear with the area effects, not one in all. With ``weights``:
    weighted means, and the result scaled by ``sqrt(weights)`` like the rows of a weighted regression."""
    w = np.ones(len(codes)) if weights is None else np.asarray(weights, dtype=float)
    d = np.zeros((len(codes), int(codes.max()) + 1))
    d[np.arange(len(codes)), codes] = 1.0
    d = np.delete(d, _first_codes_of_groups(codes, area), axis=1)
    sums = np.zeros((int(area.max()) + 1, d.shape[1]))
    np.add.at(sums, area, d * w[:, None])
    d = d - (sums / np.bincount(area, weights=w)[:, None])[area]
    return d if weights is None else d * np.sqrt(w)[:, None]


def cluster_robust_cov(x: np.ndarray, resid: np.ndarray, clusters: np.ndarray, kind: str = "CR1",
                       area: np.ndarray | None = None, time: np.ndarray | None = None,
                       error_rows: np.ndarray | None = None, beta: np.ndarray | None = None,
                       weights: np.ndarray | None = None) -> np.ndarray:
    """Cluster-robust covariance of OLS coefficients.

    ``CR1``: ``G/(G-1) * (N-1)/(N-K) * sandwich`` (statsmodels' ``cov_type='cluster'``).
    ``CR3``: the cluster jackknife, ``(G-1)/G * sum_g (b_(g) - m)(b_(g) - m)'`` with ``b_(g)`` the
    OLS fit without cluster g's rows and ``m`` their mean (the jackknife variance; centred on the
    full fit ``b`` instead it is larger by ``(G-1) (m - b)(m - b)'``),
    ``b_(g) - b = -(X'X - X_g'X_g)^-1 X_g' e_g`` (exact;
    Bell & McCaffrey 2002, MacKinnon, Nielsen & Webb 2023). With few clusters CR1 is too small:
    measured on the known-answer datasets, the z-scores of zero effects estimated from 12 wijken
    have SD 1.3 under CR1; CR3 corrects most of it.

    For a two-way fixed-effects model pass the within-transformed data and the codes of the
    effects (``area``, ``time``). Area effects nested in the clusters need nothing more; time
    effects that are *not* nested in the clusters (year effects with area clusters) are
    re-estimated in every leave-one-cluster-out fit: their dummies, demeaned within area (first one
    dropped), are added as columns, so ``b_(g)`` is exactly the refit of the whole two-way model
    without cluster g (``tests/ml/test_associations.py`` checks it against statsmodels with area
    and year dummies). Without them the jackknife came out about 10% too small with 12 clusters.
    **Weighted least squares** (``weights``): pass the rows already scaled by ``sqrt(weights)``
    (``x``, ``resid``, ``error_rows`` times ``weights``); the weights are needed only to build the
    time dummies of the CR3 refits the same way (``tests/ml/test_associations.py`` checks it
    against statsmodels' WLS with area and year dummies).

    **Errors in variables** (``error_rows``, (N, K): each row's expected contribution of sampling
    error to ``x_i x_i'``'s diagonal, ``beta`` the corrected coefficients, as ``_ols`` computes them): the
    estimator solves ``sum_i psi_i = 0`` with ``psi_i = x_i e_i + diag(error_rows_i) beta``, so
    CR1 is the sandwich with bread ``(X'X - S)^-1`` and meat from the ``psi`` per cluster, and the
    leave-one-cluster-out refit is ``b_(g) - b = -(X'X - S - X_g'X_g + S_g)^-1 sum_{i in g} psi_i``
    (exact, for the same ``S`` per row; ``S = diag(sum_i error_rows_i)``). Without them ``S = 0``
    and both are the OLS formulas above.
    """
    if kind == "CR3" and time is not None and not _nested(time, clusters):
        if area is None or not _nested(area, clusters):
            raise ValueError("CR3 with time effects needs the area codes, nested in the clusters")
        k = x.shape[1]
        dummies = _dummies_within(time, area, weights)
        full = np.column_stack([x, dummies])
        if error_rows is not None:  # the year effects are measured without error (and are 0 in the full fit)
            error_rows = np.column_stack([error_rows, np.zeros_like(dummies)])
            beta = np.r_[beta, np.zeros(dummies.shape[1])]
        return cluster_robust_cov(full, resid, clusters, "CR3", error_rows=error_rows, beta=beta)[:k, :k]
    n, k = x.shape
    n_g = len(np.unique(clusters))
    psi = x * resid[:, None]
    if error_rows is not None:
        psi = psi + error_rows * beta[None, :]
    s_total = np.diag(error_rows.sum(axis=0)) if error_rows is not None else np.zeros((k, k))
    if kind == "CR1":
        bread = np.linalg.inv(x.T @ x - s_total)
        scores = np.zeros((int(clusters.max()) + 1, k))
        np.add.at(scores, clusters, psi)
        meat = scores.T @ scores
        factor = n_g / (n_g - 1) * (n - 1) / (n - k)
        return factor * bread @ meat @ bread
    if kind != "CR3":
        raise ValueError(f"kind must be 'CR1' or 'CR3', not {kind!r}")
    # leave cluster g out: b_(g) - b = -(X'X - X_g'X_g)^-1 X_g'e_g (the OLS normal equations without
    # the cluster's rows, using X'e = 0); O(N k^2 + G k^3), whatever the cluster sizes
    order = np.argsort(clusters, kind="stable")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, np.diff(clusters[order]) != 0])
    xtx = x.T @ x - s_total
    ends = np.r_[starts[1:], n]
    score = np.add.reduceat(psi[order], starts, axis=0)
    s_cluster = (np.add.reduceat(error_rows[order], starts, axis=0) if error_rows is not None
                 else np.zeros((len(starts), k)))
    deltas = np.empty((len(starts), k))
    step = max(1, CR3_CHUNK_BYTES // (8 * k * k))  # clusters per batch: bounds the (m, k, k) stack
    diag = np.arange(k)
    for c in range(0, len(starts), step):
        rest = xtx[None] - np.stack([xs[a:b].T @ xs[a:b] for a, b in zip(starts[c:c + step], ends[c:c + step])])
        rest[:, diag, diag] += s_cluster[c:c + step]
        try:
            deltas[c:c + step] = -np.linalg.solve(rest, score[c:c + step, :, None])[..., 0]
        except np.linalg.LinAlgError:  # a cluster that alone identifies a coefficient: pseudo-inverse
            deltas[c:c + step] = -np.einsum("gkl,gl->gk", np.linalg.pinv(rest), score[c:c + step])
    centred = deltas - deltas.mean(axis=0)
    return (n_g - 1) / n_g * centred.T @ centred


def vif(x: np.ndarray) -> np.ndarray:
    """Variance inflation factors of the columns of ``x`` (diagonal of the inverse correlation matrix)."""
    if x.shape[1] == 1:
        return np.ones(1)
    c = np.corrcoef(x, rowvar=False)
    try:
        return np.diag(np.linalg.inv(c))
    except np.linalg.LinAlgError:
        return np.full(x.shape[1], np.inf)


def condition_number(x: np.ndarray) -> float:
    """Condition number of the column-standardised matrix (ratio of largest to smallest singular value)."""
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    s = np.linalg.svd((x - x.mean(axis=0)) / sd, compute_uv=False)
    return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")


def independent_columns(x: np.ndarray, names: list[str], tol: float = 1e-8) -> tuple[list[int], dict[str, list[str]]]:
    """Greedy rank check: keep a column if it is not (numerically) in the span of the kept ones.

    Returns the kept column indices and, for every dropped column, the kept columns it is a linear
    combination of (those with a non-negligible coefficient).
    """
    keep: list[int] = []
    dropped: dict[str, list[str]] = {}
    scale = np.sqrt((x**2).sum(axis=0))
    for j in range(x.shape[1]):
        if scale[j] <= tol:
            dropped[names[j]] = []
            continue
        if keep:
            basis = x[:, keep]
            coef, *_ = np.linalg.lstsq(basis, x[:, j], rcond=None)
            resid = x[:, j] - basis @ coef
            if np.sqrt((resid**2).sum()) <= 1e-6 * scale[j]:
                dropped[names[j]] = [names[keep[i]] for i in np.flatnonzero(np.abs(coef) > 1e-6)]
                continue
        keep.append(j)
    return keep, dropped


# --------------------------------------------------------------------------- fixed effects and clusters

@dataclass(frozen=True)
class EffectCodes:
    """Integer codes for the two-way within transformation and the clusters of one panel.

    ``area``: the area fixed effect; ``time``: the year, or gemeente x year where the panel holds
    more than one gemeente; ``cluster``: area, or gemeente from ``MIN_GEMEENTEN_TO_CLUSTER``
    gemeenten on; ``n_clusters`` and ``cluster_level`` ('area' / 'gemeente') describe them.
    """

    area: np.ndarray
    time: np.ndarray
    cluster: np.ndarray
    n_clusters: int
    cluster_level: str
    n_gemeenten: int


def effect_codes(area_code: pd.Series, year: pd.Series,
                 min_gemeenten_to_cluster: int = MIN_GEMEENTEN_TO_CLUSTER) -> EffectCodes:
    """Fixed-effect and cluster codes of a panel (``area_code`` like BU/WK + 4 gemeente digits + ...).

    One gemeente (the usual case): area and year effects, clusters = areas. Several gemeenten (a
    national or regional warehouse): the year effect becomes a **gemeente x year** effect, so a
    shock that hits one gemeente in one year (a change in how it registers youth care, a local
    policy) is not read as an association of the factors that happen to move with it; with
    ``min_gemeenten_to_cluster`` or more gemeenten the standard errors are clustered by
    **gemeente**, because the areas of one gemeente share its registrations and policies and
    their errors are correlated. Area codes are nested in gemeenten, so area effects stay as they are.
    """
    # the text work on the distinct area codes and (gemeente, year) pairs only, then repeated per row
    area, codes = pd.factorize(area_code, sort=True)
    of_code = pd.Series(codes).astype(str).str.extract(r"^(?:BU|WK|GM)(\d{4})", expand=False).fillna("")  # other codes: one
    of_code = np.append(of_code.to_numpy(dtype=object), "")[area]  # -1 (a missing code): none, as "nan" had
    gem_code, gemeenten = pd.factorize(of_code, sort=True)
    n_gem = len(gemeenten)
    if n_gem == 1:
        time = pd.factorize(year, sort=True)[0]
    else:
        _, first, pair = np.unique(gem_code.astype(np.int64) * (len(year) + 1) + pd.factorize(year)[0],
                                   return_index=True, return_inverse=True)
        labels = pd.Series(of_code[first]) + ":" + year.iloc[first].astype(str).to_numpy()
        time = pd.factorize(labels, sort=True)[0][pair]
    if n_gem >= min_gemeenten_to_cluster:
        cluster, level = gem_code, "gemeente"
    else:
        cluster, level = area, "area"
    return EffectCodes(area=area, time=time, cluster=cluster, n_clusters=int(cluster.max()) + 1 if len(cluster) else 0,
                       cluster_level=level, n_gemeenten=n_gem)


# --------------------------------------------------------------------------- estimation

def _ols(xw: np.ndarray, yw: np.ndarray, codes: "EffectCodes", kind: str = "CR1",
         coarse: tuple[np.ndarray, list[int]] | None = None, error_rows: np.ndarray | None = None,
         weights: np.ndarray | None = None):
    """OLS with cluster-robust standard errors, their degrees of freedom (clusters - 1) and the
    correlation matrix of the coefficients (from the covariance with the panel's own clusters).

    ``coarse``: (cluster codes, columns): those columns' standard errors are also clustered by the
    coarser clusters (a regressor that varies only between them, such as a wijk score in a buurt
    panel: its errors are correlated within the wijk, not only within the buurt), and the larger
    of the two is kept, with the coarser clusters' degrees of freedom. A cluster-robust variance
    from a dozen wijken is itself noisy: taken alone it came out below the buurt-clustered one for
    14 of the demo's 44 such rows (down to 0.63 of it), which cannot make the estimate surer.
    ``error_rows`` ((N, K), see ``measurement_error_rows``): the errors-in-variables estimator
    ``(X'X - S)^-1 X'y`` with ``S = diag(sum of error_rows)`` instead of OLS (Fuller 1987, ch. 2).
    ``weights``: the rows are those of a weighted regression (scaled by ``sqrt(weights)``; see
    ``cluster_robust_cov``). With ``coarse`` the reported standard errors are not the diagonal of
    one matrix: the correlation is that of the panel's own clusters (the better determined of the
    two), and ``local_covariance`` scales it by the reported standard errors."""
    if error_rows is None:
        beta, *_ = np.linalg.lstsq(xw, yw, rcond=None)
    else:
        beta = np.linalg.solve(xw.T @ xw - np.diag(error_rows.sum(axis=0)), xw.T @ yw)
    resid = yw - xw @ beta
    cov = cluster_robust_cov(xw, resid, codes.cluster, kind, area=codes.area, time=codes.time,
                             error_rows=error_rows, beta=beta, weights=weights)
    se = np.sqrt(np.diag(cov))
    corr = correlation_matrix(cov)
    dof = np.full(len(beta), codes.n_clusters - 1)
    if coarse is not None:
        clusters, columns = coarse
        cov_c = cluster_robust_cov(xw, resid, clusters, kind, area=codes.area, time=codes.time,
                                   error_rows=error_rows, beta=beta, weights=weights)
        se[columns] = np.maximum(se[columns], np.sqrt(np.diag(cov_c))[columns])
        dof[columns] = int(clusters.max())
    return beta, se, dof, corr


def _ridge_pipeline(alphas, cv):
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), RidgeCV(alphas=alphas, cv=cv, fit_intercept=True))


def _ridge_fixed(xw: np.ndarray, yw: np.ndarray, alpha: float) -> np.ndarray:
    """Ridge with StandardScaler and a fixed penalty, coefficients on the unscaled (per factor SD) columns."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(xw, yw)
    sd = pipe.named_steps["standardscaler"].scale_
    return pipe.named_steps["ridge"].coef_ / sd


def _ridge(df: pd.DataFrame, cols: list[str], xw, yw, codes: EffectCodes, cfg: AssociationConfig,
           weights: np.ndarray | None = None):
    from sklearn.model_selection import GroupKFold

    cluster = codes.cluster
    n_groups = codes.n_clusters
    folds = min(cfg.cv_folds, n_groups)
    cv = list(GroupKFold(n_splits=folds).split(xw, yw, groups=cluster))
    pipe = _ridge_pipeline(np.asarray(cfg.alphas), cv).fit(xw, yw)
    alpha = float(pipe.named_steps["ridgecv"].alpha_)
    sd = pipe.named_steps["standardscaler"].scale_
    beta = pipe.named_steps["ridgecv"].coef_ / sd
    rng = np.random.default_rng(cfg.seed)
    groups = [np.flatnonzero(cluster == g) for g in range(n_groups)]
    n_areas, n_time = int(codes.area.max()) + 1, int(codes.time.max()) + 1
    x_raw = df[cols].to_numpy(float)
    y_raw = df["y"].to_numpy(float)
    draws = np.full((cfg.n_boot, len(cols)), np.nan)
    for b in range(cfg.n_boot):
        pick = rng.integers(0, n_groups, n_groups)
        idx = np.concatenate([groups[g] for g in pick])
        copy = np.repeat(np.arange(n_groups), [len(groups[g]) for g in pick])  # a cluster drawn twice is two clusters
        new_area = pd.factorize(copy * n_areas + codes.area[idx])[0]
        time_copy = copy if codes.cluster_level == "gemeente" else 0  # gemeente x year effects belong to one copy
        yr = pd.factorize(time_copy * n_time + codes.time[idx])[0]
        wb = None if weights is None else weights[idx]
        xb = within_transform(x_raw[idx], new_area, yr, weights=wb)
        yb = within_transform(y_raw[idx], new_area, yr, weights=wb)
        if wb is not None:
            xb, yb = xb * np.sqrt(wb)[:, None], yb * np.sqrt(wb)
        if np.any(xb.std(axis=0) == 0):
            continue
        draws[b] = _ridge_fixed(xb, yb, alpha)
    draws = draws[~np.isnan(draws).any(axis=1)]
    se = draws.std(axis=0, ddof=1)
    lo, hi = np.percentile(draws, [100 * (1 - CI_LEVEL) / 2, 100 * (1 + CI_LEVEL) / 2], axis=0)
    return beta, se, lo, hi, alpha, correlation_matrix(np.cov(draws, rowvar=False).reshape(len(cols), len(cols)))


def _wijk_clusters(panel: OutcomePanel, df: pd.DataFrame, cols: list[str], flags: dict[str, list[str]],
                   codes: EffectCodes) -> tuple[np.ndarray, list[int]] | None:
    """Wijk cluster codes and the columns of the factors scored per wijk (``wijk_score_for_buurt``)
    of a buurt panel clustered by area; None when there are none (or clusters are gemeenten,
    which already contain the wijken) or fewer than 2 wijken."""
    columns = [j for j, f in enumerate(cols) if "wijk_score_for_buurt" in flags[f]]
    if not columns or codes.cluster_level != "area" or not panel.wijk_of:
        return None
    wijk = pd.factorize(df["area_code"].map(panel.wijk_of).fillna(df["area_code"]), sort=True)[0]
    return (wijk, columns) if wijk.max() >= 1 else None


def within_diagonal(codes: EffectCodes, weights: np.ndarray | None = None) -> np.ndarray:
    """The diagonal ``m_ii`` of the two-way within transformation: ``1 - w_i/W_a - w_i/W_t + w_i/W``
    (``W_a``, ``W_t``, ``W``: the weights of row i's area, of its year, in all; all weights 1
    without ``weights``: ``1 - 1/T_a - 1/N_t + 1/N``). Exact for balanced panels; what a row's own
    independent error keeps of its variance after the transformation."""
    w = np.ones(len(codes.area)) if weights is None else np.asarray(weights, dtype=float)
    w_area = np.bincount(codes.area, weights=w)[codes.area]
    w_time = np.bincount(codes.time, weights=w)[codes.time]
    return 1.0 - w / w_area - w / w_time + w / w.sum()


def factor_thresholds(cfg: AssociationConfig, n_clusters: int, n_factors: int,
                      wijk_clusters: tuple[np.ndarray, list[int]] | None) -> np.ndarray:
    """Per factor of a panel, the ``reliability_threshold`` of the clusters its standard error rests
    on: the panel's, but for a factor scored per wijk in a buurt panel (``_wijk_clusters``) its
    wijken. The demo's buurt panels have 80 buurten and 12 wijken: corrected from 0.2 (since
    associations-1.7.0 also where survey years are interpolated), the wijk scores' standard
    errors grew as the wijk panels' had, and the median Spearman of the 50 known-answer datasets'
    ranking fell to 0.544 (0.569 with this rule)."""
    out = np.full(n_factors, reliability_threshold(cfg, n_clusters))
    if wijk_clusters is not None:
        wijk, columns = wijk_clusters
        out[columns] = reliability_threshold(cfg, int(wijk.max()) + 1)
    return out


def reliability_threshold(cfg: AssociationConfig, n_clusters: int) -> float:
    """The reliability from which a panel's factor scores are corrected for their sampling error:
    ``cfg.min_reliability``, but at least ``cfg.min_reliability_few_clusters`` when the panel has
    fewer than ``cfg.few_clusters`` clusters (the demo's wijk panels: 12). The corrected estimator
    divides by the estimated signal variance; at a reliability of 0.2-0.7 that is a small number
    estimated from few clusters. Corrected from 0.2 on, the demo's wijk-level estimates had a median
    standard error of 1.7 instead of 0.18 (up to 37), and the merge gave them almost no weight; in a
    region of 8 (96 wijken) 0.072 instead of 0.059."""
    if n_clusters < cfg.few_clusters:
        return max(cfg.min_reliability, cfg.min_reliability_few_clusters)
    return cfg.min_reliability


def measurement_error_rows(error_var: pd.DataFrame | None, cols: list[str], xw: np.ndarray, codes: EffectCodes,
                           min_reliability: float | np.ndarray, weights: np.ndarray | None = None,
                           error_offdiag: pd.DataFrame | None = None) -> tuple[np.ndarray | None, np.ndarray]:
    """What the sampling error of the factor scores adds to the within-transformed ``X'X``.

    Per row i and factor j: ``m_ii * error_var_ij``, with ``m_ii = 1 - 1/T_a - 1/N_t + 1/N`` the
    diagonal of the two-way within transformation (exact for balanced panels; ``T_a`` rows of the
    row's area, ``N_t`` of its year, ``N`` in all): the expected square of the transformed error.
    Returns those rows (None when no factor is corrected) and every factor's within-area
    reliability ``1 - sum_i m_ii error_var_ij / sum_i xw_ij^2``, at least 0 (0 where the expected
    sampling error is at least the observed variation: the score is all noise; NaN where its error
    variance is unknown for any row). A factor is corrected when its reliability is at least
    ``min_reliability`` (one for all, or one per factor: ``factor_thresholds``); its column is 0 otherwise.

    Errors shared between the years of one area (``error_offdiag``: per row the sum of its error's
    covariances with the other rows of its area, ``panel.shared_error_offdiagonal``; interpolated
    survey years share the error of the measured years they are made of, since associations-1.7.0)
    add ``(-1/T_a + 1/N) * error_offdiag_ij``, the off-diagonal of the transformation within an
    area (exact for balanced one-gemeente panels), so that every area's rows sum to the expected
    ``u_a' M u_a``. With ``weights`` (weighted least squares; ``xw`` then holds the rows scaled by
    ``sqrt(weights)``): ``w_i m_ii error_var_ij`` with the weighted diagonal ``m_ii = 1 - w_i/W_a -
    w_i/W_t + w_i/W`` (``W_a``, ``W_t``, ``W``: the weights of the row's area, of its year, in all);
    a factor with shared errors is then not corrected (NaN).
    """
    reliability = np.full(len(cols), np.nan)
    if error_var is None:
        return None, reliability
    ev = error_var.reindex(columns=cols).to_numpy(dtype=float)
    w = np.ones(len(codes.area)) if weights is None else np.asarray(weights, dtype=float)
    rows = (w * within_diagonal(codes, weights))[:, None] * ev
    if error_offdiag is not None:
        off = error_offdiag.reindex(columns=cols).to_numpy(dtype=float)
        shared = np.nan_to_num(off) != 0
        if weights is not None:
            rows = np.where(shared.any(axis=0)[None, :], np.nan, rows)
        else:
            t_area = np.bincount(codes.area)[codes.area]
            rows = rows + np.where(shared | np.isnan(off), (1.0 / len(codes.area) - 1.0 / t_area)[:, None] * off, 0.0)
    known = np.isfinite(rows).all(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        reliability = np.where(known, np.maximum(0.0, 1.0 - np.nansum(rows, axis=0) / (xw**2).sum(axis=0)), np.nan)
    corrected = known & (reliability >= min_reliability)
    if not corrected.any():
        return None, reliability
    return np.where(corrected[None, :], np.nan_to_num(rows), 0.0), reliability


def precision_weights(panel: OutcomePanel, xw: np.ndarray, yw: np.ndarray, codes: EffectCodes,
                      min_noise_share: float = MIN_NOISE_SHARE) -> np.ndarray | None:
    """Weights ``1 / (sigma2 + v_i)`` of the rows of one outcome panel (mean 1), or None.

    ``v_i``: the sampling variance of row i's outcome on the standardised scale
    (``y_sampling_var / outcome_sd_signal^2``; the panel mean where unknown), large for a small
    buurt and small for a large one. ``sigma2``: the variance of what else moves the outcome within
    an area from year to year (the model's own noise), estimated from the residuals ``e`` of the
    unweighted fit (``xw``, ``yw``: the unweighted within-transformed data) by moments:
    ``E[e_i^2] = m_ii (sigma2 + v_i)``, so ``sigma2 = RSS / dof - sum(m_ii v_i) / sum(m_ii)``, with
    ``m_ii`` the diagonal of the two-way within transformation; at least ``min_noise_share`` of the
    mean ``v`` (a bound on how much one precise row can dominate). None when no row's sampling
    variance is known or every one is 0 (equal weights).
    """
    v = panel.data["y_sampling_var"].to_numpy(float) / panel.outcome_sd_signal ** 2
    known = np.isfinite(v) & (v >= 0)
    if not known.any() or not v[known].mean() > 0:
        return None
    v = np.where(known, v, v[known].mean())
    beta, *_ = np.linalg.lstsq(xw, yw, rcond=None)
    resid = yw - xw @ beta
    n = len(yw)
    m = within_diagonal(codes)
    dof = n - (int(codes.area.max()) + 1) - (int(codes.time.max()) + 1) + 1 - xw.shape[1]
    sigma2 = (resid @ resid) / max(dof, 1) - (m @ v) / m.sum()
    sigma2 = max(sigma2, min_noise_share * v.mean())
    w = 1.0 / (sigma2 + v)
    return w / w.mean()


def correlation_matrix(cov: np.ndarray) -> np.ndarray:
    """The correlation matrix of a covariance matrix (0 off the diagonal where a variance is 0; 1 on it)."""
    cov = np.atleast_2d(np.asarray(cov, dtype=float))
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(sd, sd)
    corr = np.where(np.outer(sd, sd) > 0, corr, 0.0)
    np.fill_diagonal(corr, 1.0)
    return np.clip(corr, -1.0, 1.0)


def local_covariance(rows: pd.DataFrame, correlation: pd.DataFrame | None) -> pd.DataFrame:
    """The covariance of one outcome's estimates (``COV_COLUMNS``): one row per pair of its estimated
    factors (``factor_a < factor_b``; the variances are ``std_error^2`` of the association rows).

    ``correlation``: the correlation matrix of the joint regression's coefficients (factors as index
    and columns; CR3 / CR1 covariance of the OLS path, the bootstrap draws of the ridge path).
    ``covariance`` is that correlation **scaled by the reported standard errors**
    (``corr_ab * se_a * se_b``): a reported standard error is not always the diagonal of the one
    matrix (a factor scored per wijk keeps the larger of its wijk- and buurt-clustered standard
    errors, ``_ols``; a corrected estimate is rescaled per SD of the signal, which the correlation
    does not change), so the standard errors stay exactly as published and only the correlation
    comes from the matrix. Scaled this way the covariance is positive semi-definite whenever the
    correlation matrix is. Empty without a correlation (nothing estimated)."""
    est = rows[(rows["status"] == "estimated") & rows["std_error"].notna()].sort_values("factor_id")
    if correlation is None or len(est) < 2:
        return _cov_frame([])
    f = est["factor_id"].to_numpy()
    se = est["std_error"].to_numpy(dtype=float)
    corr = correlation.loc[f, f].to_numpy(dtype=float)
    a, b = np.triu_indices(len(f), k=1)
    out = pd.DataFrame({"outcome_indicator_id": est["outcome_indicator_id"].iloc[0],
                        "subgoal_id": est["subgoal_id"].iloc[0], "factor_a": f[a], "factor_b": f[b],
                        "correlation": corr[a, b], "covariance": corr[a, b] * se[a] * se[b]})
    out["method_version"] = METHOD_VERSION
    return _cov_frame(out)


def _cov_frame(rows) -> pd.DataFrame:
    """``COV_COLUMNS`` with float correlation and covariance (also when empty, for the warehouse's types)."""
    out = pd.DataFrame(rows, columns=COV_COLUMNS)
    return out.astype({c: (float if c in ("correlation", "covariance") else object) for c in COV_COLUMNS})


def _no_covariance(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of an outcome without a joint regression, and its (empty) covariance."""
    return rows, local_covariance(rows, None)


def _rows_not_estimable(panel: OutcomePanel, factors: list[str], reason: str, flags: dict[str, list[str]],
                        base: dict) -> list[dict]:
    return [{**base, "factor_id": f, "status": "not_estimable", "reason": reason,
             "flags": ";".join(flags.get(f, []))} for f in factors]


def estimate_outcome(panel: OutcomePanel, config: AssociationConfig | None = None) -> pd.DataFrame:
    """Association rows (``COLUMNS``) for one outcome panel: one row per linked factor."""
    return estimate_outcome_with_covariance(panel, config)[0]


def estimate_outcome_with_covariance(panel: OutcomePanel,
                                     config: AssociationConfig | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``estimate_outcome``'s rows and the covariance of its estimates (``COV_COLUMNS``, ``local_covariance``):
    the estimates of one outcome come from one joint regression, so those of correlated factors are
    correlated."""
    cfg = config or AssociationConfig()
    df = panel.data
    flags = {f: list(panel.factor_flags.get(f, [])) for f in panel.factors}
    base = {
        "outcome_indicator_id": panel.outcome_indicator_id, "subgoal_id": panel.subgoal_id,
        "area_level": panel.area_level, "n_areas": int(df["area_code"].nunique()),
        "n_years": int(df["year"].nunique()), "n_obs": int(len(df)), "n_factors": len(panel.factors),
        "method": None, "note": NOTE, "method_version": METHOD_VERSION,
    }
    rows = [{**base, "factor_id": f, "status": "not_estimable",
             "reason": "no factor score for the outcome's areas and years", "flags": "no_factor_data"}
            for f in panel.missing_factors]
    cols = list(panel.factors)
    if not cols:
        return _no_covariance(_frame(rows))
    thin = []
    if base["n_areas"] < cfg.min_areas:
        thin.append(f"{base['n_areas']} areas (< {cfg.min_areas})")
    if base["n_years"] < cfg.min_years:
        thin.append(f"{base['n_years']} years (< {cfg.min_years})")
    if base["n_obs"] < cfg.min_obs_per_predictor * len(cols):
        thin.append(f"{base['n_obs']} observations for {len(cols)} factors (< {cfg.min_obs_per_predictor} per factor)")
    if thin:
        for f in cols:
            flags[f].append("too_little_data")
        return _no_covariance(_frame(rows + _rows_not_estimable(panel, cols, "too little data: " + ", ".join(thin), flags, base)))

    codes = effect_codes(df["area_code"], df["year"], cfg.min_gemeenten_to_cluster)
    area, year = codes.area, codes.time
    xw = within_transform(df[cols].to_numpy(float), area, year)
    yw = within_transform(df["y"].to_numpy(float), area, year)
    weights = precision_weights(panel, xw, yw, codes, cfg.min_noise_share) if cfg.precision_weights else None
    if weights is not None:  # weighted least squares: weighted within transformation, rows scaled by sqrt(w)
        root = np.sqrt(weights)
        xw = within_transform(df[cols].to_numpy(float), area, year, weights=weights) * root[:, None]
        yw = within_transform(df["y"].to_numpy(float), area, year, weights=weights) * root
    keep, dropped = independent_columns(xw, cols)
    for f, others in dropped.items():
        if others:
            flags[f].append("perfectly_collinear")
            reason = "perfectly collinear (after removing area and year effects) with " + ", ".join(others) + "; dropped"
        else:
            flags[f].append("no_within_variation")
            reason = "no variation within areas over time; dropped"
        rows.append({**base, "factor_id": f, "status": "not_estimable", "reason": reason, "flags": ";".join(flags[f])})
    for f in {o for others in dropped.values() for o in others}:
        flags[f].append("collinear")  # kept partner of a perfectly collinear factor
    cols = [cols[j] for j in keep]
    xw = xw[:, keep]
    if not cols:
        return _no_covariance(_frame(rows))
    n_time = int(year.max()) + 1
    if base["n_obs"] < cfg.min_obs_per_predictor * len(cols) or base["n_obs"] - len(cols) - base["n_areas"] - n_time + 1 < 1:
        for f in cols:
            flags[f].append("too_little_data")
        return _no_covariance(_frame(rows + _rows_not_estimable(panel, cols, "too little data for the remaining factors", flags, base)))
    v = vif(xw)
    max_vif = float(np.max(v))
    cond = condition_number(xw)
    for f, vf in zip(cols, v):
        if vf > cfg.vif_collinear and "collinear" not in flags[f]:
            flags[f].append("collinear")
    wijk_clusters = _wijk_clusters(panel, df, cols, flags, codes)
    min_reliability = factor_thresholds(cfg, codes.n_clusters, len(cols), wijk_clusters)
    use_ridge = cfg.regularisation == "ridge" or (cfg.regularisation == "auto" and max_vif > cfg.vif_collinear)
    if cfg.regularisation not in ("auto", "none", "ridge"):
        raise ValueError(f"regularisation must be 'auto', 'none' or 'ridge', not {cfg.regularisation!r}")
    if use_ridge:
        beta, se, lo, hi, alpha, corr = _ridge(df, cols, xw, yw, codes, cfg, weights)
        reliability = measurement_error_rows(panel.factor_error_var, cols, xw, codes, min_reliability, weights,
                                             panel.factor_error_offdiag)[1]
        method = "ridge_fe_bootstrap"
    else:
        error_rows, reliability = measurement_error_rows(panel.factor_error_var, cols, xw, codes, min_reliability,
                                                         weights, panel.factor_error_offdiag)
        if not cfg.errors_in_variables:
            error_rows = None
        beta, se, dof, corr = _ols(xw, yw, codes, cfg.cluster_se, wijk_clusters, error_rows, weights)
        if error_rows is not None:
            # per SD of the factor's signal rather than of its noisy score: the signal's share of
            # the panel variance of the standardised score is 1 - its mean error variance
            corrected = error_rows.any(axis=0)
            signal = np.sqrt(np.clip(1.0 - panel.factor_error_var.reindex(columns=cols).mean().to_numpy(float), 0.0, 1.0))
            scale = np.where(corrected, signal, 1.0)
            beta, se = beta * scale, se * scale
            for f, c in zip(cols, corrected):
                if c:
                    flags[f].append("corrected_for_measurement_error")
        for f, r, threshold in zip(cols, reliability, min_reliability):
            if cfg.errors_in_variables and np.isfinite(r) and r < threshold:
                flags[f].append("low_reliability")
        t = stats.t.ppf((1 + CI_LEVEL) / 2, df=dof)
        lo, hi = beta - t * se, beta + t * se
        alpha = None
        method = f"ols_fe_{cfg.cluster_se.lower()}"
    for j, f in enumerate(cols):
        rows.append({**base, "factor_id": f, "estimate": float(beta[j]), "std_error": float(se[j]),
                     "ci90_lower": float(lo[j]), "ci90_upper": float(hi[j]), "method": method, "alpha": alpha,
                     "vif": float(v[j]), "max_vif": max_vif, "condition_number": cond,
                     "reliability": float(reliability[j]),
                     "flags": ";".join(flags[f]), "status": "estimated", "reason": None})
    for r in rows:
        r.setdefault("max_vif", max_vif)
        r.setdefault("condition_number", cond)
    out = _frame(rows)
    return out, local_covariance(out, pd.DataFrame(corr, index=cols, columns=cols))


def _frame(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=COLUMNS)
    for c in ("estimate", "std_error", "ci90_lower", "ci90_upper", "alpha", "vif", "max_vif", "condition_number",
              "reliability"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    for c in ("n_areas", "n_years", "n_obs", "n_factors"):
        out[c] = out[c].astype("int64")
    out["flags"] = out["flags"].fillna("")
    return out


def estimate_associations(panels: list[OutcomePanel], config: AssociationConfig | None = None,
                          progress: Callable[[int, int, OutcomePanel], None] | None = None) -> pd.DataFrame:
    """Association rows for every panel (see ``COLUMNS``), sorted by outcome and factor.

    ``progress(index, total, panel)`` is called as each panel starts (the Dagster asset logs it)."""
    return estimate_associations_with_covariance(panels, config, progress)[0]


def estimate_associations_with_covariance(
        panels: list[OutcomePanel], config: AssociationConfig | None = None,
        progress: Callable[[int, int, OutcomePanel], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``estimate_associations``'s rows and the covariance of the estimates within each outcome
    (``COV_COLUMNS``, ``local_covariance``; estimates of different outcomes count as independent),
    sorted by outcome and factor pair. The merge propagates it to the merged effects
    (``merge.merged_covariance``), the ranking's draws take it from there."""
    frames, covs = [], []
    for i, panel in enumerate(panels):
        if progress is not None:
            progress(i, len(panels), panel)
        rows, cov = estimate_outcome_with_covariance(panel, config)
        frames.append(rows)
        covs.append(cov)
    if not frames:
        return _frame([]), _cov_frame([])
    out = pd.concat(frames, ignore_index=True).sort_values(["outcome_indicator_id", "factor_id"]).reset_index(drop=True)
    cov = _cov_frame(pd.concat([c for c in covs if len(c)] or [_cov_frame([])], ignore_index=True))
    cov = cov.sort_values(["outcome_indicator_id", "factor_a", "factor_b"]).reset_index(drop=True)
    return out, cov


def outcomes_without_estimate(result: pd.DataFrame) -> pd.DataFrame:
    """The outcomes for which no factor could be estimated, one row each: outcome_indicator_id,
    area_level, factors (how many were linked) and the (first) reason, sorted by outcome."""
    per = result.groupby("outcome_indicator_id")
    none = per["status"].apply(lambda s: bool((s != "estimated").all()))
    rows = result[result["outcome_indicator_id"].isin(none.index[none])]
    return (rows.groupby("outcome_indicator_id", as_index=False)
            .agg(area_level=("area_level", "first"), factors=("factor_id", "count"), reason=("reason", "first"))
            .sort_values("outcome_indicator_id").reset_index(drop=True))
