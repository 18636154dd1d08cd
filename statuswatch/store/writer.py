"""The single writer thread: drains the queue, commits batches, retries until the disk lets it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlite_utils

from statuswatch.probes.base import CheckResult
from statuswatch.store.apply import BatchApplier, HeldRows, MonitorKeys
from statuswatch.store.errors import FencedError, SuspendedError
from statuswatch.store.protocol import WriteItem

log = logging.getLogger(__name__)

BACKOFF_START = 0.05
BACKOFF_CAP = 5.0
HELD_FLUSH = 60.0  # seconds rollups and latest results may wait in memory (see HeldRows)
# Items that may wait in memory while the database is away ([storage] max_pending).
MAX_PENDING = 100_000


class WallClock(Protocol):
    def time(self) -> float:
        """Wall-clock UTC epoch seconds."""
        ...


@dataclass(eq=False, slots=True)
class Marker:
    """Resolved on its event loop once everything submitted before it is committed."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    stop: bool = False
    held: bool = True  # also write the held rollups and latest results (see Store.settle)

    def resolve(self, error: Exception | None = None) -> None:
        """Tell the waiting coroutine (from the writer thread) that it is done, or failed."""
        # A closed loop means nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(_settle, self.future, error)


def _settle(future: asyncio.Future[None], error: Exception | None) -> None:
    if future.done():  # the waiter may have been cancelled
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


@dataclass(slots=True)
class Batch:
    """Items for one transaction; a marker, if any, closes the batch."""

    items: deque[WriteItem] = field(default_factory=deque)
    marker: Marker | None = None

    def take(self, thing: WriteItem | Marker) -> bool:
        """Add an item or the closing marker; return True when the batch is closed."""
        if isinstance(thing, Marker):
            self.marker = thing
            return True
        self.items.append(thing)
        return False


