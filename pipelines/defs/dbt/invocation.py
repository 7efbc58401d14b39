"""The folder of each dbt command that a dbt step runs, and the parse it reuses.

dagster-dbt gives every dbt command a folder of its own under ``dbt_project/target``
(``<step>-<run id>-<uuid>``: compiled SQL, ``run_results.json``, ``dbt.log``; 5-12 MB on the demo).

* **Kept: the newest ``KEEP_INVOCATION_FOLDERS`` per step, and those of the last hour.** Nothing
  removed them, so a deployment's project folder grew by every run (1.2 GB after a few hundred runs
  on a developer's machine). After each command, succeeded or failed, the older folders of that
  step are removed (``prune_invocation_folders``).
* **dbt parses the project partially, from the deployment's last parse.** dagster-dbt copies
  ``target/partial_parse.msgpack`` (written by ``make dbt-prepare``) into the new folder, but dbt
  could never use it: it reparses in full when the profile (the warehouse path) or the ``--vars``
  differ from the parse that wrote it, and a deployment's always do. So every dbt command of every
  run parsed the project from scratch (about 10 s where a partial parse takes 4). Now each command's
  new ``partial_parse.msgpack`` is kept in the deployment's data folder (``partial_parse_cache``)
  and put into the next command's folder, with the same profile and vars as it was written for.
  dbt itself checks that nothing it compares changed (files, vars, profile, dbt version) and
  parses in full otherwise.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import dagster as dg

from pipelines.defs.dbt.project import dbt_project

KEEP_INVOCATION_FOLDERS = 10  # per dbt step: the last runs' compiled SQL and logs, for looking into a failure
KEEP_SECONDS = 3600  # and every folder younger than this: another deployment's dbt may be writing it
PARTIAL_PARSE = "partial_parse.msgpack"


def partial_parse_cache(data_dir: Path) -> Path:
    """Where a deployment keeps its last dbt parse (one per data folder: one warehouse, one set of vars)."""
    return Path(data_dir) / "dbt" / PARTIAL_PARSE


def invocation_folder(step: str, run_id: str) -> Path:
    """A new folder for one dbt command, named as dagster-dbt names it, under dbt's target path
    (``DBT_TARGET_PATH``, relative to the dbt project; default ``target``)."""
    base = Path(os.environ.get("DBT_TARGET_PATH", "target"))
    if not base.is_absolute():
        base = Path(dbt_project.project_dir) / base
    return base / f"{step}-{run_id[:7]}-{uuid.uuid4().hex[:7]}"


def start_invocation(context: dg.AssetExecutionContext, data_dir: Path) -> Path:
    """The folder for this step's dbt command, holding the deployment's last parse if there is one."""
    target = invocation_folder(context.op_execution_context.op.name, context.run.run_id)
    target.mkdir(parents=True)
    cache = partial_parse_cache(data_dir)
    if cache.is_file():
        shutil.copy(cache, target / PARTIAL_PARSE)
    return target


def finish_invocation(context: dg.AssetExecutionContext, target: Path, data_dir: Path) -> None:
    """Keep the command's parse for the next one (written whole, then moved into place) and remove
    the step's older folders."""
    parsed = target / PARTIAL_PARSE
    if parsed.is_file():
        cache = partial_parse_cache(data_dir)
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f".{cache.name}.{os.getpid()}")
        shutil.copy(parsed, partial)
        os.replace(partial, cache)
    removed = prune_invocation_folders(target)
    if removed:
        context.log.info(f"removed {len(removed)} older dbt folder(s) of this step from {target.parent} "
                         f"(the newest {KEEP_INVOCATION_FOLDERS} stay)")


def prune_invocation_folders(current: Path, keep: int = KEEP_INVOCATION_FOLDERS,
                             keep_seconds: float = KEEP_SECONDS) -> list[Path]:
    """Remove the older invocation folders of the dbt step whose invocation used ``current``
    (``target/<step>-<run id>-<uuid>``): the ``keep`` newest of that step stay, ``current`` always,
    and so does every folder made less than ``keep_seconds`` ago (one deployment runs one dbt command
    at a time, but deployments or test runs that share the dbt project share its ``target``).
    Returns the folders removed. Other steps' folders and dbt's own files in ``target`` are left alone."""
    step = current.name.rsplit("-", 2)[0]
    if step == current.name or not current.parent.is_dir():
        return []
    mine = [p for p in current.parent.iterdir()
            if p.is_dir() and p != current and p.name.rsplit("-", 2)[0] == step and p.name.count("-") >= 2]
    mine.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    recent = time.time() - keep_seconds
    removed = [p for p in mine[max(keep - 1, 0):] if p.stat().st_mtime < recent]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed
