"""Synthetic panels for the unit tests of models_ml (no warehouse needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models_ml.panel import OutcomePanel


def make_panel(n_areas=30, n_years=6, betas=(0.4, -0.2, 0.0), seed=0, drop_frac=0.0,
               factors=None, outcome="out_x", subgoal="sub_x") -> OutcomePanel:
    """An unbalanced-able panel: y = X beta + area effect + year effect + noise, area-clustered noise."""
    rng = np.random.default_rng(seed)
    factors = factors or [f"f{i}" for i in range(len(betas))]
    rows = [(f"A{a:03d}", 2015 + t) for a in range(n_areas) for t in range(n_years)]
    df = pd.DataFrame(rows, columns=["area_code", "year"])
    area = pd.factorize(df["area_code"])[0]
    year = df["year"].to_numpy() - 2015
    x = rng.standard_normal((len(df), len(betas))) + rng.standard_normal((n_areas, len(betas)))[area]
    y = x @ np.asarray(betas) + rng.normal(0, 1, n_areas)[area] + rng.normal(0, 0.3, n_years)[year]
    y += rng.normal(0, 0.5, len(df)) + rng.normal(0, 0.3, n_areas)[area] * (year - 2.5) / 3
    for j, f in enumerate(factors):
        df[f] = x[:, j]
    df["y"] = y
    df["y_link"] = y
    df["y_sampling_var"] = 0.0
    if drop_frac:
        df = df.sample(frac=1 - drop_frac, random_state=seed).sort_index().reset_index(drop=True)
    return OutcomePanel(outcome_indicator_id=outcome, subgoal_id=subgoal, area_level="buurt", link="logit",
                        orientation=1, data=df, factors=list(factors),
                        factor_flags={f: [] for f in factors})
