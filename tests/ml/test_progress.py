"""The ML steps log their progress: which outcome, how far, how long so far; at most about 12 lines."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from models_ml.panel import OutcomePanel
from pipelines.defs.ml.progress import MAX_LINES, outcome_progress


def test_progress_names_the_outcome_and_is_throttled(capfd):
    context = dg.build_asset_context()
    panel = OutcomePanel("reg_jeugdhulp_pct", "zelfstandig", "buurt", "logit", 1, pd.DataFrame({"y": range(800)}), ["armoede"])
    log = outcome_progress(context, "associations")
    for i in range(100):
        log(i, 100, panel)
    out = capfd.readouterr()
    lines = [line.split(" - ")[-1] for line in (out.out + out.err).splitlines() if "associations: outcome" in line]
    assert lines[0].startswith("associations: outcome 1/100 reg_jeugdhulp_pct (buurt, 800 area-years)")
    assert "s so far" in lines[0] and "outcome 100/100" in lines[-1]
    assert MAX_LINES - 2 <= len(lines) <= MAX_LINES + 1
