"""The warehouse lock: a second process waits until the first lets go; re-entrant in one process."""

from __future__ import annotations

import multiprocessing as mp
import time

from pipelines.warehouse_lock import ACQUIRED, RELEASING, lock_path, warehouse_lock


def _first(warehouse: str, second_is_trying, times) -> None:
    with warehouse_lock(warehouse):
        times.put(("first holds", time.time()))
        second_is_trying.wait(60)
        time.sleep(0.5)  # the second is blocked on the lock by now
        times.put(("first lets go", time.time()))


def _second(warehouse: str, second_is_trying, times) -> None:
    second_is_trying.set()
    with warehouse_lock(warehouse) as waited:
        times.put(("second holds", time.time(), waited))


def test_a_second_process_waits_for_the_first(tmp_path):
    warehouse = str(tmp_path / "warehouse.duckdb")
    ctx = mp.get_context("spawn")
    times, trying = ctx.Queue(), ctx.Event()
    first = ctx.Process(target=_first, args=(warehouse, trying, times))
    first.start()
    assert times.get(timeout=60)[0] == "first holds"
    second = ctx.Process(target=_second, args=(warehouse, trying, times))
    second.start()
    (let_go, t_let_go), (holds, t_holds, waited) = times.get(timeout=60), times.get(timeout=60)
    first.join(60), second.join(60)
    assert first.exitcode == 0 and second.exitcode == 0
    assert (let_go, holds) == ("first lets go", "second holds")
    assert t_holds >= t_let_go and waited >= 0.4
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
