"""Store: lifecycle, migrations, events, snapshots, ordering, lock retry, WAL reads, health."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import (
    GapRecorded,
    MonitorSnapshot,
    OutageClosed,
    OutageOpened,
    State,
    Transition,
)
from statuswatch.probes.base import CheckResult
from statuswatch.store import (
    Gap,
    MonitorRecord,
    Outage,
    Prune,
    RegisterMonitors,
    SchemaTooNewError,
    Store,
)
from statuswatch.store.schema import MIGRATIONS, connect, migrate, schema_version
from statuswatch.store.writer import Writer

T0 = 1_790_000_000.0


def result(monitor_id: str = "api", t: float = T0, ok: bool = True, **kw: object) -> CheckResult:
    kw.setdefault("latency", 0.05)
    if not ok:
        kw.setdefault("error_class", "timeout")
        kw.setdefault("message", "no answer within 10s")
    return CheckResult(monitor_id=monitor_id, time=t, ok=ok, **kw)  # type: ignore[arg-type]


def snapshot(monitor_id: str = "api", **kw: object) -> MonitorSnapshot:
    values: dict[str, object] = {
        "state": State.DOWN,
        "fail_count": 3,
        "fail_start": T0,
        "fail_error_class": "connect",
        "fail_message": "connection refused",
        "pass_count": 1,
        "pass_start": T0 + 120,
        "last_evidence": T0 + 180,
    }
    values.update(kw)
    return MonitorSnapshot(monitor_id=monitor_id, **values)  # type: ignore[arg-type]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "statuswatch.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    s = Store(db_path, flush_interval=0.01)
    await s.start()
    yield s
    await s.close()


async def reopen(store: Store) -> Store:
    """Close and open the same file again: a simulated restart."""
    await store.close()
    fresh = Store(store.path, flush_interval=0.01)
    await fresh.start()
    return fresh


# --- lifecycle and migrations -------------------------------------------------------------


async def test_fresh_database_is_migrated_and_in_wal_mode(store: Store, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert {"monitors", "checks", "rollups", "outages", "gaps", "snapshots"} <= tables


async def test_reopen_keeps_data_and_version(store: Store) -> None:
    store.submit(result("api"))
    store = await reopen(store)
    try:
        assert [c.monitor_id for c in await store.checks("api")] == ["api"]
        assert [m.id for m in await store.monitors()] == ["api"]
    finally:
        await store.close()


def test_old_database_is_upgraded_step_by_step(db_path: Path) -> None:
    ran: list[int] = []
    n = len(MIGRATIONS)

    def v_next(db: Any) -> None:
        ran.append(n + 1)
        db.execute("ALTER TABLE monitors ADD COLUMN note TEXT")

    db = connect(db_path, busy_timeout=1)
    try:
        assert migrate(db, MIGRATIONS[:1]) == 1  # an old file, one step behind or more
        assert migrate(db, MIGRATIONS) == n
        assert migrate(db, (*MIGRATIONS, v_next)) == n + 1
        assert migrate(db, (*MIGRATIONS, v_next)) == n + 1  # already there: nothing runs again
        assert ran == [n + 1]
        assert schema_version(db) == n + 1
        assert "note" in db["monitors"].columns_dict
    finally:
        db.close()


def test_failed_migration_leaves_the_old_version(db_path: Path) -> None:
    def broken(db: Any) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    db = connect(db_path, busy_timeout=1)
    try:
        migrate(db, MIGRATIONS)
        with pytest.raises(RuntimeError, match="boom"):
            migrate(db, (*MIGRATIONS, broken))
        assert schema_version(db) == len(MIGRATIONS)
        assert "half_done" not in db.table_names()
    finally:
        db.close()


def test_newer_database_is_a_clear_error(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(SchemaTooNewError, match=rf"version 99 is newer .* \({len(MIGRATIONS)}\)"):
        Store(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # left untouched
    conn.close()


async def test_misuse_is_reported(db_path: Path) -> None:
    s = Store(db_path)
    with pytest.raises(RuntimeError, match="not started"):
        await s.flush()
    with pytest.raises(TypeError, match="cannot write a str"):
        s.submit("not an item")  # type: ignore[arg-type]
    await s.close()  # never started: closes the connections all the same
    await s.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        s.submit(result())


async def test_items_submitted_before_start_are_written(db_path: Path) -> None:
    s = Store(db_path)
    s.submit(result())
    await s.start()
    await s.close()
    s = Store(db_path)
    try:
        assert len(await s.checks("api")) == 1
    finally:
        await s.close()


# --- ordering and batching ------------------------------------------------------------------


@pytest.mark.parametrize("batch_max", [1, 3, 2000])
async def test_items_apply_in_submission_order(db_path: Path, batch_max: int) -> None:
    s = Store(db_path, batch_max=batch_max, flush_interval=0.01)
    await s.start()
    try:
        s.submit(OutageOpened("api", T0, "timeout", "first"))
        s.submit(OutageClosed("api", T0 + 60, "recovered"))
        s.submit(OutageOpened("api", T0 + 120, "connect", "second"))
        s.submit(result("api", T0 - 10))
        s.submit(Prune(T0, raw_before=T0, rollup_before=0))  # sees only what came before it
        s.submit(result("api", T0 - 5))
        await s.flush()
        assert await s.outages() == [
            Outage("api", T0, T0 + 60, "timeout", "first", "recovered"),
            Outage("api", T0 + 120, None, "connect", "second", None),
        ]
        assert [c.time for c in await s.checks("api")] == [T0 - 5]
    finally:
        await s.close()


async def test_flush_does_not_wait_out_the_batching_window(db_path: Path) -> None:
    s = Store(db_path, flush_interval=30)
    await s.start()
    try:
        s.submit(result())
        await asyncio.wait_for(s.flush(), 5)
        assert len(await s.checks("api")) == 1
    finally:
        await asyncio.wait_for(s.close(), 5)


def test_writer_takes_at_most_batch_max_items(db_path: Path) -> None:
    db = connect(db_path, busy_timeout=1)
    try:
        migrate(db)
        writer = Writer(db, clock=FakeClock(), batch_max=3, flush_interval=0)
        for i in range(5):
            writer.put(result(t=T0 + i))
        first, second = writer._collect(), writer._collect()
        assert [r.time for r in first.items] == [T0, T0 + 1, T0 + 2]
        assert [r.time for r in second.items] == [T0 + 3, T0 + 4]
    finally:
        db.close()


# --- events, monitors, snapshots ------------------------------------------------------------


async def test_outage_is_never_duplicated_across_a_restart(store: Store) -> None:
    store.submit(OutageOpened("api", T0, "timeout", "no answer"))
    store.submit(OutageOpened("api", T0, "timeout", "no answer"))
    store = await reopen(store)
    try:
        # The restarted state machine announces the outage again; the store keeps the first.
        store.submit(OutageOpened("api", T0 + 300, "timeout", "no answer"))
        await store.flush()
        assert await store.open_outages() == [Outage("api", T0, None, "timeout", "no answer", None)]
        store.submit(OutageClosed("api", T0 + 600, "recovered"))
        store.submit(OutageClosed("api", T0 + 900, "recovered"))  # nothing open: no-op
        store.submit(OutageClosed("web", T0 + 900, "recovered"))
        await store.flush()
        assert await store.open_outages() == []
        closed = Outage("api", T0, T0 + 600, "timeout", "no answer", "recovered")
        assert await store.outages() == [closed]
    finally:
        await store.close()


async def test_outage_and_gap_queries_select_overlaps(store: Store) -> None:
    store.submit(OutageOpened("api", T0, "timeout", "a"))
    store.submit(OutageClosed("api", T0 + 100, "recovered"))
    store.submit(OutageOpened("web", T0 + 200, "connect", "b"))
    store.submit(GapRecorded("api", T0 + 50, T0 + 150, "stopped"))
    store.submit(GapRecorded("api", T0 + 50, T0 + 150, "stopped"))  # exact duplicate: skipped
    store.submit(GapRecorded("web", T0 + 300, T0 + 400, "stalled"))
    await store.flush()
    assert [o.monitor_id for o in await store.outages(since=T0 + 100)] == ["web"]
    assert [o.monitor_id for o in await store.outages(until=T0 + 200)] == ["api"]
    assert [o.monitor_id for o in await store.outages(since=T0 + 99, until=T0 + 201)] == [
        "api",
        "web",
    ]
    assert [o.monitor_id for o in await store.outages("web", since=T0 + 10**6)] == ["web"]
    assert await store.gaps("api") == [Gap("api", T0 + 50, T0 + 150, "stopped")]
    assert await store.gaps(since=T0 + 150) == [Gap("web", T0 + 300, T0 + 400, "stalled")]
    assert await store.gaps(until=T0 + 50) == []


async def test_transitions_are_stored(store: Store) -> None:
    store.submit(Transition("api", T0, State.UNKNOWN, State.UP, "first pass"))
    store.submit(Transition("api", T0 + 60, State.UP, State.DOWN, "3 failures"))
    await store.flush()
    got = await store.transitions("api", since=T0 + 1)
    assert [(t.time, t.old, t.new, t.reason) for t in got] == [
        (T0 + 60, "up", "down", "3 failures")
    ]


async def test_snapshot_round_trips_and_coalesces(store: Store) -> None:
    store.submit(snapshot("api", fail_count=1))
    store.submit(snapshot("api", fail_count=2))
    store.submit(snapshot("web", state=State.UP, fail_start=None, fail_error_class=None))
    store = await reopen(store)
    try:
        snaps = await store.monitor_snapshots()
        assert snaps == {
            "api": snapshot("api", fail_count=2),
            "web": snapshot("web", state=State.UP, fail_start=None, fail_error_class=None),
        }
        assert snaps["api"].state is State.DOWN
    finally:
        await store.close()


async def test_last_result_is_the_newest_by_time(store: Store) -> None:
    store.submit(result("api", T0 + 60, ok=False, status_code=503, error_class="http_status"))
    store.submit(result("api", T0))  # late and older: does not replace the newer one
    store.submit(result("web", T0, latency=None, cert_expiry=T0 + 86400, degraded=True))
    await store.flush()
    store.submit(result("api", T0 + 30))
    await store.flush()
    last = await store.last_results()
    assert last["api"] == result(
        "api", T0 + 60, ok=False, status_code=503, error_class="http_status"
    )
    assert last["web"] == result("web", T0, latency=None, cert_expiry=T0 + 86400, degraded=True)


async def test_monitors_register_and_autoregister(store: Store) -> None:
    store.submit(result("shop-1", T0 - 60))  # seen before configured: registered on the fly
    store.submit(RegisterMonitors([("api", "http", "API"), ("shop-1", "http", "Shops")], T0))
    await store.flush()
    store.submit(RegisterMonitors([("api", "tcp", "Core API")], T0 + 3600))
    await store.flush()
    assert await store.monitors() == [
        MonitorRecord("shop-1", "http", "Shops", T0 - 60),
        MonitorRecord("api", "tcp", "Core API", T0),
    ]


async def test_checks_filter_by_time_and_failure(store: Store) -> None:
    for i in range(6):
        store.submit(result("api", T0 + 60 * i, ok=i % 2 == 0))
    store.submit(result("web", T0, ok=False))
    await store.flush()
    assert [c.time for c in await store.checks("api", since=T0 + 60, until=T0 + 240)] == [
        T0 + 60,
        T0 + 120,
        T0 + 180,
    ]
    failures = await store.checks("api", failures_only=True)
    assert [c.time for c in failures] == [T0 + 60, T0 + 180, T0 + 300]
    assert all(c.error_class == "timeout" and not c.ok for c in failures)
    assert await store.checks("nobody") == []


# --- failure handling, concurrency, health --------------------------------------------------


async def wait_until_unwritable(store: Store) -> dict[str, object]:
    """Poll health until the writer has hit the lock (a real event, bounded by a timeout)."""
    async with asyncio.timeout(10):
        while (health := await store.health())["writable"]:
            await asyncio.sleep(0.01)
    return health


async def test_a_locked_database_loses_nothing(db_path: Path) -> None:
    s = Store(db_path, busy_timeout=0.05, flush_interval=0.01)
    await s.start()
    locker = sqlite3.connect(db_path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        for i in range(100):
            s.submit(result("api", T0 + i, ok=i % 10 != 0))
        health = await wait_until_unwritable(s)
        assert "locked" in str(health["last_error"])
        s.submit(OutageOpened("api", T0, "timeout", "kept while locked"))  # still accepted
        assert (await s.health())["pending"] == 101
        locker.execute("ROLLBACK")
        await asyncio.wait_for(s.flush(), 10)
        times = [c.time for c in await s.checks("api")]
        assert times == [T0 + i for i in range(100)]  # every one, exactly once, in order
        (rollup,) = await s.rollups("api")
        assert (rollup.count, rollup.failures) == (100, 10)
        assert len(await s.open_outages()) == 1
        health = await s.health()
        assert health["writable"] and health["pending"] == 0
    finally:
        locker.close()
        await s.close()


async def test_an_unwritable_item_is_dropped_without_wedging_the_queue(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.submit(result("api", T0))
    store.submit(result("api", T0 + 1, message=object()))  # cannot be bound: a bug upstream
    store.submit(result("api", T0 + 2))
    await asyncio.wait_for(store.flush(), 10)
    assert [c.time for c in await store.checks("api")] == [T0, T0 + 2]
    health = await store.health()
    assert health["writable"] and health["pending"] == 0
    assert "dropped CheckResult" in str(health["last_error"])
    assert "cannot write" in caplog.text


async def test_reads_proceed_while_another_connection_writes(store: Store, db_path: Path) -> None:
    store.submit(result("api", T0))
    await store.flush()
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE monitors SET kind = 'x'")
        # WAL: readers see the last commit and never wait for the writer (busy_timeout is 5 s).
        checks = await asyncio.wait_for(store.checks("api"), 1)
        assert [c.time for c in checks] == [T0]
        assert (await store.monitors())[0].kind is None
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_reads_during_a_stream_of_writes_see_whole_batches(store: Store) -> None:
    async def write() -> None:
        for i in range(40):
            for j in range(50):
                store.submit(result("api", T0 + i * 50 + j))
            await store.flush()

    async def read() -> list[int]:
        seen = []
        for _ in range(40):
            seen.append(len(await store.checks("api")))
            await asyncio.sleep(0)
        return seen

    _, seen = await asyncio.gather(write(), read())
    assert seen == sorted(seen)  # snapshots only grow
    assert len(await store.checks("api")) == 2000


async def test_health_reports_writes(db_path: Path) -> None:
    clock = FakeClock()
    s = Store(db_path, clock=clock, flush_interval=0.01)
    await s.start()
    try:
        empty = {"writable": True, "last_write": None, "pending": 0, "last_error": None}
        assert await s.health() == empty
        s.submit(result())
        await s.flush()
        assert await s.health() == {**empty, "last_write": clock.time()}
        assert s.size_bytes() > 0
    finally:
        await s.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_a_crashed_writer_fails_waiters_instead_of_hanging(db_path: Path) -> None:
    s = Store(db_path, flush_interval=0.01)

    def bug(batch: object) -> bool:
        raise RuntimeError("a bug in the writer")

    s._writer._write = bug  # type: ignore[method-assign]
    await s.start()
    s.submit(result())
    with pytest.raises(RuntimeError, match="writer crashed"):
        await asyncio.wait_for(s.flush(), 5)
    with pytest.raises(RuntimeError, match="writer crashed"):
        await asyncio.wait_for(s.flush(), 5)  # queued after the crash: fails too, never hangs
    health = await s.health()
    assert not health["writable"] and "a bug in the writer" in str(health["last_error"])
    await asyncio.wait_for(s.close(), 5)


async def test_a_window_with_a_duration_round_trips(store: Store) -> None:
    """Durations are a float subclass msgspec cannot encode on its own: stored as seconds."""
    from datetime import datetime

    from statuswatch.config.durations import Duration
    from statuswatch.config.model import Maintenance
    from statuswatch.store import SaveMaintenance

    window = Maintenance(
        id="db",
        title="DB",
        components=["api"],
        duration=Duration(5400),
        start=datetime(2026, 1, 4, 2, 0),
        rrule="FREQ=WEEKLY",
        timezone="America/New_York",
    )
    store.submit(SaveMaintenance(window, 1.0))
    await store.flush()
    assert (await store.health())["last_error"] is None
    (back,) = await store.maintenance()
    assert back == window and isinstance(back.duration, Duration)
    assert back.start.tzinfo is None  # local time in its timezone, as config wrote it
