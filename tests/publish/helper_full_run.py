"""One whole demo pipeline run (every asset, serving_copy last) in its own process:
``python -m tests.publish.helper_full_run DATA_DIR``; prints the run id when it succeeded."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.pipeline.runs import materialize_all, settings_for

if __name__ == "__main__":
    result = materialize_all(settings_for(Path(sys.argv[1])))
    print(result.run_id, flush=True)
