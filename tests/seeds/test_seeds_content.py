"""Content rules of the factor-model seeds, checked with pandas (fast, no dbt): coverage of the
model, labels, the planted factor chains, and that every literature figure is exactly the one in
the shared literature table for its cited row."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from .conftest import EFFECT_SIZES, SEEDS

SEED_FILES = sorted(SEEDS.glob("*.csv"))


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(SEEDS / f"{name}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def model() -> dict[str, pd.DataFrame]:
    return {p.stem: read(p.stem) for p in SEED_FILES}


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_seed_files_are_utf8_with_consistent_line_endings(path) -> None:
    """DuckDB's CSV sniffer rejects a file that mixes CRLF and LF line endings (as happens when a
    row is appended by another tool); all-LF or all-CRLF both load."""
    raw = path.read_bytes()
    raw.decode("utf-8")
    crlf = raw.count(b"\r\n")
    lf = raw.count(b"\n")
    assert crlf in (0, lf), f"{path.name}: {crlf} CRLF and {lf - crlf} LF line endings mixed"


def test_at_least_30_factors_of_both_types(model) -> None:
    f = model["factors"]
    assert len(f) >= 30
    assert set(f.factor_type) == {"risk", "protective"}


def test_every_factor_has_dutch_and_english_label_and_description(model) -> None:
    f = model["factors"]
    for col in ("name_nl", "name_en", "description"):
        empty = f.loc[f[col].str.strip() == "", "factor_id"].tolist()
        assert not empty, f"factors without {col}: {empty}"
    assert f.name_nl.is_unique and f.name_en.is_unique


def test_every_domain_subgoal_life_world_and_life_phase_is_covered(model) -> None:
    links = model["factor_subgoal_links"].merge(model["subgoals"][["subgoal_id", "domain_id"]], on="subgoal_id")
    per_domain = links.groupby("domain_id").factor_id.nunique()
    per_subgoal = links.groupby("subgoal_id").factor_id.nunique()
    per_world = model["factors"].groupby("life_world_id").factor_id.nunique()
    per_phase = model["factor_life_phases"].groupby("life_phase_id").factor_id.nunique()
    for dim, ids, counts in [
        ("domain", model["domains"].domain_id, per_domain),
        ("subgoal", model["subgoals"].subgoal_id, per_subgoal),
        ("life world", model["life_worlds"].life_world_id, per_world),
        ("life phase", model["life_phases"].life_phase_id, per_phase),
    ]:
        for i in ids:
            assert counts.get(i, 0) >= 3, f"{dim} {i} is reached by only {counts.get(i, 0)} factors"


def test_every_factor_has_a_life_phase_and_a_subgoal_link(model) -> None:
    factors = set(model["factors"].factor_id)
    assert factors <= set(model["factor_life_phases"].factor_id)
    assert factors <= set(model["factor_subgoal_links"].factor_id)


PLANTED_CHAINS = [
    ("werkloosheid", "armoede", "increases"),
    ("armoede", "schulden", "increases"),
    ("positief_gezinsklimaat", "sociaal_emotionele_vaardigheden", "increases"),
    ("eenzaamheid", "depressie", "increases"),
    ("schoolverzuim", "schoolsucces", "decreases"),
]


@pytest.mark.parametrize("src,dst,direction", PLANTED_CHAINS)
def test_chains_planted_in_the_demo_data_are_in_the_model(model, src, dst, direction) -> None:
    ff = model["factor_factor_links"]
    hit = ff[(ff.from_factor_id == src) & (ff.to_factor_id == dst)]
    assert len(hit) == 1, f"missing factor link {src} -> {dst}"
    assert hit.effect_direction.iloc[0] == direction


def test_one_literature_weight_per_link(model) -> None:
    assert sorted(model["literature_weights"].link_id) == sorted(model["factor_subgoal_links"].link_id)


def test_placeholders_are_labelled_and_uncited(model) -> None:
    w = model["literature_weights"]
    ph = w[w.is_placeholder == "true"]
    assert set(w.is_placeholder) <= {"true", "false"}
    for col in ("citation", "doi", "url", "source_row"):
        assert (ph[col] == "").all(), f"placeholder rows with a {col}"
    assert ph.conversion_note.str.lower().str.contains("illustrative placeholder, not from a cited study").all()
    assert (ph.evidence_grade == "placeholder").all()


def test_there_are_real_literature_figures(model) -> None:
    w = model["literature_weights"]
    assert (w.is_placeholder == "false").sum() >= 20


def _close(a: float, b: float, tol: float = 5e-4) -> bool:
    return abs(a - b) <= tol


def test_literature_figures_equal_their_cited_source_rows(model) -> None:
    if not EFFECT_SIZES.exists():
        pytest.skip(f"shared literature table not found at {EFFECT_SIZES} (the ../shared folder is absent)")
    src = pd.read_csv(EFFECT_SIZES)
    w = model["literature_weights"]
    real = w[w.is_placeholder == "false"]
    problems = []
    for _, r in real.iterrows():
        i = int(r.source_row)
        if not 1 <= i <= len(src):
            problems.append(f"{r.link_id}: source_row {i} out of range")
            continue
        s = src.iloc[i - 1]  # source_row is the 1-based data row, header not counted
        sign = -1.0 if r.sign_flipped == "true" else 1.0
        checks = {
            "source_factor": r.source_factor == s.factor,
            "source_outcome": r.source_outcome == s.outcome,
            "source_measure": r.source_measure == s.measure,
            "citation": r.citation == s.citation,
            "doi": r.doi == ("" if pd.isna(s.doi) else s.doi),
            "source_estimate": _close(float(r.source_estimate), float(s.estimate), 1e-9),
            "source_ci": _close(float(r.source_ci_low), float(s.ci_low), 1e-9)
            and _close(float(r.source_ci_high), float(s.ci_high), 1e-9),
            "source_smd_approx": _close(float(r.source_smd_approx), float(s.smd_approx), 1e-9),
            "source_se_smd": not pd.isna(s.se_smd) and _close(float(r.source_se_smd), float(s.se_smd), 1e-9),
            "effect_size_d": _close(float(r.effect_size_d), sign * float(s.smd_approx)),
            "se_d": not pd.isna(s.se_smd) and _close(float(r.se_d), float(s.se_smd)),
            "evidence_grade": r.evidence_grade == (s.evidence_grade if isinstance(s.evidence_grade, str) else "ungraded"),
            "ci_95": _close(float(r.ci_lower_d), float(r.effect_size_d) - 1.96 * float(r.se_d), 1e-3)
            and _close(float(r.ci_upper_d), float(r.effect_size_d) + 1.96 * float(r.se_d), 1e-3),
        }
        problems += [f"{r.link_id} (row {i}): {k} differs" for k, ok in checks.items() if not ok]
    assert not problems, "\n".join(problems)


def test_literature_sign_follows_the_project_convention(model) -> None:
    """Positive d = the factor worsens the sub-goal; so worsens-links positive, improves-links negative."""
    w = model["literature_weights"].merge(model["factor_subgoal_links"], on="link_id")
    d = w.effect_size_d.astype(float)
    wrong = w[((w.effect_direction == "worsens") & (d <= 0)) | ((w.effect_direction == "improves") & (d >= 0))]
    assert wrong.empty, wrong.link_id.tolist()
    assert all(math.isfinite(x) and x > 0 for x in w.se_d.astype(float))


def test_every_planted_demo_effect_is_a_link_of_the_model(model) -> None:
    """The demo municipality plants factor -> outcome-indicator effects; the statistics stage can
    only merge a local estimate with the model when the (factor, sub-goal) pair is a link."""
    truth = pytest.importorskip("pipelines.demo.truth", reason="demo generator (pipelines.demo) not available")
    indicators = model["indicators"].set_index("indicator_id")
    links = set(zip(model["factor_subgoal_links"].factor_id, model["factor_subgoal_links"].subgoal_id))
    missing = []
    for factor_id, indicator_id, effect in truth.PLANTED_EFFECTS:
        subgoal_id = indicators.loc[indicator_id, "subgoal_id"]
        if (factor_id, subgoal_id) not in links:
            missing.append(f"{factor_id} -> {subgoal_id} (via {indicator_id}, planted {effect})")
    assert not missing, "\n".join(missing)


def test_planted_demo_chains_match_the_model_chains() -> None:
    truth = pytest.importorskip("pipelines.demo.truth", reason="demo generator (pipelines.demo) not available")
    planted = {(a, b, "increases" if c > 0 else "decreases") for a, b, c in truth.PLANTED_CHAINS}
    assert planted <= set(PLANTED_CHAINS)
