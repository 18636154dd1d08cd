"""The campaign on a real PostgreSQL: the leader's work starts with a term and stops when it
ends (a lost renew, or the local deadline passing before the TTL), never running on two nodes
at once. Rounds are driven one by one (`step`), time by a FakeClock: nothing sleeps."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import psycopg
import pytest

from statuswatch.clock import FakeClock
from statuswatch.cluster.campaign import Campaign
from statuswatch.cluster.lease import Lease
from tests.helpers.cluster import expire_lease, lease_database
from tests.helpers.postgres import PostgresCluster

TTL = 15.0


class Node:
    """One contender: its lease, its campaign, and a log of its leader work starting/stopping."""

    def __init__(self, name: str, url: str, clock: FakeClock) -> None:
        self.events: list[str] = []
        self.lease = Lease(
            lambda: psycopg.connect(url, autocommit=True),
            node=name,
            ttl=TTL,
            clock=clock,
            advertise=f"http://{name}:8080",
        )
        self.campaign = Campaign(self.lease, elected=self._elected, deposed=self._deposed)

    async def _elected(self) -> None:
        self.events.append(f"start {self.lease.fence}")

    async def _deposed(self) -> None:
        self.events.append("stop")


@pytest.fixture
def url(postgres: PostgresCluster) -> str:
    return lease_database(postgres)


@pytest.fixture
def nodes(url: str) -> Iterator[Callable[[str, FakeClock], Node]]:
    made: list[Node] = []

    def make(name: str, clock: FakeClock) -> Node:
        made.append(Node(name, url, clock))
        return made[-1]

    yield make
    for node in made:
        node.lease.close()


async def test_only_the_leader_runs_the_work_and_a_takeover_moves_it(nodes, url: str) -> None:
    clock = FakeClock()
    a, b = nodes("a", clock), nodes("b", clock)
    await a.campaign.step()
    await b.campaign.step()
    assert (a.events, b.events) == (["start 1"], [])
    assert b.campaign.known is not None and b.campaign.known.advertise == "http://a:8080"
    await a.campaign.step()  # renewed: the work goes on, not restarted
    assert a.events == ["start 1"]
    expire_lease(url)  # a stalls past the TTL on the database's clock
    await b.campaign.step()
    assert b.events == ["start 2"] and b.campaign.leading
    await a.campaign.step()
    assert a.events == ["start 1", "stop"] and not a.campaign.leading
    assert a.campaign.known is not None and a.campaign.known.holder == "b"


async def test_the_work_stops_at_the_local_deadline_before_the_ttl_ends(nodes) -> None:
    clock = FakeClock()
    a = nodes("a", clock)
    await a.campaign.step()
    remaining = a.lease.deadline_in()
    assert remaining is not None and remaining < TTL
    clock.advance(remaining)  # no renew came back in time (a partition, a hung round trip)
    await a.campaign.check_deadline()
    assert a.events == ["start 1", "stop"]


async def test_stopping_releases_the_lease_so_a_follower_takes_over_at_once(nodes) -> None:
    clock = FakeClock()
    a, b = nodes("a", clock), nodes("b", clock)
    await a.campaign.step()
    await a.campaign.stop()
    assert a.events == ["start 1", "stop"]
    await b.campaign.step()
    assert b.events == ["start 2"]


async def test_work_that_fails_to_start_steps_down(nodes) -> None:
    clock = FakeClock()
    a, b = nodes("a", clock), nodes("b", clock)

    async def broken() -> None:
        raise RuntimeError("cannot start")

    a.campaign._elected = broken
    await a.campaign.step()
    assert not a.campaign.leading and a.events == ["stop"]
    await b.campaign.step()  # released: the other node need not wait out the TTL
    assert b.events == ["start 2"]


async def test_the_lease_is_renewed_while_the_work_starts(url: str) -> None:
    """A start longer than the local deadline (a large fleet's) keeps its term: the lease is
    renewed meanwhile, from a thread of its own, and the work is neither stopped nor started
    again; the write routes are taken only once it has started."""
    clock = FakeClock()
    lease = Lease(lambda: psycopg.connect(url, autocommit=True), node="a", ttl=0.6, clock=clock)
    renewed = threading.Condition()
    attempt = lease.attempt

    def counted() -> bool:
        took = attempt()
        with renewed:
            renewed.notify_all()
        return took

    lease.attempt = counted  # type: ignore[method-assign]

    def one_more_renew(before: int) -> bool:
        with renewed:
            return renewed.wait_for(lambda: lease.renewals.renewed > before, 10)

    events: list[str] = []
    campaign: Campaign

    async def elected() -> None:
        events.append(f"start {lease.fence}")
        assert not campaign.serving  # still starting: writes are not taken yet
        for _ in range(3):  # three renew intervals: past the local deadline without renews
            clock.advance(lease.interval)
            assert await asyncio.to_thread(one_more_renew, lease.renewals.renewed)
        assert lease.leading

    async def deposed() -> None:
        events.append("stop")

    campaign = Campaign(lease, elected=elected, deposed=deposed)
    try:
        await campaign.step()
        assert events == ["start 1"] and campaign.leading and campaign.serving
        assert lease.renewals.renewed >= 3 and lease.fence == 1
        await campaign.step()
        assert events == ["start 1"]  # renewed, not started again
    finally:
        await campaign.stop()
