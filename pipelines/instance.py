"""Prepare the Dagster instance (``DAGSTER_HOME``) before any run: ``python -m pipelines.instance``.

Creates the instance's storage and allocates the slot of the pool ``warehouse`` (the one-writer
limit of ``.dagster_home/dagster.yaml``, ``concurrency.pools.default_limit``) once. Dagster
otherwise allocates a pool's slots lazily, when the first step asks for one; two runs started at
the same moment on a fresh instance (two ``dagster asset materialize`` processes, which bypass the
run queue) can then both count zero slots and both add one, and two writers run at once (seen
once in ``tests/ops/test_concurrency.py`` on a loaded machine). ``make run``, ``make ui``,
``make backfill`` and ``make test`` call this first; it changes nothing on an instance that is
already prepared.
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs.sources.assets import WAREHOUSE_POOL


def prepare_instance(instance: dg.DagsterInstance) -> int:
    """Allocate the warehouse pool's slots to the instance's default limit; returns their number."""
    instance.event_log_storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
    return instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).slot_count


def main() -> None:
    with dg.DagsterInstance.get() as instance:
        slots = prepare_instance(instance)
    print(f"Dagster instance ready: pool '{WAREHOUSE_POOL}' has {slots} slot(s)")


if __name__ == "__main__":
    main()
