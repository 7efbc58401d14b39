"""Strength of the factor -> factor links (the chains), estimated from the local panel.

The factor model's ``factor_factor_links`` say which factor drives which, and in which direction;
their strength is estimated here as a standardised within-area coefficient: the two-way fixed
effects (area and year) regression of the downstream factor's score on the upstream factor's
score, both standardised over the panel, with a cluster-robust standard error by area from the
cluster jackknife (CR3, as the associations: chains estimated at wijk level rest on 12 wijken in
the demo, where CR1 came out 8-23% smaller, too small for so few clusters). A panel of several
gemeenten gets gemeente x year effects instead of year effects and, from 20 gemeenten on,
standard errors clustered by gemeente (``associations.effect_codes``).
Estimated at the area level where both factors have scores for the most area-years (buurt, else
wijk). A link without local data keeps its direction with a weak prior strength (``PRIOR_STRENGTH``
+/- ``PRIOR_SE``), labelled ``prior``.

**Errors in variables** (chains-1.3.0, as the associations): given the factor scores' sampling error
variances (``panel.factor_score_error_variance``), the upstream score's error is corrected for
where its within-area reliability is at least ``MIN_RELIABILITY`` (0.7; it would pull the
strength towards 0), and the strength is per SD of both scores' *signal* (the downstream score's
noise inflates its SD; only where that signal is at least the same share of its variance: a score
that is mostly noise, such as low birth weight per buurt with 23 births a year, would have its
strength multiplied by up to 3 on an uncertain signal SD, so it is left as estimated). On 20
known-answer datasets the two buurt-level planted chains (werkloosheid -> armoede, armoede ->
schulden, 0.5 each) came out at 0.44 and 0.43 before, their 90% intervals covering the planted
value in about half the datasets.

**Parents held fixed** (chains-1.4.0): a factor with several upstream factors in the model (armoede:
werkloosheid, arbeidsparticipatie, laag_opleidingsniveau_ouders) is regressed on all of them at
once (``estimate_parents``), so each strength is the *direct* effect the ranking's path algebra
``(I - B)^-1`` assumes; one link at a time, correlated parents each took in the others' part, and
the paths through the downstream factor were counted once per parent. The joint regression uses
the level where the downstream factor and the most parents have scores (then the most rows);
``adjusted_for`` names the parents held fixed. A parent without scores at that level, or exactly
collinear with the others there, is estimated alone as before (``adjusted_for`` empty).

**Covariance** (chains-1.5.0): the strengths of the links into one factor estimated in its joint
regression are correlated (correlated parents trade off); ``estimate_chains_with_covariance``
returns their covariance (``joint_covariance``: the regression's correlation scaled by the
reported standard errors; ``ml.chain_strength_cov``), and the ranking draws them jointly. Links
estimated alone or at the prior are independent.

**Association scores** (chains-1.6.0): the scores regressed are the associations' own
(``load_scores``: ``association_scores``, each indicator on its link scale where its counts allow),
so that a strength and the effects it multiplies in the ranking are per SD of the same scores; on
the 50 known-answer datasets the planted chains' 90% intervals covered 0.864 instead of 0.852.

Like every local estimate these are ecological associations, not causal effects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from models_ml.associations import (
    NOTE, cluster_robust_cov, correlation_matrix, effect_codes, independent_columns,
    measurement_error_rows, within_transform,
)
from models_ml.panel import area_year_positions, values_at

METHOD_VERSION = "chains-1.6.0"  # 1.6.0: on the association scores (load_scores)
PRIOR_STRENGTH = 0.2
PRIOR_SE = 0.15
MIN_AREAS = 8
MIN_YEARS = 3
MIN_RELIABILITY = 0.7  # the upstream score's error is corrected, the downstream score rescaled, from this reliability on

COLUMNS = [
    "link_id", "from_factor_id", "to_factor_id", "effect_direction", "coefficient", "std_error",
    "area_level", "n_areas", "n_obs", "adjusted_for", "source", "note", "method_version",
]
COV_COLUMNS = ["to_factor_id", "factor_a", "factor_b", "correlation", "covariance", "method_version"]
"""The covariance of the strengths of two links into one factor from its joint regression on its
parents (``estimate_chains_with_covariance``; table ``ml.chain_strength_cov``)."""


def _wide_by_level(scores: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per area level, the scores as an (area_code, year) x factor table (a duplicate averaged):
    pivoted once, not per link; a link's panel is its columns' complete rows (``_panel``)."""
    return {level: part.pivot_table(index=["area_code", "year"], columns="factor_id", values="score")
            for level, part in scores.groupby("area_level", sort=False)}


