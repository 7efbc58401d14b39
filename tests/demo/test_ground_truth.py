"""The planted truth is complete and consistent with the factor model seeds."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from pipelines.demo import seeds
from tests.demo.helpers import read_source


@pytest.fixture(scope="module")
def gt(demo):
    return {name: pd.read_csv(demo.ground_truth_dir / f"{name}.csv", keep_default_na=False)
            for name in ("planted_effects", "planted_chains", "areas", "area_code_changes", "indicator_scales",
                         "latent_factors", "latent_outcomes")}


def test_files_and_readme(demo):
    readme = (demo.ground_truth_dir / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "effect_sd" in readme and "worse" in readme
    for name in ("planted_effects", "planted_chains", "areas", "area_code_changes"):
        assert f"`{name}.csv`" in readme


def test_planted_effects_match_seeds(gt):
    effects = gt["planted_effects"]
    factors, inds = seeds.factor_types(), seeds.indicators()
    assert 25 <= len(effects) <= 40
    assert set(effects.factor_id) <= set(factors)
    for row in effects.itertuples():
        assert inds[row.outcome_indicator_id].measures == "subgoal"
        assert row.subgoal_id == inds[row.outcome_indicator_id].subgoal_id
        assert 0.1 <= abs(row.effect_sd) <= 0.6
    assert not effects.duplicated(["factor_id", "outcome_indicator_id"]).any()


def test_chains_are_five_and_acyclic(gt):
    chains = gt["planted_chains"]
    assert len(chains) == 5
    assert set(chains.from_factor_id) | set(chains.to_factor_id) <= set(seeds.factor_types())
    edges = list(zip(chains.from_factor_id, chains.to_factor_id))
    nodes = {n for e in edges for n in e}
    while nodes:  # Kahn: remove nodes without incoming edges
        free = {n for n in nodes if not any(b == n and a in nodes for a, b in edges)}
        assert free, f"cycle among {nodes}"
        nodes -= free


def test_latent_factors_moderately_correlated_with_within_variation(gt):
    z = gt["latent_factors"].pivot_table(index=["area_code", "year"], columns="factor_id", values="z")
    corr = z.corr().abs().to_numpy()
    corr[range(len(corr)), range(len(corr))] = 0
    assert corr.max() <= 0.7
    within = z - z.groupby(level=0).transform("mean")
    assert (within.var() / z.var()).min() > 0.2


def test_areas_cover_extract_codes(demo, gt):
    areas = gt["areas"].set_index("area_code")
    cbs = read_source(demo.extract_dir, "cbs_kerncijfers")
    for year, code in zip(cbs.jaar, cbs.Codering_3.str.strip()):
        assert areas.loc[code, "valid_from_year"] <= year <= areas.loc[code, "valid_to_year"]
    assert (areas.area_level == "wijk").sum() == 12
    assert 78 <= (areas[areas.valid_to_year == 2024].area_level == "buurt").sum() <= 85


def test_code_changes_appear_in_extracts(demo, gt):
    changes = gt["area_code_changes"]
    assert set(changes.change_type) == {"split", "merge"}
    for source in ("gemeente_registraties", "politie_jeugdverdachten"):
        frame = read_source(demo.extract_dir, source)
        for change in changes.itertuples():
            years_old = set(frame.loc[frame.buurtcode == change.old_code, "jaar"])
            years_new = set(frame.loc[frame.buurtcode == change.new_code, "jaar"])
            assert years_old == set(range(2015, change.year)), (source, change)
            assert years_new == set(range(change.year, 2025)), (source, change)
    split = changes[changes.change_type == "split"]
    assert len(split) == 2 and split.old_code.nunique() == 1 and abs(split.weight.sum() - 1) < 1e-3
    merge = changes[changes.change_type == "merge"]
    assert len(merge) == 2 and merge.new_code.nunique() == 1 and (merge.weight == 1).all()


def test_at_least_40_indicators_computable(demo):
    frames = {s: read_source(demo.extract_dir, s) for s in
              ("cbs_kerncijfers", "gemeente_registraties", "ggd_monitor", "duo_onderwijs", "politie_jeugdverdachten")}
    computable = []
    with (seeds.SEEDS_DIR / "indicators.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        frame = frames[row["source"]]
        if row["source"] == "ggd_monitor":
            frame = frame[frame.indicator_code == row["source_code"]]
        columns = [c for c in (row["numerator_column"], row["value_column"], row["ci_lower_column"], row["ci_upper_column"]) if c]
        den = [c for c in row["denominator_column"].split("+") if c]
        den_frame = frames[row["denominator_source"]] if row["denominator_source"] else frame
        ok = len(frame) > 0 and all(c in frame and frame[c].notna().any() for c in columns)
        ok = ok and all(c in den_frame and den_frame[c].notna().any() for c in den)
        if ok:
            computable.append(row["indicator_id"])
    assert len(computable) >= 40, sorted(set(r["indicator_id"] for r in rows) - set(computable))
    assert len(computable) == len(rows)
