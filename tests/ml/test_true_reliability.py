"""``simulation.true_within_reliability``: the reliability a factor score really has, against the
latent factor of the ground truth (what ``benchmarks/score_reliability.py`` compares with the
pipeline's estimate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml import simulation
from models_ml.associations import effect_codes, within_transform
from models_ml.panel import OutcomePanel


def _world(tmp_path, noise_sd: float, seed: int = 3, n_buurten: int = 40, n_years: int = 6):
    """Latent factors f_exact, f_noisy and f_wijk per buurt and year; a buurt panel whose score of
    f_exact is the latent itself, of f_noisy the latent plus noise, and f_wijk a wijk score."""
    rng = np.random.default_rng(seed)
    buurten = [f"BU9999{b // 4:02d}{b % 4:02d}" for b in range(n_buurten)]
    keys = pd.MultiIndex.from_product([buurten, range(2015, 2015 + n_years)], names=["area_code", "year"])
    area = pd.factorize(keys.get_level_values(0))[0]
    latent = {f: rng.standard_normal(len(keys)) + rng.standard_normal(n_buurten)[area]
              for f in ("f_exact", "f_noisy", "f_wijk")}
    rows = [pd.DataFrame({"area_code": keys.get_level_values(0), "year": keys.get_level_values(1),
                          "factor_id": f, "z": z}) for f, z in latent.items()]
    pd.concat(rows).to_csv(tmp_path / "latent_factors.csv", index=False)
    pd.DataFrame({"area_code": buurten, "parent_code": [f"WK9999{b[6:8]}" for b in buurten]}).to_csv(
        tmp_path / "areas.csv", index=False)
    data = keys.to_frame(index=False)
    data["f_exact"] = latent["f_exact"]
    data["f_noisy"] = latent["f_noisy"] + rng.normal(0, noise_sd, len(keys))
    data["f_wijk"] = rng.standard_normal(len(keys))
    data["y"] = data["y_link"] = rng.standard_normal(len(keys))
    data["y_sampling_var"] = 0.0
    panel = OutcomePanel(outcome_indicator_id="o", subgoal_id="s", area_level="buurt", link="logit", orientation=1,
                         data=data, factors=["f_exact", "f_noisy", "f_wijk"],
                         factor_flags={"f_exact": [], "f_noisy": [], "f_wijk": ["wijk_score_for_buurt"]})
    return panel, latent["f_noisy"]


def test_true_reliability_is_the_within_share_of_the_latent_in_the_score(tmp_path):
    simulation._GT_CACHE.clear()
    panel, latent = _world(tmp_path, noise_sd=0.8)
    out = simulation.true_within_reliability(panel, tmp_path)
    simulation._GT_CACHE.clear()
    assert set(out) == {"f_exact", "f_noisy"}  # the wijk score standing in for buurten is left out
    assert out["f_exact"] == pytest.approx(1.0)
    # within variance of the latent about 1 - 1/6 - 1/40 (+ ...), of the noise 0.64 times the same share
    codes = effect_codes(panel.data["area_code"], panel.data["year"])
    t = within_transform(latent, codes.area, codes.time)
    x = within_transform(panel.data["f_noisy"].to_numpy(float), codes.area, codes.time)
    assert out["f_noisy"] == pytest.approx((x @ t) ** 2 / ((x @ x) * (t @ t)))
    assert 0.5 < out["f_noisy"] < 0.75  # about 1 / (1 + 0.64) = 0.61


def test_a_wijk_panel_has_no_buurt_scores_to_compare(tmp_path):
    simulation._GT_CACHE.clear()
    panel, _ = _world(tmp_path, noise_sd=0.5)
    panel.area_level = "wijk"
    assert simulation.true_within_reliability(panel, tmp_path) == {}
    simulation._GT_CACHE.clear()
