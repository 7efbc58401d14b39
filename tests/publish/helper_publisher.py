"""Run one publish in this process and stop dead at a step: ``python -m tests.publish.helper_publisher
WAREHOUSE SERVING RUN_ID STEP MARKER``. At STEP it writes MARKER and sleeps, waiting to be killed
(STEP ``none`` publishes to the end)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pipelines.publish import publish_marts


def main(warehouse: str, serving: str, run_id: str, stop_at: str, marker: str) -> None:
    def hook(step: str) -> None:
        if step == stop_at:
            Path(marker).write_text(step)
            time.sleep(600)

    publish_marts(warehouse, serving, run_id, step_hook=hook)


if __name__ == "__main__":
    main(*sys.argv[1:6])
