"""The warehouse lock: a second process waits until the first lets go; re-entrant in one process."""

from __future__ import annotations

import multiprocessing as mp
import time

from pipelines.warehouse_lock import ACQUIRED, RELEASING, lock_path, warehouse_lock


HOLD_SECONDS = 1.5  # how long the first holds on after the second starts trying: ample even on a loaded machine


def _first(warehouse: str, second_is_trying, times) -> None:
    with warehouse_lock(warehouse):
        times.put(("first holds", time.time()))
        second_is_trying.wait(60)
        time.sleep(HOLD_SECONDS)  # the second is blocked on the lock by now
        times.put(("first lets go", time.time()))


def _second(warehouse: str, second_is_trying, times) -> None:
    second_is_trying.set()
    times.put(("second tries", time.time()))
    with warehouse_lock(warehouse) as waited:
        times.put(("second holds", time.time(), waited))


def test_a_second_process_waits_for_the_first(tmp_path):
    """Never both at once, and the second's reported wait is the time it really waited: from its
    attempt to the first letting go (timestamps from both processes, so a slow start under load
    does not make the test flaky, as a fixed minimum wait did)."""
    warehouse = str(tmp_path / "warehouse.duckdb")
    ctx = mp.get_context("spawn")
    times, trying = ctx.Queue(), ctx.Event()
    first = ctx.Process(target=_first, args=(warehouse, trying, times))
    first.start()
    assert times.get(timeout=60)[0] == "first holds"
    second = ctx.Process(target=_second, args=(warehouse, trying, times))
    second.start()
    events = {e[0]: e[1:] for e in (times.get(timeout=60) for _ in range(3))}
    first.join(60), second.join(60)
    assert first.exitcode == 0 and second.exitcode == 0
    (t_try,), (t_let_go,), (t_holds, waited) = events["second tries"], events["first lets go"], events["second holds"]
    assert t_try < t_let_go  # the second tried while the first held the lock
    assert t_holds >= t_let_go  # and got it only after the first let go
    assert waited >= t_let_go - t_try - 0.5  # what it reports waiting is what it waited (give or take a slow start)
    assert lock_path(warehouse).exists()


def test_re_entrant_in_one_process_and_logs_its_window(tmp_path):
    lines = []
    with warehouse_lock(tmp_path / "w.duckdb", lines.append) as waited:
        with warehouse_lock(tmp_path / "w.duckdb", lines.append) as inner:  # does not wait for itself
            assert inner == 0.0
        assert waited < 1
    assert lines[0].startswith(ACQUIRED) and lines[-1] == RELEASING and len(lines) == 2
    with warehouse_lock(":memory:") as waited:  # nothing to lock
        assert waited == 0.0
