"""``simulation.subgoal_mean_coverage``: whether the merge's standard error of a factor's mean effect
over a sub-goal's outcomes (the outcomes taken as independent, ``merge.combine_outcomes``) holds.
The known-answer test asserts it on the demo; here the measure itself is checked on made-up
estimates whose errors are independent (the standard error holds) or shared by the two outcomes
(it is optimistic by a factor sqrt(2))."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml.simulation import subgoal_mean_coverage

SE = 0.05
TRUE = 0.1


def _results(shared: bool, n_datasets: int = 2000, seed: int = 11) -> pd.DataFrame:
    """Per dataset: factor f on two outcomes of sub-goal s (estimate = truth + error) and on one
    outcome of sub-goal t, which has no mean to check."""
    rng = np.random.default_rng(seed)
    rows = []
    for dataset in range(n_datasets):
        e1 = rng.normal(0, SE)
        e2 = e1 if shared else rng.normal(0, SE)
        for outcome, subgoal, error in (("o1", "s", e1), ("o2", "s", e2), ("o3", "t", rng.normal(0, SE))):
            rows.append({"seed": dataset, "factor_id": "f", "subgoal_id": subgoal, "outcome_indicator_id": outcome,
                         "status": "estimated", "estimate": TRUE + error, "std_error": SE, "true_effect": TRUE})
    return pd.DataFrame(rows)


def test_independent_errors_are_covered_as_the_standard_error_says():
    s = subgoal_mean_coverage(_results(shared=False))
    assert s["subgoal_means"] == 2000  # one mean per dataset: sub-goal t has a single outcome
    assert s["coverage_subgoal_means"] == pytest.approx(0.90, abs=0.02)
    assert s["subgoal_mean_z_sd"] == pytest.approx(1.0, abs=0.05)


def test_errors_shared_by_the_outcomes_show_as_an_optimistic_standard_error():
    s = subgoal_mean_coverage(_results(shared=True))
    assert s["subgoal_mean_z_sd"] == pytest.approx(np.sqrt(2), abs=0.08)
    assert s["coverage_subgoal_means"] < 0.80  # about 0.75: P(|z| < 1.645 / sqrt 2)


def test_a_pair_that_is_not_estimated_is_left_out_of_the_mean():
    results = _results(shared=False, n_datasets=50)
    results.loc[results["outcome_indicator_id"] == "o2", ["status", "estimate"]] = ["not_estimable", np.nan]
    assert subgoal_mean_coverage(results)["subgoal_means"] == 0
