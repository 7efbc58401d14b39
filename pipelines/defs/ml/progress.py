"""Progress of the ML steps in the Dagster log: which outcome, how far, how long so far."""

from __future__ import annotations

import time
from collections.abc import Callable

import dagster as dg

from models_ml.panel import OutcomePanel

MAX_LINES = 12  # per step: about every twelfth outcome, and the first and the last


def outcome_progress(context: dg.AssetExecutionContext, what: str) -> Callable[[int, int, OutcomePanel], None]:
    """A ``progress(index, total, panel)`` callback for ``models_ml`` that logs at most about
    ``MAX_LINES`` lines: '<what>: outcome 7/23 reg_jeugdhulp_pct (buurt, 800 area-years), 2.1 s so far'."""
    start = time.perf_counter()

    def log(index: int, total: int, panel: OutcomePanel) -> None:
        every = max(1, -(-total // MAX_LINES))  # ceil: at most MAX_LINES lines, plus the last
        if index % every and index != total - 1:
            return
        context.log.info(f"{what}: outcome {index + 1}/{total} {panel.outcome_indicator_id} ({panel.area_level}, "
                         f"{len(panel.data):,} area-years), {time.perf_counter() - start:.1f} s so far")

    return log