class Writer:
    """Owns the write connection; every write to the database goes through `put`."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        clock: WallClock,
        batch_max: int,
        flush_interval: float,
        held_flush: float = HELD_FLUSH,
        transient: tuple[type[Exception], ...] = (sqlite3.OperationalError,),
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.db = db
        # The backend's errors worth retrying (locked, busy, disk full, connection lost), and
        # a suspended leader's guard: its term may continue, then the batch lands.
        self.transient = (*transient, SuspendedError)
        # Called as the first statement of every write transaction (the leader's fence check).
        self.guard: Callable[[Any], None] | None = None
        self.fenced = 0  # items dropped because the guard refused their transaction
        self.keys = MonitorKeys(db.conn)
        self.clock = clock
        self.batch_max = batch_max
        self.flush_interval = flush_interval
        self.held_flush = held_flush
        self.held = HeldRows()  # only the writer thread touches it
        self.queue: queue.SimpleQueue[WriteItem | Marker] = queue.SimpleQueue()
        self.wake = threading.Event()  # cuts a retry backoff short when someone waits for a flush
        # Cuts the batching window short: set whenever a flush or stop marker is queued.
        self.hurry = threading.Event()
        # A hint only (two threads update it): a wrong value costs one batching window of
        # latency or one early wake-up, never a lost item; `hurry` makes flushes prompt.
        self.markers_queued = 0
        self.submitted = 0
        self.done = 0
        self.batch = Batch()  # being written; kept until it commits
        # Taken off the queue while the database is away, so the bound can be kept (see _spill).
        self.backlog: deque[WriteItem | Marker] = deque()
        self.max_pending = max_pending
        self.dropped = 0  # passing checks given up to keep the bound
        self.crashed = False
        self.failures = 0  # consecutive failed attempts, for the backoff
        self.writable = True
        self.last_write: float | None = None
        self.last_error: str | None = None
        self.commits = 0  # transactions committed, and the seconds they took (for metrics)
        self.commit_seconds = 0.0
        # Daemon: a program that forgets close() must still be able to exit.
        self.thread = threading.Thread(
            target=self._run, name="statuswatch-store-writer", daemon=True
        )

    @property
    def pending(self) -> int:
        """Return how many submitted items are not committed yet."""
        return self.submitted - self.done - self.dropped

    def put(self, item: WriteItem) -> None:
        """Queue an item; never blocks, never touches the database."""
        # No lock: only the event loop's thread writes `submitted` (and only the writer thread
        # writes `done`), so each counter has one writer; readers may see a moment's lag.
        self.submitted += 1
        self.queue.put(item)

    def put_marker(self, marker: Marker) -> None:
        """Queue a flush or stop marker and retry a failing batch now rather than after backoff."""
        self.markers_queued += 1
        self.queue.put(marker)
        self.wake.set()
        self.hurry.set()
        if self.crashed:  # the writer may have drained the queue before this put
            self._fail_waiters()

    def retry_now(self) -> None:
        """Cut a failing batch's backoff short: whatever refused it is expected to let it pass."""
        self.wake.set()

    def _run(self) -> None:
        stop: Marker | None = None
        try:
            stop = self._loop()
        except BaseException as exc:  # a bug, not the disk: say so loudly, writes stop here
            log.critical("store writer crashed; nothing more will be written", exc_info=True)
            self.writable = False
            self.last_error = f"writer crashed: {exc!r}"
            self.crashed = True  # before draining: see put_marker
            self._fail_waiters()
            raise
        finally:
            self.db.close()  # before resolving stop, so close() returns with the file closed
            if stop is not None:
                stop.resolve()

    def _fail_waiters(self) -> None:
        """Wake whoever waits on a flush or close queued so far, with an error, not a hang."""
        error = RuntimeError("the store writer crashed; see the log")
        if self.batch.marker is not None:
            self.batch.marker.resolve(error)
        for thing in self.backlog:
            if isinstance(thing, Marker):
                thing.resolve(error)
        with contextlib.suppress(queue.Empty):
            while True:
                thing = self.queue.get_nowait()
                if isinstance(thing, Marker):
                    thing.resolve(error)

    def _loop(self) -> Marker:
        while True:
            if not self.batch.items and self.batch.marker is None:
                self.batch = self._collect()
            batch = self.batch
            if not self._write(batch):
                self._backoff()
                continue
            if batch.marker is not None and batch.marker.stop:
                return batch.marker
            if batch.marker is not None:
                batch.marker.resolve()
            self.batch = Batch()

    def _collect(self) -> Batch:
        """Block for one item, then take what arrives within flush_interval, up to batch_max.

        With rows held, wait no longer than until they are due: an empty batch writes them.
        """
        batch = Batch()
        timeout = None
        if self.held.since is not None:
            # Clamped: a wall clock stepped back must not hold the rows longer than held_flush.
            due_in = self.held.since + self.held_flush - self.clock.time()
            timeout = min(self.held_flush, max(0.0, due_in))
        try:
            first = self.backlog.popleft() if self.backlog else self.queue.get(timeout=timeout)
        except queue.Empty:
            return batch
        if batch.take(first):
            self.markers_queued -= 1
            return batch
        # Sleep through the batching window (a flush or stop marker cuts it short), then drain.
        # Taking items one by one with get(timeout=...) woke this thread for every put and
        # bounced the GIL between it and the event loop on each probe result.
        self.hurry.clear()  # before the checks: a marker queued after them sets it again
        if self.markers_queued == 0 and len(self.backlog) + self.queue.qsize() < self.batch_max:
            self.hurry.wait(self.flush_interval)
        while len(batch.items) < self.batch_max:
            try:
                thing = self.backlog.popleft() if self.backlog else self.queue.get_nowait()
            except queue.Empty:
                break
            if batch.take(thing):
                self.markers_queued -= 1
                break
        return batch

    def _write(self, batch: Batch) -> bool:
        """Commit the batch's items; return False to retry later with the same items."""
        self.wake.clear()  # a flush arriving from now on shortens the next backoff
        # Flushes and closes write the held rows too: whoever waits on one reads them next.
        write_held = (batch.marker is not None and batch.marker.held) or self._held_due()
        if not batch.items and not (write_held and self.held):
            return True
        try:
            self._commit(list(batch.items), write_held=write_held)
        except FencedError as exc:  # a stale leader's writes: never retried, never committed
            self._fenced(batch, exc)
            return True
        except self.transient as exc:  # locked, busy, full, I/O error, connection lost
            self._failed(exc)
            return False
        except Exception:  # a bad item or a bug: isolate it so it cannot wedge the queue
            log.exception("store batch failed; retrying its items one at a time")
            return self._write_each(batch)
        self._succeeded(len(batch.items))
        batch.items.clear()
        return True

    def _write_each(self, batch: Batch) -> bool:
        """Commit items one per transaction, dropping (and logging) any that cannot be stored."""
        while batch.items:
            item = batch.items[0]
            try:
                self._commit([item], write_held=True)
            except FencedError as exc:
                self._fenced(batch, exc)
                return True
            except self.transient as exc:
                self._failed(exc)
                return False  # what is left is retried; what committed stays committed
            except Exception as exc:
                log.exception("store dropped an item it cannot write: %r", item)
                self.last_error = f"dropped {type(item).__name__}: {exc!r}"
            self._succeeded(1)
            batch.items.popleft()
        return True

    def _held_due(self) -> bool:
        since = self.held.since
        if since is None:
            return False
        held_for = self.clock.time() - since
        return held_for >= self.held_flush or held_for < 0  # < 0: the wall clock stepped back

    def _commit(self, items: list[WriteItem], *, write_held: bool) -> None:
        """Apply items in one transaction; on any failure roll back and re-raise."""
        conn = self.db.conn
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now: a lock fails here, not mid-way
        try:
            if self.guard is not None:
                self.guard(conn)
            applier = BatchApplier(conn, self.keys, self.held, write_held=write_held)
            applier.apply(items)
            conn.execute("COMMIT")
        except BaseException:
            self.keys.rolled_back()  # first: the ROLLBACK itself may fail on a sick disk
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.keys.committed()
        # Only now: a batch rolled back and retried must not be counted twice.
        if applier.write_held:
            self.held.clear()
        else:
            self.held.absorb(applier, self.clock.time())
        self.commit_seconds += time.perf_counter() - started
        self.commits += 1

    def _succeeded(self, count: int) -> None:
        self.done += count
        self.failures = 0
        self.writable = True
        self.last_write = self.clock.time()

    def _fenced(self, batch: Batch, exc: FencedError) -> None:
        """Drop the batch's items: the fence says another node leads now."""
        dropped = len(batch.items)
        log.warning("store dropped a batch of %d items: %s", dropped, exc)
        self.fenced += dropped
        self.done += dropped
        self.last_error = f"fenced: {exc}"
        batch.items.clear()

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        self.writable = False
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.warning("store write failed (attempt %d), will retry: %s", self.failures, exc)

    def _backoff(self) -> None:
        self._spill()
        delay = min(BACKOFF_CAP, BACKOFF_START * 2 ** (self.failures - 1))
        self.wake.wait(delay)

    def _spill(self) -> None:
        """While the database is away, take what waits off the queue and keep it within bound."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.backlog.append(self.queue.get_nowait())
        excess = self.pending - self.max_pending
        if excess <= 0:
            return
        # Passing checks go first, oldest first: they only add to rollups, while a failing
        # check is evidence (SLA.md) and a transition, outage, gap, incident or outbox item is a
        # decision that nothing else records. Failing checks go only if passing ones did not
        # suffice; the rest is kept even past the bound.
        dropped = 0
        for ok in (True, False):
            for items in (self.batch.items, self.backlog):
                dropped += _drop_checks(items, excess - dropped, ok=ok)
        if dropped:
            self.dropped += dropped
            log.warning(
                "store unreachable: %d items wait in memory (max_pending %d); dropped the %d "
                "oldest checks (%d since start)",
                self.pending,
                self.max_pending,
                dropped,
                self.dropped,
            )


def _drop_checks(items: deque[WriteItem | Marker], count: int, *, ok: bool) -> int:
    """Remove the first `count` check results whose `ok` is `ok`; return how many went."""
    if count <= 0:
        return 0
    kept: deque[WriteItem | Marker] = deque()
    dropped = 0
    for thing in items:
        if dropped < count and type(thing) is CheckResult and thing.ok == ok:
            dropped += 1
        else:
            kept.append(thing)
    items.clear()
    items.extend(kept)
    return dropped
