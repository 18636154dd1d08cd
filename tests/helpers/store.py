"""The store backends the tests run against (a fresh database per test), and items to submit.

A backend is one entry in BACKENDS: the `store_backend` fixture (tests/conftest.py) takes its
params from it, so every test of the store runs once per backend. An entry is called with the
test's tmp_path and a fixture look-up (request.getfixturevalue), so only the PostgreSQL entry
starts the session's PostgreSQL cluster, and only when a test asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statuswatch.monitor.events import MonitorSnapshot, State
from statuswatch.probes.base import CheckResult
from statuswatch.store import Store, StoreProtocol
from statuswatch.store.pg import PgStore
from tests.helpers.postgres import PostgresCluster

# Short batching window: a test's flush answers at once instead of after the default 0.25 s.
FLUSH_INTERVAL = 0.01


@dataclass(frozen=True, slots=True)
class StoreBackend:
    """Opens stores of one backend on one test's database: the same database on every call."""

    name: str
    path: Path  # where the database lives (SQLite: the file itself; PostgreSQL: tmp_path)
    opener: Callable[..., StoreProtocol]
    url: str | None = None  # PostgreSQL: the test's own database

    def open(self, **options: Any) -> StoreProtocol:
        """Open a store, not started; options are the writer's (clock, batch_max, flush_interval,
        held_flush)."""
        return self.opener(**{"flush_interval": FLUSH_INTERVAL, **options})

    async def started(self, **options: Any) -> StoreProtocol:
        """Open a store and start it."""
        store = self.open(**options)
        await store.start()
        return store

    async def reopen(self, store: StoreProtocol, **options: Any) -> StoreProtocol:
        """Close `store` and open the same database again: a simulated restart."""
        await store.close()
        return await self.started(**options)


def sqlite(tmp_path: Path) -> StoreBackend:
    """A file database (not memory: the reader and the writer each open it, as in production)."""
    path = tmp_path / "statuswatch.db"
    return StoreBackend("sqlite", path, lambda **options: Store(path, **options))


def postgresql(tmp_path: Path, cluster: PostgresCluster) -> StoreBackend:
    """A fresh database on the session's PostgreSQL server (tests/helpers/postgres.py)."""
    url = cluster.database()
    return StoreBackend("postgresql", tmp_path, lambda **options: PgStore(url, **options), url)


FixtureLookup = Callable[[str], Any]

BACKENDS: dict[str, Callable[[Path, FixtureLookup], StoreBackend]] = {
    "sqlite": lambda tmp_path, _fixture: sqlite(tmp_path),
    "postgresql": lambda tmp_path, fixture: postgresql(tmp_path, fixture("postgres")),
}


# --- items to submit ------------------------------------------------------------------------

T0 = 1_790_000_000.0


def result(monitor_id: str = "api", t: float = T0, ok: bool = True, **kw: object) -> CheckResult:
    """A check result; a failing one gets an error class and message unless given."""
    kw.setdefault("latency", 0.05)
    if not ok:
        kw.setdefault("error_class", "timeout")
        kw.setdefault("message", "no answer within 10s")
    return CheckResult(monitor_id=monitor_id, time=t, ok=ok, **kw)  # type: ignore[arg-type]


def snapshot(monitor_id: str = "api", **kw: object) -> MonitorSnapshot:
    """A down monitor's snapshot, with `kw` replacing fields."""
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
