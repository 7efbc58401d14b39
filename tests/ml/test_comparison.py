"""Model comparison: every estimator is evaluated the same way, and empty panels are not estimable."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models_ml.comparison import comparison_table, evaluate
from models_ml.estimators import discover
from models_ml.panel import OutcomePanel


def _panel(n_areas: int = 20, n_years: int = 6, beta: float = 0.8, seed: int = 1) -> OutcomePanel:
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_areas):
        alpha = rng.normal()
        for t in range(n_years):
            f = rng.normal()
            rows.append({"area_code": f"BU{a:08d}", "year": 2015 + t, "f1": f, "f2": rng.normal(),
                         "y": alpha + 0.1 * t + beta * f + 0.3 * rng.normal()})
    return OutcomePanel("out", "gezond_mentaal", "buurt", "logit", 1, pd.DataFrame(rows), ["f1", "f2"])


def test_every_model_gets_a_cross_validated_error_and_the_default_is_the_yardstick():
    specs = discover()
    assert {"linear_fe", "gradient_boosting"} <= {s.name for s in specs}
    tables = [evaluate(s, [_panel()])[0] for s in specs]
    table = comparison_table(tables)
    linear = table[table["model"] == "linear_fe"].iloc[0]
    assert linear["status"] == "estimated" and linear["rmse_vs_default"] == 1.0 and linear["is_default"]
    assert linear["cv_r2"] > 0.5  # a strong linear signal is predicted in held-out areas
    _, importance = evaluate(next(s for s in specs if s.name == "linear_fe"), [_panel()])
    imp = importance.set_index("factor_id")["importance"]
    assert imp["f1"] > 10 * max(imp["f2"], 1e-6)


def test_too_few_area_years_per_factor_is_not_estimable_for_every_model():
    """The rule of the associations: 12 wijken x 5 years = 60 area-years for 15 factors (< 5 each)."""
    panel = _panel(n_areas=12, n_years=5)
    rng = np.random.default_rng(2)
    extra = [f"g{i}" for i in range(13)]
    data = panel.data.assign(**{f: rng.normal(size=len(panel.data)) for f in extra})
    wide = OutcomePanel("out", "gezond_mentaal", "wijk", "logit", 1, data, ["f1", "f2", *extra])
    for spec in discover():
        cv, importance = evaluate(spec, [wide, panel])
        assert list(cv["status"]) == ["not_estimable", "estimated"] and cv["cv_rmse"].isna().tolist() == [True, False]


def test_an_empty_panel_is_not_estimable_for_every_model():
    empty = OutcomePanel("out", "s", "wijk", "logit", 1, pd.DataFrame(columns=["area_code", "year", "y", "f1"]), ["f1"])
    for spec in discover():
        cv, importance = evaluate(spec, [empty])
        assert list(cv["status"]) == ["not_estimable"] and importance.empty


def test_the_summary_compares_models_on_the_outcomes_every_model_estimated():
    """A model that failed on the hard outcome must not look better than the default: the means
    are over the common outcomes, and the counts say what each model estimated."""
    from models_ml.comparison import comparison_summary

    rows = [
        ("linear_fe", "easy", 0.5, 0.3, "estimated"), ("linear_fe", "hard", 1.5, -0.1, "estimated"),
        ("linear_fe", "thin", None, None, "not_estimable"),
        ("flaky", "easy", 0.4, 0.4, "estimated"), ("flaky", "hard", None, None, "failed"),
        ("flaky", "thin", None, None, "not_estimable"),
    ]
    table = comparison_table([pd.DataFrame([dict(zip(["model", "outcome_indicator_id", "cv_rmse", "cv_r2", "status"], r))
                                            for r in rows if r[0] == m]) for m in ("linear_fe", "flaky")])
    summary = comparison_summary(table).set_index("model")
    assert summary.loc["flaky", ["estimated", "failed", "not_estimable"]].tolist() == [1, 1, 1]
    assert summary.loc["linear_fe", ["estimated", "failed", "not_estimable"]].tolist() == [2, 0, 1]
    assert (summary["common_outcomes"] == 1).all()
    # over each model's own outcomes linear_fe would average 1.0 against flaky's 0.4
    assert summary.loc["linear_fe", "mean_cv_rmse"] == 0.5 and summary.loc["flaky", "mean_cv_rmse"] == 0.4
    assert summary.loc["flaky", "mean_rmse_vs_default"] == 0.8 and summary.loc["linear_fe", "mean_rmse_vs_default"] == 1.0


def test_the_tables_of_a_removed_model_are_found_for_dropping():
    """After a module is removed, model_comparison drops its ml.model_<NAME>_cv / _importance tables
    (found on a real DuckDB warehouse); the current models' tables and the comparison stay."""
    import duckdb

    from models_ml.estimators import EstimatorSpec
    from pipelines.defs.ml.models import stale_model_tables

    con = duckdb.connect()
    con.execute("create schema ml")
    for table in ("model_linear_fe_cv", "model_linear_fe_importance", "model_knn_cv", "model_knn_importance",
                  "model_comparison", "association_local"):
        con.execute(f"create table ml.{table} (x integer)")
    current = [EstimatorSpec(name="linear_fe", description="", module="m", path="p", make_estimator=lambda: None)]
    assert stale_model_tables(con, current) == ["model_knn_cv", "model_knn_importance"]
