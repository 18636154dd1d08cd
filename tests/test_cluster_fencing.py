"""Fencing through the real PostgreSQL store: while this node leads, every write transaction
begins with the lease's check; once another node took the lease, a batch carrying the old fence
is dropped (counted), never committed, and the new leader's writes land."""

from __future__ import annotations

import psycopg

from statuswatch.clock import FakeClock
from statuswatch.cluster.lease import Lease
from statuswatch.metrics import database as db_metrics
from statuswatch.store import RegisterMonitors
from statuswatch.store.pg import PgStore
from tests.helpers.cluster import expire_lease
from tests.helpers.postgres import PostgresCluster

NOW = 1_794_009_600.0
FENCED = "statuswatch_store_fenced"  # the counter's family, as prometheus_client names it


def _lease(url: str, name: str, clock: FakeClock) -> Lease:
    return Lease(lambda: psycopg.connect(url, autocommit=True), node=name, ttl=15.0, clock=clock)


async def test_a_batch_carrying_an_old_fence_never_lands(postgres: PostgresCluster) -> None:
    url = postgres.database()
    clock = FakeClock(NOW)
    old, new = PgStore(url, clock=clock), PgStore(url, clock=clock)
    await old.start()  # migrates: the lease table is one of the steps
    await new.start()
    a, b = _lease(url, "a", clock), _lease(url, "b", clock)
    try:
        assert a.attempt()
        old.guard, new.guard = a.guard, b.guard
        old.submit(RegisterMonitors([("api", "http", "api")], NOW))
        await old.flush()
        assert [m.id for m in await old.monitors()] == ["api"]
        expire_lease(url)  # a is paused past its TTL...
        assert b.attempt()  # ...b takes over with the next fence
        # a resumes before its local clock noticed anything: its batch must not land.
        assert a.leading
        old.submit(RegisterMonitors([("stale", "http", "api")], NOW + 1))
        await old.flush()
        new.submit(RegisterMonitors([("fresh", "http", "api")], NOW + 2))
        await new.flush()
        assert sorted(m.id for m in await new.monitors()) == ["api", "fresh"]
        assert old.write_stats()["fenced"] == 1
        assert new.write_stats()["fenced"] == 0
        for store, count in ((old, 1.0), (new, 0.0)):
            (metric,) = [m for m in db_metrics.collect(store) if m.name == FENCED]
            assert [s.value for s in metric.samples] == [count]
    finally:
        a.close()
        b.close()
        await old.close()
        await new.close()
