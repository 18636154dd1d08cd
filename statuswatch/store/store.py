"""The Store: submit from the event loop; one writer thread commits, one reader thread reads."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from statuswatch.clock import SystemClock
from statuswatch.config.model import Maintenance
from statuswatch.incidents.model import Incident
from statuswatch.monitor.events import MonitorSnapshot
from statuswatch.probes.base import CheckResult
from statuswatch.store import outbox_reads, reads
from statuswatch.store.apply import ITEM_TYPES
from statuswatch.store.models import (
    Gap,
    HourlyRollup,
    MonitorRecord,
    Outage,
    Publish,
    TransitionRecord,
)
from statuswatch.store.protocol import WriteItem
from statuswatch.store.schema import MIGRATIONS, connect, migrate, schema_version
from statuswatch.store.writer import HELD_FLUSH, MAX_PENDING, Marker, WallClock, Writer

T = TypeVar("T")


class Store:
    """Everything statuswatch keeps on disk, behind one writer thread and one reader thread.

    The SQLite implementation of StoreProtocol (statuswatch/store/protocol.py).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        batch_max: int = 2000,
        flush_interval: float = 0.25,
        held_flush: float = HELD_FLUSH,
        max_pending: int = MAX_PENDING,
        clock: WallClock | None = None,
    ) -> None:
        self.path = Path(path)  # a file: the reader and the writer each open it
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        write_db = connect(self.path, busy_timeout=busy_timeout)
        try:
            migrate(write_db)
            self._writer = Writer(
                write_db,
                clock=clock or SystemClock(),
                batch_max=batch_max,
                flush_interval=flush_interval,
                held_flush=held_flush,
                max_pending=max_pending,
            )
            self._read_db = connect(self.path, busy_timeout=busy_timeout, readonly=True)
        except BaseException:
            write_db.close()
            raise
        # One reader thread: the read connection is never used by two threads at once.
        self._reader = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="statuswatch-store-read"
        )

    async def start(self) -> None:
        """Start the writer thread; submitted items are written from now on."""
        if self._loop is not None or self._closed:
            raise RuntimeError("store already started or closed")
        self._loop = asyncio.get_running_loop()
        self._writer.thread.start()

    def submit(self, item: WriteItem) -> None:
        """Queue an item for writing; never blocks, and never raises because of the database."""
        if type(item) not in ITEM_TYPES:
            raise TypeError(f"the store cannot write a {type(item).__name__}")
        if self._closed:
            raise RuntimeError("store is closed")
        self._writer.put(item)

    async def flush(self) -> None:
        """Wait until everything submitted before this call is committed."""
        await self._send_marker(stop=False)

    def retry_now(self) -> None:
        """Retry a held batch now rather than after its backoff (the leader's term continued)."""
        self._writer.retry_now()

    async def settle(self) -> None:
        """Wait until the items submitted so far are committed, leaving the held rollups and
        latest results for their minute (what the public pages read is then on disk, and a
        page render does not undo the writer's once-a-minute folding)."""
        await self._send_marker(stop=False, held=False)

    async def close(self) -> None:
        """Write everything submitted, stop the writer and close both connections."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._stop_writer()
        finally:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._reader, self._read_db.close)
            self._reader.shutdown(wait=True)

    async def _stop_writer(self) -> None:
        writer = self._writer
        if self._loop is None:
            writer.db.close()
            return
        # The writer commits what is queued, closes its connection, then resolves the marker
        # (a crashed writer has closed its connection already).
        if not writer.crashed:
            await self._send_marker(stop=True)
        writer.thread.join()

    async def _send_marker(self, *, stop: bool, held: bool = True) -> None:
        if self._loop is None:
            raise RuntimeError("store not started")
        if self._closed and not stop:
            raise RuntimeError("store is closed")
        marker = Marker(self._loop, self._loop.create_future(), stop=stop, held=held)
        self._writer.put_marker(marker)
        await marker.future

    async def _read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a query from `reads` on the reader thread, off the event loop."""
        if self._closed:
            raise RuntimeError("store is closed")
        call = functools.partial(query, self._read_db, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._reader, call)

    async def published(self) -> Publish | None:
        """The monitor role's last published board and heartbeat, or None before its first."""
        return await self._read(reads.published)

    async def data_version(self) -> int:
        """A number that moves whenever another connection committed (cheap: polled often)."""
        return await self._read(reads.data_version)

    async def monitor_snapshots(self) -> dict[str, MonitorSnapshot]:
        """Return the last saved snapshot per monitor id (its local probes')."""
        return await self._read(reads.monitor_snapshots)

    async def location_snapshots(self) -> dict[tuple[str, str], MonitorSnapshot]:
        """Return the last saved snapshot per (monitor id, location)."""
        return await self._read(reads.location_snapshots)

    async def last_results(self) -> dict[str, CheckResult]:
        """Return the newest check result per monitor id."""
        return await self._read(reads.last_results)

    async def open_outages(self) -> list[Outage]:
        """Return the outages that have not ended."""
        return await self._read(reads.outages, open_only=True)

    async def outages(
        self, monitor_id: str | None = None, since: float | None = None, until: float | None = None
    ) -> list[Outage]:
        """Return outages overlapping [since, until), optionally of one monitor."""
        return await self._read(reads.outages, monitor_id, since, until)

    async def gaps(
        self, monitor_id: str | None = None, since: float | None = None, until: float | None = None
    ) -> list[Gap]:
        """Return gaps overlapping [since, until), optionally of one monitor."""
        return await self._read(reads.gaps, monitor_id, since, until)

    async def transitions(
        self, monitor_id: str | None = None, since: float | None = None, until: float | None = None
    ) -> list[TransitionRecord]:
        """Return state changes with time in [since, until), optionally of one monitor."""
        return await self._read(reads.transitions, monitor_id, since, until)

    async def checks(
        self,
        monitor_id: str,
        since: float | None = None,
        until: float | None = None,
        failures_only: bool = False,
    ) -> list[CheckResult]:
        """Return a monitor's raw checks with time in [since, until)."""
        return await self._read(reads.checks, monitor_id, since, until, failures_only)

    async def stored_checks(
        self, location: str, keys: Sequence[tuple[str, float]]
    ) -> set[tuple[str, float]]:
        """Which of these (monitor id, time) checks from `location` are stored already."""
        return await self._read(reads.stored_checks, location, keys)

    async def newest_checks(self, location: str, monitor_ids: Sequence[str]) -> dict[str, float]:
        """The newest stored check time from `location` of each of these monitors that has one."""
        return await self._read(reads.newest_checks, location, monitor_ids)

    async def last_by_location(
        self, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], CheckResult]:
        """The newest stored check of each (monitor id, location) asked for that has one."""
        return await self._read(reads.last_by_location, pairs)

    async def rollups(
        self, monitor_id: str, since: float | None = None, until: float | None = None
    ) -> list[HourlyRollup]:
        """Return a monitor's hourly rollups for the hours overlapping [since, until)."""
        return await self._read(reads.rollups, monitor_id, since, until)

    async def monitors(self) -> list[MonitorRecord]:
        """Return every monitor the store has seen or had registered."""
        return await self._read(reads.monitors)

    async def incidents(
        self,
        *,
        open_only: bool = False,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[Incident]:
        """Return incidents newest first: open ones only, or those created in [since, until)."""
        return await self._read(
            reads.incidents, open_only=open_only, since=since, until=until, limit=limit
        )

    async def incident(self, incident_id: str) -> Incident | None:
        """One incident by id, or None."""
        return await self._read(reads.incident, incident_id)

    async def maintenance(self) -> list[Maintenance]:
        """Every maintenance window created at run time."""
        return await self._read(reads.maintenance)

    async def maintenance_created(self) -> dict[str, float]:
        """When each run-time maintenance window was first stored (/api/v2 created_at)."""
        return await self._read(reads.maintenance_created)

    async def maintenance_updated(self) -> dict[str, float]:
        """When each run-time maintenance window was last changed (feeds, calendars)."""
        return await self._read(reads.maintenance_updated)

    async def report_tokens(self) -> dict[bytes, str]:
        """Map each customer's report token digest to the customer id."""
        return await self._read(reads.report_tokens)

    async def read_outbox(self, query: Callable[..., T], *args: Any) -> T:
        """Run a query from `outbox_reads` (subscribers, the outbox, attempts) on the reader."""
        if getattr(outbox_reads, query.__name__, None) is not query:
            raise ValueError(f"{query.__name__} is not an outbox read")
        return await self._read(query, *args)

    async def health(self) -> dict[str, Any]:
        """Return whether writes succeed, the last commit time, the backlog and the last error."""
        w = self._writer
        return {
            "writable": w.writable,
            "last_write": w.last_write,
            "pending": w.pending,
            "last_error": w.last_error,
        }

    def write_stats(self) -> dict[str, Any]:
        """health() without awaiting, plus commits and their total seconds (for metrics)."""
        w = self._writer
        return {
            "writable": w.writable,
            "last_write": w.last_write,
            "pending": w.pending,
            "dropped": w.dropped,
            "crashed": w.crashed,
            "last_error": w.last_error,
            "commits": w.commits,
            "commit_seconds": w.commit_seconds,
            "fenced": w.fenced,
        }

    def size_bytes(self) -> int:
        """Return the size on disk of the database file plus its write-ahead log."""
        wal = self.path.with_name(self.path.name + "-wal")
        return sum(p.stat().st_size for p in (self.path, wal) if p.exists())


class SchemaNotReadyError(RuntimeError):
    """The database has not been created or migrated yet (the monitor role does that)."""


class ReadOnlyStore(Store):
    """The store as the web role opens it: every read, no writer, no migration.

    One process writes (the monitor role); web workers read the same file in WAL mode, which
    serves readers in other processes without blocking the writer or each other.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._loop = None
        self._closed = False
        if not self.path.exists():
            raise SchemaNotReadyError(f"{self.path} does not exist yet")
        self._read_db = connect(self.path, busy_timeout=busy_timeout, readonly=True)
        found = schema_version(self._read_db)
        if found != len(MIGRATIONS):
            self._read_db.close()
            raise SchemaNotReadyError(
                f"{self.path} has schema version {found}, this statuswatch reads {len(MIGRATIONS)}"
            )
        self._reader = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="statuswatch-store-read"
        )

    async def start(self) -> None:
        """Nothing to start: there is no writer."""
        self._loop = asyncio.get_running_loop()

    def submit(self, item: WriteItem) -> None:
        """Refuse: in the web role writes go to the monitor role, the one writer."""
        raise RuntimeError(f"read-only store: a {type(item).__name__} is the monitor's to write")

    async def flush(self) -> None:
        """Nothing is ever pending here."""

    async def settle(self) -> None:
        """Nothing is ever pending here."""

    def retry_now(self) -> None:
        """Nothing is ever held here."""

    async def close(self) -> None:
        """Close the read connection."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._reader, self._read_db.close)
        self._reader.shutdown(wait=True)

    async def health(self) -> dict[str, Any]:
        """Whether this process can read (it never writes)."""
        version = await self.data_version()
        return {"readable": True, "data_version": version}

    def write_stats(self) -> dict[str, Any]:
        """No writes here."""
        return {"writable": None, "last_write": None, "pending": 0, "dropped": 0, "commits": 0}


def vacuum(path: str | os.PathLike[str]) -> None:
    """Rebuild a database file compactly (maintenance; safe beside a running store in WAL)."""
    db = connect(Path(path), busy_timeout=5.0)
    try:
        db.vacuum()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # fold the log back into the file
    finally:
        db.close()
