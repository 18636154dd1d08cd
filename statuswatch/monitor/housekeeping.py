"""Periodic housekeeping on APScheduler: retention, maintenance edges, incident quiet periods,
the SLA gauges of /metrics."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from statuswatch.clock import Clock
from statuswatch.config import Config
from statuswatch.metrics.snapshot import SlaSnapshot
from statuswatch.notify.stats import NotifyStats
from statuswatch.status.board import StatusBoard
from statuswatch.store import Prune, StoreProtocol


def prune_job(config: Config, store: StoreProtocol, clock: Clock) -> None:
    """Drop raw passing checks, rollups and finished outbox messages past their retention
    (failures and pending messages are kept)."""
    now = clock.time()
    store.submit(
        Prune(
            now,
            raw_before=now - config.storage.raw_retention,
            rollup_before=now - config.storage.rollup_retention,
            outbox_before=now - config.email.retention,
        )
    )


# Every job: one that is late still runs once, is never dropped, never runs twice at a time.
_ONCE = {"coalesce": True, "misfire_grace_time": None, "max_instances": 1}


def start_housekeeping(
    config: Config,
    store: StoreProtocol,
    clock: Clock,
    board: StatusBoard | None = None,
    sla_snapshot: SlaSnapshot | None = None,
    notify_stats: NotifyStats | None = None,
) -> AsyncIOScheduler:
    """Start the housekeeping scheduler on the running loop (shut it down at exit)."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    now = datetime.now(UTC)
    if board is not None:
        # Maintenance edges and incident quiet periods: a few seconds late is fine.
        scheduler.add_job(board.tick, "interval", seconds=15, id="status-board", **_ONCE)
    if sla_snapshot is not None:
        # The SLA gauges of /metrics: computed now, then every metrics.sla_refresh, off the loop.
        seconds = config.metrics.sla_refresh
        scheduler.add_job(
            sla_snapshot.refresh,
            "interval",
            seconds=seconds,
            id="metrics-sla",
            next_run_time=now,
            **_ONCE,
        )
    if notify_stats is not None:
        # The outbox and subscriber gauges: two small grouped reads on the reader thread, so a
        # scrape never queries. 15 s is fine grain for an alert on minutes of waiting.
        scheduler.add_job(
            notify_stats.refresh,
            "interval",
            seconds=15,
            id="metrics-notify",
            next_run_time=now,
            **_ONCE,
        )
    scheduler.add_job(
        prune_job, "interval", minutes=15, args=(config, store, clock), id="prune", **_ONCE
    )
    scheduler.start()
    return scheduler
