"""Compare association models: cross-validated error per outcome, across areas, and importances.

Every model sees the same data: an outcome panel (models_ml.panel) after the two-way within
transformation (area and year means removed), so that each model explains the same within-area
variation that the default fixed-effects regression explains. Cross-validation holds out whole
areas (GroupKFold over areas): the error says how well a model predicts areas it has not seen.
Importance is permutation importance on the full fit (how much the error grows when one factor's
values are shuffled), the model-agnostic counterpart of a coefficient. Ecological (area-level)
associations, not individual causal effects.

An outcome is compared only where ``fct_association_local`` can estimate it: at least
``associations.MIN_YEARS`` years and ``associations.MIN_OBS_PER_PREDICTOR`` area-years per
factor, and ``MIN_AREAS`` areas for the folds; otherwise every model gets ``not_estimable`` (before
comparison-1.1.0 the default was "estimated" on 60 wijk-years with 15-19 factors, with a
cross-validated R squared of -0.9). ``cv_rmse`` is in SDs of the outcome's signal (the panel's
``y``) and ``cv_r2`` is relative to predicting 0, the within-area mean: below 0, the model predicts
held-out areas worse than that.

A model other than the default that raises while it is fitted or evaluated on an outcome gets
``status = 'failed'`` there (the error goes to ``errors`` for the asset's log), so that one
experimental model does not stop the comparison, the ranking or their publication; the default
model's errors are raised.

Models are fitted with one thread (``threadpool_limits(1)``): the panels are small, and the model
assets of one run share the machine's cores; an OpenMP model (e.g. scikit-learn's histogram
gradient boosting) on several threads was 5x slower on the demo under load (3.3 s vs 17.9 s).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.inspection import permutation_importance
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from models_ml.associations import MIN_OBS_PER_PREDICTOR, MIN_YEARS, NOTE, within_transform
from models_ml.estimators import EstimatorSpec
from models_ml.panel import OutcomePanel

METHOD_VERSION = "comparison-1.1.0"
DEFAULT_MODEL = "linear_fe"
CV_FOLDS = 5
MIN_AREAS = 2 * CV_FOLDS

CV_COLUMNS = ["model", "outcome_indicator_id", "subgoal_id", "area_level", "cv_rmse", "cv_r2", "n_folds",
              "n_areas", "n_obs", "status", "note", "method_version"]
IMPORTANCE_COLUMNS = ["model", "outcome_indicator_id", "subgoal_id", "factor_id", "importance", "importance_sd",
                      "note", "method_version"]


def _within(panel: OutcomePanel) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    data = panel.data.dropna(subset=["y", *panel.factors])
    area = pd.factorize(data["area_code"], sort=True)[0]
    year = pd.factorize(data["year"], sort=True)[0]
    x = within_transform(data[panel.factors].to_numpy(dtype=float), area, year) if panel.factors else np.empty((len(data), 0))
    y = within_transform(data["y"].to_numpy(dtype=float), area, year)
    return x, y, area, list(panel.factors)


def evaluate(spec: EstimatorSpec, panels: list[OutcomePanel], seed: int = 0,
             errors: list[tuple[str, str]] | None = None,
             progress: Callable[[int, int, OutcomePanel], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cross-validated error per outcome and permutation importance per factor, for one model.

    ``errors``: where the (outcome, error) of every outcome on which a model other than the default
    failed is appended (those outcomes get ``status = 'failed'``). ``progress(index, total, panel)``
    is called as each outcome starts (the Dagster asset logs it)."""
    with threadpool_limits(limits=1):
        return _evaluate(spec, panels, seed, [] if errors is None else errors, progress)


