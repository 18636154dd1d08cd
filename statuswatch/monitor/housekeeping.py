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
    if board is not None:
        # Maintenance edges and incident quiet periods: a few seconds late is fine, never twice.
        scheduler.add_job(
            board.tick,
            "interval",
            seconds=15,
            id="status-board",
            coalesce=True,
            misfire_grace_time=None,
            max_instances=1,
        )
    if sla_snapshot is not None:
        # The SLA gauges of /metrics: computed now, then every metrics.sla_refresh, off the loop.
        scheduler.add_job(
            sla_snapshot.refresh,
            "interval",
            seconds=config.metrics.sla_refresh,
            id="metrics-sla",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            misfire_grace_time=None,
            max_instances=1,
        )
    if notify_stats is not None:
        # The outbox and subscriber gauges: two small grouped reads on the reader thread, so a
        # scrape never queries. 15 s is fine grain for an alert on minutes of waiting.
        scheduler.add_job(
            notify_stats.refresh,
            "interval",
            seconds=15,
            id="metrics-notify",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            misfire_grace_time=None,
            max_instances=1,
        )
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
