"""Store on SQLite: migrations, WAL, lock retry, the writer thread; what the protocol leaves open.

The `store` fixture is a SQLite Store here; the contract every backend keeps is
in test_store.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any, get_args

import pytest

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import OutageOpened
from statuswatch.store import SchemaTooNewError, Store, WriteItem, reads
from statuswatch.store.apply import ITEM_TYPES
from statuswatch.store.schema import MIGRATIONS, _v8, connect, migrate, schema_version
from statuswatch.store.writer import Writer
from tests.helpers.store import T0, StoreBackend, result, sqlite


@pytest.fixture
def store_backend(tmp_path: Path) -> StoreBackend:
    """SQLite only (overrides the conftest fixture, so `store` is a SQLite Store here too)."""
    return sqlite(tmp_path)


@pytest.fixture
def db_path(store_backend: StoreBackend) -> Path:
    return store_backend.path


def test_the_writer_applies_every_write_item() -> None:
    """The protocol's list of what submit accepts and the writer's handlers name the same types."""
    assert set(get_args(WriteItem)) == set(ITEM_TYPES)


# --- lifecycle and migrations -------------------------------------------------------------


async def test_fresh_database_is_migrated_and_in_wal_mode(store: Store, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert {"monitors", "checks", "rollups", "outages", "gaps", "snapshots"} <= tables


def test_checks_from_before_phases_read_as_untimed(db_path: Path) -> None:
    db = connect(db_path, busy_timeout=1)
    try:
        before = MIGRATIONS[: MIGRATIONS.index(_v8)]
        migrate(db, before)
        db.execute("INSERT INTO monitors (id) VALUES ('api')")
        db.execute("INSERT INTO checks (monitor, time, ok, latency) VALUES (1, ?, 1, 0.1)", [T0])
        migrate(db)
        assert [c.phases for c in reads.checks(db, "api")] == [None]
    finally:
        db.close()


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


# --- the writer thread, locks and WAL reads ----------------------------------------------


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