def _evaluate(spec: EstimatorSpec, panels: list[OutcomePanel], seed: int, errors: list[tuple[str, str]],
              progress: Callable[[int, int, OutcomePanel], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    cv_rows, imp_rows = [], []
    for i, panel in enumerate(panels):
        if progress is not None:
            progress(i, len(panels), panel)
        usable = panel.data.dropna(subset=["y", *panel.factors])
        if usable.empty:
            cv_rows.append({"model": spec.name, "outcome_indicator_id": panel.outcome_indicator_id,
                            "subgoal_id": panel.subgoal_id, "area_level": panel.area_level, "n_areas": 0,
                            "n_obs": 0, "cv_rmse": None, "cv_r2": None, "n_folds": 0, "status": "not_estimable"})
            continue
        x, y, area, factors = _within(panel)
        base = {"model": spec.name, "outcome_indicator_id": panel.outcome_indicator_id,
                "subgoal_id": panel.subgoal_id, "area_level": panel.area_level,
                "n_areas": int(len(np.unique(area))), "n_obs": int(len(y))}
        too_thin = (base["n_obs"] < MIN_OBS_PER_PREDICTOR * len(factors)
                    or usable["year"].nunique() < MIN_YEARS)
        if not factors or base["n_areas"] < MIN_AREAS or too_thin:
            cv_rows.append({**base, "cv_rmse": None, "cv_r2": None, "n_folds": 0, "status": "not_estimable"})
            continue
        try:
            rmse, r2, imp = _fit_and_score(spec, x, y, area, seed)
        except Exception as exc:  # noqa: BLE001 - an added model's failure is reported, not fatal
            if spec.name == DEFAULT_MODEL:
                raise
            errors.append((panel.outcome_indicator_id, f"{type(exc).__name__}: {exc}"))
            cv_rows.append({**base, "cv_rmse": None, "cv_r2": None, "n_folds": 0, "status": "failed"})
            continue
        cv_rows.append({**base, "cv_rmse": rmse, "cv_r2": r2, "n_folds": CV_FOLDS, "status": "estimated"})
        for j, factor in enumerate(factors):
            imp_rows.append({"model": spec.name, "outcome_indicator_id": panel.outcome_indicator_id,
                             "subgoal_id": panel.subgoal_id, "factor_id": factor,
                             "importance": float(imp.importances_mean[j]), "importance_sd": float(imp.importances_std[j])})
    cv = pd.DataFrame(cv_rows, columns=[c for c in CV_COLUMNS if c not in ("note", "method_version")])
    imp = pd.DataFrame(imp_rows, columns=[c for c in IMPORTANCE_COLUMNS if c not in ("note", "method_version")])
    for df in (cv, imp):
        df["note"], df["method_version"] = NOTE, METHOD_VERSION
    return cv[CV_COLUMNS], imp[IMPORTANCE_COLUMNS]


def _fit_and_score(spec: EstimatorSpec, x: np.ndarray, y: np.ndarray, area: np.ndarray, seed: int):
    """Cross-validated RMSE and R squared (whole areas held out) and permutation importance."""
    pred = np.empty_like(y)
    for train, test in GroupKFold(n_splits=CV_FOLDS).split(x, y, area):
        model = clone(spec.make_estimator()).fit(x[train], y[train])
        pred[test] = model.predict(x[test])
    rmse = float(np.sqrt(np.mean((y - pred) ** 2)))
    r2 = float(1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))
    model = clone(spec.make_estimator()).fit(x, y)
    imp = permutation_importance(model, x, y, n_repeats=3, random_state=seed, scoring="neg_mean_squared_error")
    return rmse, r2, imp


def comparison_table(cv_tables: list[pd.DataFrame], default: str = DEFAULT_MODEL) -> pd.DataFrame:
    """All models' CV errors side by side, with each model's error relative to the default."""
    cv = pd.concat(cv_tables, ignore_index=True)
    ref = cv[cv["model"] == default].set_index("outcome_indicator_id")["cv_rmse"]
    cv["rmse_vs_default"] = cv["cv_rmse"] / cv["outcome_indicator_id"].map(ref)
    cv["is_default"] = cv["model"] == default
    return cv.sort_values(["outcome_indicator_id", "model"]).reset_index(drop=True)


SUMMARY_COLUMNS = ["model", "estimated", "failed", "not_estimable", "common_outcomes", "mean_cv_rmse", "mean_cv_r2",
                   "mean_rmse_vs_default"]


def comparison_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model: how many outcomes it estimated, failed on or could not estimate, and its
    mean errors over the *common* outcomes, those that every model estimated, so that a model that
    failed on the hard outcomes does not look better than the others (means over each model's own
    outcomes compared different sets). Means are None where there is no common outcome."""
    status = table.pivot_table(index="model", columns="status", values="outcome_indicator_id",
                               aggfunc="count", fill_value=0)
    estimated = table[table["status"] == "estimated"]
    n_models = table["model"].nunique()
    per_outcome = estimated.groupby("outcome_indicator_id")["model"].nunique()
    common = per_outcome.index[per_outcome == n_models]
    means = (estimated[estimated["outcome_indicator_id"].isin(common)]
             .groupby("model")[["cv_rmse", "cv_r2", "rmse_vs_default"]].mean())
    rows = []
    for model in sorted(table["model"].unique()):
        row = {"model": model, "common_outcomes": len(common)}
        for st in ("estimated", "failed", "not_estimable"):
            row[st] = int(status.loc[model, st]) if st in status.columns else 0
        for col, out in (("cv_rmse", "mean_cv_rmse"), ("cv_r2", "mean_cv_r2"), ("rmse_vs_default", "mean_rmse_vs_default")):
            value = means[col].get(model) if model in means.index else None
            row[out] = None if value is None or pd.isna(value) else round(float(value), 4)
        rows.append(row)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
