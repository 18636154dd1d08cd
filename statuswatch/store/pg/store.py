"""PgStore: the store on PostgreSQL: the same writer thread, reads from a connection pool."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from statuswatch.clock import SystemClock
from statuswatch.store.errors import StoreUnreachableError
from statuswatch.store.pg.connection import PgConnection, configure, conninfo
from statuswatch.store.pg.schema import migrate, schema_version
from statuswatch.store.protocol import WriteItem
from statuswatch.store.schema import MIGRATIONS
from statuswatch.store.store import SchemaNotReadyError, Store
from statuswatch.store.writer import HELD_FLUSH, MAX_PENDING, WallClock, Writer

log = logging.getLogger(__name__)

T = TypeVar("T")

# Errors the writer retries with backoff: the server gone (restart, failover), a serialization
# or deadlock abort, a transaction that landed on a server that is read-only now (demoted).
TRANSIENT: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.errors.ReadOnlySqlTransaction,
)
POOL_TIMEOUT = 10.0  # seconds a read waits for a connection before it fails
# ...while the last read found no connection to be had (the server away): a page render makes
# several reads, and each waiting the full timeout (twice) kept the last good copy from being
# served for tens of seconds. One short wait still lets a returning server be noticed at once.
UNREACHABLE_TIMEOUT = 0.5
# How long the read pool keeps retrying one connection before it gives that attempt up. Its
# retries back off without a cap (1, 2, 4, 8, 16, 32 s...): after a 30 s outage the next try
# could be half a minute after the server was back, reads failing all the while (a leader's
# mail waited for it). Given up after this long, the next read starts a fresh attempt, whose
# first try is at once: reads come back within about this long of the server.
RECONNECT_WINDOW = 2.0


class PgStore(Store):
    """The PostgreSQL implementation of StoreProtocol (statuswatch/store/protocol.py).

    Writes go through the same Writer thread as SQLite's, on one connection of its own; reads
    run on `readers` threads, each taking a connection from a pool. `readonly=True` is the web
    role's: reads only, no writer, no migration (the monitor role migrates).
    """

    def __init__(
        self,
        url: str,
        *,
        readonly: bool = False,
        readers: int = 4,
        batch_max: int = 2000,
        flush_interval: float = 0.25,
        held_flush: float = HELD_FLUSH,
        clock: WallClock | None = None,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.url = url
        self.readonly = readonly
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._unreachable = False  # the last read found no connection (see UNREACHABLE_TIMEOUT)
        self._size = 0
        db = PgConnection(url)
        try:
            if readonly:
                _require_schema(db)
            else:
                migrate(db)
                self._writer = Writer(
                    db,  # type: ignore[arg-type] - PgConnection has the Database surface
                    clock=clock or SystemClock(),
                    batch_max=batch_max,
                    flush_interval=flush_interval,
                    held_flush=held_flush,
                    transient=TRANSIENT,
                    max_pending=max_pending,
                )
        except psycopg.OperationalError as exc:
            db.close()
            said = " ".join(str(exc).split())  # libpq's lines, as one log line
            raise StoreUnreachableError(f"the database cannot be reached: {said}") from None
        except BaseException:
            db.close()
            raise
        if readonly:
            db.close()  # the schema check was all it was for
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=readers,
            kwargs=conninfo(url),
            configure=configure,
            check=ConnectionPool.check_connection,  # a server restart leaves broken ones
            timeout=POOL_TIMEOUT,
            reconnect_timeout=RECONNECT_WINDOW,
            open=False,
            name="statuswatch-store-read",
        )
        try:
            self._pool.open(wait=True, timeout=POOL_TIMEOUT)
        except BaseException:
            if not readonly:
                db.close()
            raise
        self._reader = ThreadPoolExecutor(
            max_workers=readers, thread_name_prefix="statuswatch-store-read"
        )

    @property
    def guard(self) -> Callable[[PgConnection], None] | None:
        """Called as the first statement of every write transaction; raises FencedError to
        have the batch dropped (the leader lease's fence check)."""
        return None if self.readonly else self._writer.guard

    @guard.setter
    def guard(self, check: Callable[[PgConnection], None] | None) -> None:
        self._writer.guard = check

    async def start(self) -> None:
        """Start the writer thread (nothing to start when read-only)."""
        if self.readonly:
            self._loop = asyncio.get_running_loop()
            return
        await super().start()

    def submit(self, item: WriteItem) -> None:
        """Queue an item for writing (read-only: refused, the monitor role writes)."""
        if self.readonly:
            name = type(item).__name__
            raise RuntimeError(f"read-only store: a {name} is the monitor's to write")
        super().submit(item)

    async def flush(self) -> None:
        """Wait until everything submitted before this call is committed."""
        if not self.readonly:
            await super().flush()

    async def settle(self) -> None:
        """Wait until the items submitted so far are committed (see Store.settle)."""
        if not self.readonly:
            await super().settle()

    def retry_now(self) -> None:
        """Retry a held batch now (read-only: nothing is ever held)."""
        if not self.readonly:
            super().retry_now()

    async def close(self) -> None:
        """Write everything submitted, stop the writer, close the pool."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self.readonly:
                await self._stop_writer()
        finally:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._reader, self._pool.close)
            self._reader.shutdown(wait=True)

    async def _read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a query from `reads` on a reader thread with a pooled connection."""
        if self._closed:
            raise RuntimeError("store is closed")
        call = functools.partial(self._pooled, query, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._reader, call)

    def _pooled(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        timeout = UNREACHABLE_TIMEOUT if self._unreachable else POOL_TIMEOUT
        try:
            try:
                found = self._on_pooled(timeout, query, *args, **kwargs)
            except PoolTimeout:
                raise  # no connection to be had: asking again would only wait again
            except psycopg.OperationalError:
                # Once more on a fresh connection: the pooled one may predate a server restart.
                found = self._on_pooled(timeout, query, *args, **kwargs)
        except PoolTimeout:
            self._unreachable = True
            raise
        self._unreachable = False
        return found

    def _on_pooled(self, timeout: float, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._pool.connection(timeout=timeout) as raw:
            return query(PgConnection.over(raw), *args, **kwargs)

    async def health(self) -> dict[str, Any]:
        """Whether writes succeed (or, read-only, whether this process can read)."""
        if self.readonly:
            return {"readable": True, "data_version": await self.data_version()}
        return await super().health()

    def write_stats(self) -> dict[str, Any]:
        """health() without awaiting, plus commits, their seconds and fenced items."""
        if self.readonly:
            return {"writable": None, "last_write": None, "pending": 0, "commits": 0}
        return super().write_stats()

    def size_bytes(self) -> int:
        """The database's size on the server (pg_database_size); the last known if unreachable."""
        try:
            with self._pool.connection(timeout=1.0) as raw:
                row = raw.execute("SELECT pg_database_size(current_database())").fetchone()
        except (psycopg.Error, OSError) as exc:  # PoolTimeout is a psycopg.Error too
            log.debug("database size unknown: %s", exc)
            return self._size
        self._size = int(row[0]) if row else self._size
        return self._size


def _require_schema(db: PgConnection) -> None:
    """Refuse a database the monitor role has not migrated to this version (yet)."""
    found = schema_version(db)
    if found != len(MIGRATIONS):
        raise SchemaNotReadyError(
            f"the PostgreSQL database has schema version {found}, "
            f"this statuswatch reads {len(MIGRATIONS)}"
        )