def _errors_by_level_and_factor(errors: pd.DataFrame | None) -> dict[tuple[str, str], pd.Series] | None:
    """The error variances of every (area level, factor), indexed by (area_code, year): split once."""
    if errors is None:
        return None
    return {key: part.set_index(["area_code", "year"])["error_var"]
            for key, part in errors.groupby(["area_level", "factor_id"], sort=False)}


def _error_variances(errors: dict | None, level: str, wide: pd.DataFrame, factor_id: str,
                     variance: float) -> np.ndarray | None:
    """The sampling error variance of ``factor_id``'s score in every row of ``wide`` (area_code, year),
    divided by the score's panel ``variance``; None without ``errors``, NaN where unknown."""
    if errors is None:
        return None
    lookup = errors.get((level, factor_id))
    if lookup is None:
        return np.full(len(wide), np.nan)
    return values_at(lookup.to_numpy(), area_year_positions(lookup.index, wide["area_code"], wide["year"])) / variance


def _panel(parts: dict, level: str, to_id: str, parents: list[str]) -> tuple[pd.DataFrame, list[str]] | None:
    """The (area, year) rows where ``to_id`` and the parents that have scores at ``level`` all have one
    (``parts``: ``_wide_by_level``); None when too few areas or years (``MIN_AREAS``, ``MIN_YEARS``) or
    no parent has scores there."""
    scores = parts.get(level)
    if scores is None:
        return None
    present = [f for f in parents if f in scores and f != to_id]
    if to_id not in scores or not present:
        return None
    wide = scores[[*present, to_id]].dropna().reset_index()
    if wide["area_code"].nunique() < MIN_AREAS or wide["year"].nunique() < MIN_YEARS:
        return None
    return wide, present


def _fit(wide: pd.DataFrame, level: str, to_id: str, parents: list[str], errors: dict | None) -> dict[str, dict]:
    """The standardised two-way FE regression of ``to_id`` on ``parents`` (errors in variables where
    the scores' error variances are known), per parent: coefficient, std_error and the panel's size."""
    codes = effect_codes(wide["area_code"], wide["year"])  # gemeente x year effects when several gemeenten
    area, year = codes.area, codes.time
    x = ((wide[parents] - wide[parents].mean()) / wide[parents].std(ddof=0)).to_numpy()
    y = (wide[to_id] - wide[to_id].mean()) / wide[to_id].std(ddof=0)
    xw = within_transform(x, area, year).reshape(len(wide), len(parents))
    yw = within_transform(y.to_numpy(), area, year)
    error_rows, error_x = None, {}
    if errors is not None:
        error_x = {f: _error_variances(errors, level, wide, f, float(wide[f].var(ddof=0))) for f in parents}
        error_rows, _ = measurement_error_rows(pd.DataFrame(error_x), parents, xw, codes, MIN_RELIABILITY)
    s_total = np.diag(error_rows.sum(axis=0)) if error_rows is not None else 0.0
    beta = np.linalg.solve(xw.T @ xw - s_total, xw.T @ yw)
    cov = cluster_robust_cov(xw, yw - xw @ beta, codes.cluster, "CR3", area=area, time=year,
                             error_rows=error_rows, beta=None if error_rows is None else beta)
    scale = np.ones(len(parents))
    if error_rows is not None:  # per SD of each corrected upstream score's signal
        corrected = error_rows.any(axis=0)
        signal = np.array([np.sqrt(max(1.0 - float(np.mean(error_x[f])), 0.0)) for f in parents])
        scale = np.where(corrected, signal, 1.0)
    error_y = _error_variances(errors, level, wide, to_id, float(wide[to_id].var(ddof=0)))
    signal_y = 1.0 - float(np.mean(error_y)) if error_y is not None and np.isfinite(error_y).all() else 0.0
    if signal_y >= MIN_RELIABILITY:  # in SDs of the downstream score's signal, if it is mostly signal
        scale = scale / np.sqrt(signal_y)
    se = np.sqrt(np.diag(cov))
    corr = correlation_matrix(cov)  # the scale per parent changes the covariance, not the correlation
    return {f: {"coefficient": float(beta[j] * scale[j]), "std_error": float(se[j] * scale[j]), "area_level": level,
                "n_areas": int(wide["area_code"].nunique()), "n_obs": int(len(wide)),
                "adjusted_for": ";".join(p for p in parents if p != f),
                "correlation": {p: float(corr[j, i]) for i, p in enumerate(parents) if p != f}}
            for j, f in enumerate(parents)}


