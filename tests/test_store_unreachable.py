"""The database away (locked, PostgreSQL down): writes wait in memory, bounded by max_pending.

Past the bound the oldest passing checks are dropped first, then the oldest failing ones; a
transition, outage, gap, snapshot or outbox item is never dropped. What is kept is written, in
order, when the database is back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from statuswatch.clock import FakeClock
from statuswatch.metrics import database as db_metrics
from statuswatch.monitor.events import OutageOpened
from statuswatch.store import Store, StoreProtocol
from statuswatch.web import create_app
from tests.helpers.config import make_config
from tests.helpers.store import T0, result, snapshot


@asynccontextmanager
async def bounded_store(path: Path, max_pending: int) -> AsyncIterator[Store]:
    """A started store that gives up on a lock fast and holds at most `max_pending` writes."""
    store = Store(path, busy_timeout=0.05, flush_interval=0.01, max_pending=max_pending)
    await store.start()
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def locked(path: Path) -> AsyncIterator[sqlite3.Connection]:
    """Another connection holding the database's exclusive lock (ROLLBACK on it releases it);
    async only to go in one `async with` beside the store."""
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        yield locker
    finally:
        locker.close()


async def wait_for_dropped(store: StoreProtocol, count: int) -> dict[str, object]:
    """Poll the writer's figures until it has dropped `count` items (a real event, bounded)."""
    async with asyncio.timeout(10):
        while (stats := store.write_stats())["dropped"] < count:
            await asyncio.sleep(0.01)
    return stats


async def test_a_locked_database_keeps_the_bound_by_dropping_the_oldest_passing_checks(
    tmp_path: Path,
) -> None:
    path = tmp_path / "statuswatch.db"
    async with bounded_store(path, 30) as store, locked(path) as locker:
        store.submit(OutageOpened("api", T0, "timeout", "kept whatever the bound"))
        for i in range(40):
            store.submit(result("api", T0 + i, ok=i not in (5, 15)))
        store.submit(snapshot("api"))
        stats = await wait_for_dropped(store, 12)  # 42 waiting, 30 kept
        assert stats["pending"] == 30 and stats["dropped"] == 12, stats
        assert not stats["writable"] and "locked" in str(stats["last_error"])
        for i in range(40, 45):  # still accepted; five more of the oldest passing ones go
            store.submit(result("api", T0 + i))
        stats = await wait_for_dropped(store, 17)
        assert stats["pending"] == 30 and stats["dropped"] == 17, stats
        (metric,) = [m for m in db_metrics.collect(store) if m.name == "statuswatch_store_dropped"]
        assert [s.value for s in metric.samples] == [17.0]
        locker.execute("ROLLBACK")
        await asyncio.wait_for(store.flush(), 10)
        times = [round(c.time - T0) for c in await store.checks("api")]
        # The failing ones (5, 15) are kept; 0-4, 6-14 and 16-18 were the oldest passing.
        assert times == [5, 15, *range(19, 45)]
        assert len(await store.open_outages()) == 1
        assert "api" in await store.monitor_snapshots()
        stats = store.write_stats()
        assert stats["writable"] and stats["pending"] == 0 and stats["dropped"] == 17


async def test_failing_checks_go_only_after_the_passing_ones_and_events_never(
    tmp_path: Path,
) -> None:
    path = tmp_path / "statuswatch.db"
    async with bounded_store(path, 3) as store, locked(path) as locker:
        store.submit(result("api", T0, ok=False))
        store.submit(OutageOpened("api", T0, "timeout", "never dropped"))
        store.submit(result("api", T0 + 1))
        store.submit(result("api", T0 + 2, ok=False))
        store.submit(snapshot("api"))
        store.submit(OutageOpened("db", T0 + 3, "timeout", "never dropped"))
        store.submit(result("api", T0 + 4, ok=False))
        # 7 waiting, bound 3: the passing one, then the three failing ones; the two outages and
        # the snapshot stay even though they alone are past the bound.
        stats = await wait_for_dropped(store, 4)
        assert stats["pending"] == 3 and stats["dropped"] == 4, stats
        locker.execute("ROLLBACK")
        await asyncio.wait_for(store.flush(), 10)
        assert await store.checks("api") == []
        assert sorted(o.monitor_id for o in await store.open_outages()) == ["api", "db"]
        assert "api" in await store.monitor_snapshots()


async def test_healthz_says_degraded_with_the_stores_error_while_writes_wait(
    tmp_path: Path, aiohttp_client
) -> None:
    config = make_config(tmp_path, [])
    clock = FakeClock(T0)
    async with bounded_store(config.storage.path, 3) as store:
        app = create_app(config, store=store, clock=clock, probe=False, environ={})
        client = await aiohttp_client(app)
        try:
            async with locked(config.storage.path) as locker:
                for i in range(5):
                    store.submit(result("api", T0 + i))
                await wait_for_dropped(store, 2)
                resp = await client.get("/healthz")
                body = await resp.json()
                assert resp.status == 503 and body["status"] == "degraded", body
                assert body["database"]["dropped"] == 2 and body["database"]["pending"] == 3
                assert "locked" in body["database"]["last_error"]
                locker.execute("ROLLBACK")
                await asyncio.wait_for(store.flush(), 10)
                clock.advance(2)  # past /healthz's one second of caching
                resp = await client.get("/healthz")
                body = await resp.json()
                assert (
                    resp.status == 200
                    and body["status"] == "ok"
                    and body["database"]["dropped"] == 2
                )
        finally:
            await client.close()
