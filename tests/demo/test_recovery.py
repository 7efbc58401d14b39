"""A two-way fixed-effects regression of observed buurt outcomes on the planted latent factors
recovers the sign of the planted effects (the extracts carry within-area signal)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.demo.helpers import read_source

# outcome indicator -> (source, numerator, denominator); all buurt-level counts
OUTCOMES = {
    "reg_jeugdhulp_pct": ("gemeente_registraties", "jeugdigen_met_jeugdhulp", "inwoners_0_17"),
    "reg_jeugdhulp_verblijf_per_1000": ("gemeente_registraties", "jeugdigen_met_jeugdhulp_met_verblijf", "inwoners_0_17"),
    "reg_bijstand_jongeren_pct": ("gemeente_registraties", "bijstand_18_26", "inwoners_18_26"),
    "pol_verdachten_12_17_per_1000": ("politie_jeugdverdachten", "verdachten_12_17", None),
}


def _demean(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame - frame.groupby(level=0).transform("mean")
    return out - out.groupby(level=1).transform("mean")


@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
def test_fixed_effects_regression_recovers_sign_of_largest_effect(demo, outcome):
    source, numerator, denominator = OUTCOMES[outcome]
    reg = read_source(demo.extract_dir, "gemeente_registraties").set_index(["buurtcode", "jaar"])
    data = read_source(demo.extract_dir, source).set_index(["buurtcode", "jaar"])
    latent = pd.read_csv(demo.ground_truth_dir / "latent_factors.csv")
    z = latent.pivot_table(index=["area_code", "year"], columns="factor_id", values="z")
    z.index.names = ["buurtcode", "jaar"]
    effects = pd.read_csv(demo.ground_truth_dir / "planted_effects.csv")
    effects = effects[effects.outcome_indicator_id == outcome]
    den = reg[denominator] if denominator else reg["inwoners_12_17"]
    frame = pd.DataFrame({"y": np.log((data[numerator] + 0.5) / den)}).join(z[list(effects.factor_id)])
    n_years = frame.index.get_level_values(1).nunique()
    frame = frame.groupby(level=0).filter(lambda g: len(g) == n_years)  # balanced: codes valid all years
    demeaned = _demean(frame)
    beta = np.linalg.lstsq(demeaned[list(effects.factor_id)].to_numpy(), demeaned["y"].to_numpy(), rcond=None)[0]
    # all four outcomes are higher_is_worse, so a positive effect_sd raises the rate
    largest = int(np.argmax(np.abs(effects.effect_sd.to_numpy())))
    assert np.sign(beta[largest]) == np.sign(effects.effect_sd.iloc[largest]), dict(zip(effects.factor_id, beta))
