"""The outcome panels of a run, built once for every ML asset of that run that reads them.

``association_local`` and every model asset (``model_linear_fe``, ``model_gradient_boosting``, ...)
estimate on the same outcome panels (``models_ml.panel.build_panels``), from marts that no ML asset
writes. The project's runs execute in one process (``dg.in_process_executor``), so the first of
those assets in a run builds the panels and the others of the same run get a copy: at national scale
a build takes 17-24 s, and a run built them three times (``association_local`` and two models).

The panels are kept for one run (its run id and warehouse) at a time, and each asset gets its own
deep copy, so an estimator that changed a panel's frame could not change another asset's input.
"""

from __future__ import annotations

import copy
import threading
import time

import dagster as dg
import duckdb

from models_ml.panel import OutcomePanel, build_panels

_lock = threading.Lock()
_kept: dict[tuple[str, str], list[OutcomePanel]] = {}


def run_panels(context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, warehouse: str) -> list[OutcomePanel]:
    """The outcome panels of ``warehouse`` for this run: built by the first asset of the run that asks,
    a copy of those for the others. Logs which of the two it was."""
    key = (context.run.run_id, str(warehouse))
    with _lock:
        if key not in _kept:
            started = time.perf_counter()
            panels = build_panels(con)
            _kept.clear()  # one run at a time: the panels of an earlier run are not needed again
            _kept[key] = panels
            context.log.info(f"Outcome panels: {len(panels)} built in {time.perf_counter() - started:.1f} s "
                             "(the other ML assets of this run reuse them)")
        else:
            context.log.info(f"Outcome panels: {len(_kept[key])} reused, built earlier in this run")
        return copy.deepcopy(_kept[key])
