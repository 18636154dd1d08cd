"""/healthz says which role a node plays and /metrics carries the lease's figures: on SQLite
the one process leads its own file; a node of several on PostgreSQL exposes its lease (real
lease rows, a real exposition checked by promtool)."""

from __future__ import annotations

import psycopg
from prometheus_client import CollectorRegistry, generate_latest

from statuswatch.clock import FakeClock
from statuswatch.cluster.lease import Lease
from statuswatch.metrics.lease import LeaseCollector
from statuswatch.web import create_app
from tests.helpers.cluster import expire_lease, lease_database
from tests.helpers.config import make_config
from tests.helpers.postgres import PostgresCluster
from tests.test_metrics import parse, promtool_check, value


async def test_on_sqlite_the_process_is_the_leader_of_its_own_file(aiohttp_client, tmp_path):
    app = create_app(make_config(tmp_path, []), clock=FakeClock(), probe=False, environ={})
    client = await aiohttp_client(app)
    health = await (await client.get("/healthz")).json()
    assert health["role"] == "leader" and health["lease"] is None
    text = await (await client.get("/metrics")).text()
    promtool_check(text)
    got = parse(text)
    assert value(got, "statuswatch_leader") == 1
    assert value(got, "statuswatch_lease_fence") is None  # no lease on SQLite
    assert value(got, "statuswatch_lease_renewals_total", outcome="renewed") is None


def test_the_lease_figures_of_a_leader_and_a_follower(postgres: PostgresCluster) -> None:
    url = lease_database(postgres)
    clock = FakeClock()

    def lease(name: str) -> Lease:
        return Lease(
            lambda: psycopg.connect(url, autocommit=True), node=name, ttl=15.0, clock=clock
        )

    a, b = lease("a"), lease("b")
    try:
        assert a.attempt() and a.attempt() and not b.attempt()
        texts = []
        for each in (a, b):
            registry = CollectorRegistry(auto_describe=False)
            registry.register(LeaseCollector(each))
            texts.append(generate_latest(registry).decode())
        for text in texts:
            promtool_check(text)
        leader, follower = parse(texts[0]), parse(texts[1])
        assert value(leader, "statuswatch_leader") == 1
        assert value(leader, "statuswatch_lease_fence") == 1
        assert value(leader, "statuswatch_lease_expires_timestamp_seconds") == a.expires
        assert value(leader, "statuswatch_lease_renewals_total", outcome="acquired") == 1
        assert value(leader, "statuswatch_lease_renewals_total", outcome="renewed") == 1
        assert value(follower, "statuswatch_leader") == 0
        assert value(follower, "statuswatch_lease_fence") is None
        assert value(follower, "statuswatch_lease_renewals_total", outcome="refused") == 1
        expire_lease(url)
        assert b.attempt() and not a.attempt()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(LeaseCollector(a))
        lost = parse(generate_latest(registry).decode())
        assert value(lost, "statuswatch_leader") == 0
        assert value(lost, "statuswatch_lease_renewals_total", outcome="lost") == 1
    finally:
        a.close()
        b.close()