def estimate_parents(scores: pd.DataFrame, to_id: str, parents: list[str], *, parts: dict | None = None,
                     errors: pd.DataFrame | dict | None = None) -> dict[str, dict]:
    """The strengths of the links from ``parents`` to ``to_id``, estimated together (module docstring:
    "Parents held fixed"); a parent missing from the returned dict is estimated alone
    (``estimate_link``) or keeps the prior."""
    parts = _wide_by_level(scores) if parts is None else parts
    if isinstance(errors, pd.DataFrame):
        errors = _errors_by_level_and_factor(errors)
    best = None
    for level in ("buurt", "wijk"):
        panel = _panel(parts, level, to_id, parents)
        if panel is not None and (best is None or (len(panel[1]), len(panel[0])) > (len(best[2]), len(best[1]))):
            best = (level, *panel)
    if best is None or len(best[2]) < 2:
        return {}
    level, wide, present = best
    codes = effect_codes(wide["area_code"], wide["year"])
    x = ((wide[present] - wide[present].mean()) / wide[present].std(ddof=0)).to_numpy()
    xw = within_transform(x, codes.area, codes.time).reshape(len(wide), len(present))
    keep, _ = independent_columns(xw, present)
    kept = [present[j] for j in keep]
    if len(kept) < 2 or not np.isfinite(xw).all():
        return {}
    return _fit(wide, level, to_id, kept, errors)


def estimate_link(scores: pd.DataFrame, from_id: str, to_id: str, *, parts: dict | None = None,
                  errors: pd.DataFrame | dict | None = None) -> dict | None:
    """Standardised FE coefficient of ``to`` on ``from`` alone; None when too little data at every level.

    ``parts``: ``scores`` pivoted per area level (``_wide_by_level``), to estimate many links
    without pivoting the scores for each. ``errors``: the scores' sampling error
    variances (``panel.factor_score_error_variance``, or split by ``_errors_by_level_and_factor``);
    with them the strength is corrected for errors in variables (module docstring)."""
    parts = _wide_by_level(scores) if parts is None else parts
    if isinstance(errors, pd.DataFrame):
        errors = _errors_by_level_and_factor(errors)
    best = None
    for level in ("buurt", "wijk"):
        panel = _panel(parts, level, to_id, [from_id])
        if panel is not None and (best is None or len(panel[0]) > len(best[1])):
            best = (level, panel[0])
    if best is None:
        return None
    level, wide = best
    codes = effect_codes(wide["area_code"], wide["year"])
    x = (wide[from_id] - wide[from_id].mean()) / wide[from_id].std(ddof=0)
    xw = within_transform(x.to_numpy(), codes.area, codes.time)
    if not np.isfinite(xw).all() or float(xw @ xw) < 1e-12:
        return None
    return _fit(wide, level, to_id, [from_id], errors)[from_id]


def against_direction(chains: pd.DataFrame, clearly: bool = False) -> pd.DataFrame:
    """The local chain strengths whose sign contradicts the link's ``effect_direction`` (data that
    disagree with the factor model); kept as estimated, reported by the asset. ``clearly``: only
    those whose 90% interval (t with areas - 1 df, like the associations) lies wholly on the other
    side of 0; the others are compatible with the direction."""
    sign = np.where(chains["effect_direction"] == "increases", 1.0, -1.0)
    against = (chains["source"] == "local") & (chains["coefficient"] * sign < 0)
    if clearly:
        t = stats.t.ppf(0.95, np.maximum(chains["n_areas"].fillna(2).to_numpy(dtype=float) - 1, 1))
        against &= (chains["coefficient"] * -sign) > t * chains["std_error"]
    return chains[against]


