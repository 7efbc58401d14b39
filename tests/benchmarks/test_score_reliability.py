"""``benchmarks/score_reliability.py``: the per-factor table of the pipeline's and the true reliability."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from score_reliability import table  # noqa: E402


def test_the_table_averages_per_factor_and_marks_what_the_correction_covers():
    rows = pd.DataFrame([("o1", "armoede", 0.95, 0.82), ("o2", "armoede", 0.93, 0.80),
                         ("o1", "kindermishandeling", 0.30, 0.28), ("o1", "geboorte", 0.05, 0.10)],
                        columns=["outcome_indicator_id", "factor_id", "pipeline", "true"])
    t = table(rows, min_reliability=0.2)
    assert list(t.index) == ["armoede", "kindermishandeling", "geboorte"]  # largest overstatement first
    assert t.loc["armoede", "pipeline"] == pytest.approx(0.94)
    assert t.loc["armoede", "gap"] == pytest.approx(0.13)
    assert t["corrected"].tolist() == [True, True, False]
