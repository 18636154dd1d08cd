"""Periodic housekeeping on APScheduler: retention, maintenance edges, incident quiet periods."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from statuswatch.clock import Clock
from statuswatch.config import Config
from statuswatch.status_board import StatusBoard
from statuswatch.store import Prune, Store


def prune_job(config: Config, store: Store, clock: Clock) -> None:
    """Drop raw passing checks and rollups past their retention (failures are kept)."""
    now = clock.time()
    store.submit(
        Prune(
            now,
            raw_before=now - config.storage.raw_retention,
            rollup_before=now - config.storage.rollup_retention,
        )
    )


def start_housekeeping(
    config: Config, store: Store, clock: Clock, board: StatusBoard | None = None
) -> AsyncIOScheduler:
    """Start the housekeeping scheduler on the running loop (shut it down at exit)."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    if board is not None:
        # Maintenance edges and incident quiet periods: a few seconds late is fine, never twice.
        scheduler.add_job(board.tick, "interval", seconds=15, id="status-board",
                          coalesce=True, misfire_grace_time=None, max_instances=1)  # fmt: skip
    scheduler.add_job(
        prune_job,
        "interval",
        minutes=15,
        args=(config, store, clock),
        id="prune",
        # Housekeeping that is late should still run once, not be dropped or repeated.
        coalesce=True,
        misfire_grace_time=None,
        max_instances=1,
    )
    scheduler.start()
    return scheduler