def load_scores(con, link_scale: bool = True) -> pd.DataFrame:
    """The factor scores the chains regress on, with their sampling error variances (column
    ``error_var``; pass the frame as both ``scores`` and ``errors``): the association scores
    (``association_scores.load_association_scores``: indicators on their link scale where their counts
    allow), as the associations' (since chains-1.6.0; ``link_scale=False``: ``int_factor_score``'s)."""
    from models_ml.association_scores import load_association_scores

    return load_association_scores(con, link_scale=link_scale)


def load_links(con) -> pd.DataFrame:
    """The factor model's factor -> factor links (``factor_model.factor_factor_links``), in link_id order."""
    return con.execute("select * from factor_model.factor_factor_links order by link_id").df()


def estimate_from_warehouse(con) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pipeline's chains: every link of the factor model (``load_links``) estimated on the
    association scores, corrected with their error variances (``load_scores``);
    ``estimate_chains_with_covariance``'s rows and covariance."""
    scores = load_scores(con)
    return estimate_chains_with_covariance(load_links(con), scores, scores)


def estimate_chains(links: pd.DataFrame, scores: pd.DataFrame, errors: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per factor -> factor link: local strength where the panel allows it, else the prior.

    ``links``: link_id, from_factor_id, to_factor_id, effect_direction (increases | decreases).
    ``scores``: area_code, area_level, year, factor_id, score (the pipeline: ``load_scores``).
    ``errors``: the scores' sampling error variances (column ``error_var``; ``load_scores`` has them,
    ``panel.factor_score_error_variance`` computes them for ``int_factor_score``): corrected for
    errors in variables; without them, plain OLS.
    """
    return estimate_chains_with_covariance(links, scores, errors)[0]


def joint_covariance(joint: dict[str, dict[str, dict]]) -> pd.DataFrame:
    """``COV_COLUMNS`` rows of the joint parent regressions (``estimate_parents`` per downstream
    factor): per pair of parents ``factor_a < factor_b`` estimated together, their correlation and
    covariance (the correlation times the two reported standard errors; the strengths of links
    estimated alone or at the prior are independent)."""
    rows = [{"to_factor_id": to, "factor_a": a, "factor_b": b, "correlation": fit[a]["correlation"][b],
             "covariance": fit[a]["correlation"][b] * fit[a]["std_error"] * fit[b]["std_error"]}
            for to, fit in joint.items() for a in sorted(fit) for b in sorted(fit) if a < b]
    out = pd.DataFrame(rows, columns=[c for c in COV_COLUMNS if c != "method_version"])
    out["method_version"] = METHOD_VERSION
    out = out.astype({c: (float if c in ("correlation", "covariance") else object) for c in COV_COLUMNS})
    return out.sort_values(["to_factor_id", "factor_a", "factor_b"]).reset_index(drop=True)


def estimate_chains_with_covariance(links: pd.DataFrame, scores: pd.DataFrame,
                                    errors: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``estimate_chains``'s rows and the covariance of the strengths estimated in one joint
    regression (``joint_covariance``): the ranking draws those together."""
    rows = []
    parts = _wide_by_level(scores)
    errors = _errors_by_level_and_factor(errors)
    joint = {to: estimate_parents(scores, to, list(dict.fromkeys(group["from_factor_id"])), parts=parts, errors=errors)
             for to, group in links.groupby("to_factor_id", sort=False) if group["from_factor_id"].nunique() > 1}
    for link in links.itertuples(index=False):
        sign = 1.0 if link.effect_direction == "increases" else -1.0
        local = joint.get(link.to_factor_id, {}).get(link.from_factor_id)
        if local is None:
            local = estimate_link(scores, link.from_factor_id, link.to_factor_id, parts=parts, errors=errors)
        row = {"link_id": link.link_id, "from_factor_id": link.from_factor_id,
               "to_factor_id": link.to_factor_id, "effect_direction": link.effect_direction}
        if local is None:
            row.update(coefficient=sign * PRIOR_STRENGTH, std_error=PRIOR_SE, area_level=None,
                       n_areas=0, n_obs=0, adjusted_for="", source="prior")
        else:
            row.update({"adjusted_for": "", **{k: v for k, v in local.items() if k != "correlation"}}, source="local")
        rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("note", "method_version")])
    out["note"], out["method_version"] = NOTE, METHOD_VERSION
    return out[COLUMNS], joint_covariance(joint)
