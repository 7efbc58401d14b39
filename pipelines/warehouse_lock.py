"""One process at a time in the warehouse, enforced by the operating system (an advisory file lock).

Dagster's pool ``warehouse`` (limit 1) orders the steps that use the warehouse, but on the default
SQLite instance storage its slot claim is not atomic: it reads a free slot, then writes its claim,
and SQLite ignores the ``SELECT ... FOR UPDATE`` meant to make that safe. Two runs started at the
same instant can both claim the one slot (``tests/ops/test_concurrency.py`` saw two ingestion
steps overlap for 0.6 s). DuckDB refuses a second process on a file that one process writes
("Conflicting lock"), so overlapping steps fail instead of waiting.

``warehouse_lock`` is the guarantee underneath the pool: an exclusive ``flock`` on
``<warehouse>.lock`` beside the DuckDB file, held for as long as a step uses the warehouse. A
second process waits for it. The OS releases it when the process ends, also when it is killed.
Re-entrant within a process (a step that opens the warehouse twice, nested, does not wait for
itself). POSIX only (``fcntl``), like the serving copy's publish lock.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_SUFFIX = ".lock"
ACQUIRED = "warehouse lock acquired"
RELEASING = "warehouse lock released"

_held: dict[Path, int] = {}  # lock path -> depth, in this process
_guard = threading.Lock()


def lock_path(warehouse_path: Path | str) -> Path:
    return Path(f"{Path(warehouse_path).resolve()}{LOCK_SUFFIX}")


@contextmanager
def warehouse_lock(warehouse_path: Path | str, log: Callable[[str], None] | None = None) -> Iterator[float]:
    """Hold the warehouse's lock; yields the seconds waited for it.

    ``log`` gets a line when the process has to wait, when it holds the lock (``ACQUIRED``) and just
    before it lets go (``RELEASING``), so the windows in a log never overlap between processes.
    An in-memory database (``:memory:``) has nothing to lock.
    """
    if str(warehouse_path) == ":memory:":
        yield 0.0
        return
    path = lock_path(warehouse_path)
    say = log or (lambda message: None)
    with _guard:
        depth = _held.get(path, 0)
        if depth:
            _held[path] = depth + 1
    if depth:  # this process holds it already
        try:
            yield 0.0
        finally:
            with _guard:
                _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        started = time.monotonic()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for {path}: another process is using the warehouse")
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        waited = time.monotonic() - started
        with _guard:
            _held[path] = 1
        say(f"{ACQUIRED} ({path}) after {waited:.2f} s")
        try:
            yield waited
        finally:
            say(RELEASING)
            with _guard:
                del _held[path]
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
