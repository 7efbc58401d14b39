"""A BI-like reader in its own process:
``python -m tests.publish.helper_reader SERVING STOP_FILE OUT [PAUSE_SECONDS [IDLE_PAUSE_SECONDS]]``.

Until STOP_FILE exists (and at least MIN_QUERIES times), it opens the serving copy read-only the way
a BI tool does, reads every mart's row count, the release's own record of them and the version
column, and records each answer (or error) in OUT as JSON. Half of the rounds read the DuckDB file
through ``current/``, the other half the Parquet files of the release ``current`` resolves to.

It pauses PAUSE_SECONDS between reads; with IDLE_PAUSE_SECONDS, that longer pause until a publish
begins (the serving copy's ``releases/`` gains an entry: a release being written), then
PAUSE_SECONDS. A whole pipeline run writes the serving copy only in its last second or so, and a
read costs about 60 ms of CPU: reading every 20 ms through the two minutes before it kept a core
busy while answering the same release again and again.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import duckdb

MIN_QUERIES = 200


def read_database(serving: Path) -> dict:
    with duckdb.connect(str(serving / "current" / "factorenmodel.duckdb"), read_only=True) as con:
        (run_id,) = con.execute("select run_id from meta.release").fetchone()
        recorded = dict(con.execute("select table_name, row_count from meta.tables").fetchall())
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
        counts = {t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0] for t in tables}
        versioned = [t for (t,) in con.execute(
            "select table_name from duckdb_columns() where schema_name = 'marts' and column_name = 'version'"
        ).fetchall()]
        versions = sorted({v for t in versioned
                           for (v,) in con.execute(f'select distinct version from marts."{t}"').fetchall()})
    return {"via": "duckdb", "run_id": run_id, "recorded": recorded, "counts": counts, "versions": versions}


def read_parquet(serving: Path) -> dict:
    release = Path(os.path.realpath(serving / "current"))  # resolve once: every file of one release
    manifest = json.loads((release / "manifest.json").read_text())
    with duckdb.connect() as con:
        counts = {p.stem: con.execute(f"select count(*) from read_parquet('{p}')").fetchone()[0]
                  for p in sorted((release / "parquet").glob("*.parquet"))}
        versions = sorted({v for p in (release / "parquet").glob("*.parquet")
                           if "version" in [c[0] for c in con.execute(f"describe select * from read_parquet('{p}')").fetchall()]
                           for (v,) in con.execute(f"select distinct version from read_parquet('{p}')").fetchall()})
    recorded = {name: t["rows"] for name, t in manifest["tables"].items()}
    return {"via": "parquet", "run_id": manifest["run_id"], "recorded": recorded, "counts": counts,
            "versions": versions}


def _releases(serving: Path) -> set[str]:
    try:
        return set(os.listdir(serving / "releases"))
    except FileNotFoundError:
        return set()


def main(serving: str, stop_file: str, out: str, pause: str = "0", idle_pause: str | None = None) -> None:
    serving_dir, stop = Path(serving), Path(stop_file)
    answers = []
    before = _releases(serving_dir)
    publishing = idle_pause is None
    while len(answers) < MIN_QUERIES or not stop.exists():
        started = time.monotonic()
        try:
            answer = (read_database if len(answers) % 2 == 0 else read_parquet)(serving_dir)
        except Exception:  # every error counts, whatever its type
            answer = {"error": traceback.format_exc()}
        answer["seconds"] = time.monotonic() - started
        answer["publishing"] = publishing
        answers.append(answer)
        publishing = publishing or not _releases(serving_dir) <= before
        time.sleep(float(pause if publishing else idle_pause))
    Path(out).write_text(json.dumps(answers))


if __name__ == "__main__":
    main(*sys.argv[1:6])
