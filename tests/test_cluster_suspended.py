"""A term that continues across a database outage, on a real PostgreSQL in this process: a
leader cut off from the database past its local deadline keeps its work running and its writes
held (the guard says "not yet", never "never"); its term continues under fence + 1 when the row
still carries its name and fence, and the held write lands; when another node led meanwhile the
work is stopped and the held write is dropped (counted), and never lands under a later term of
this node either. A follower that saw the database's errors only reads the lease for two rounds
before it may take an expired row; one that saw none takes it at once.

Being cut off is real: the lease's connection goes to a database that does not exist (the
connection is refused, an OperationalError, as for a stopped server), while the store keeps its
own connection. Rounds are driven one by one (`step`), time by a FakeClock: nothing sleeps; the
only waits are for the store's real writer thread to have tried a batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import psycopg
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from statuswatch.clock import FakeClock
from statuswatch.cluster.campaign import Campaign
from statuswatch.cluster.lease import FIRST_READS, Lease
from statuswatch.metrics.lease import LeaseCollector
from statuswatch.store import RegisterMonitors
from statuswatch.store.errors import FencedError, SuspendedError
from statuswatch.store.pg import PgStore
from tests.helpers.cluster import expire_lease
from tests.helpers.postgres import PostgresCluster
from tests.test_metrics import parse, promtool_check, value

TTL = 15.0
NOW = 1_794_009_600.0


class Node:
    """One contender: its lease (whose database can be cut off), its campaign, its store
    (fenced by the lease, as a node's is) and a log of its leader work."""

    def __init__(self, name: str, url: str, clock: FakeClock) -> None:
        self.url = url
        self.reach = url
        self.events: list[str] = []
        self.lease = Lease(
            lambda: psycopg.connect(self.reach, autocommit=True, connect_timeout=2),
            node=name,
            ttl=TTL,
            clock=clock,
            advertise=f"http://{name}:8080",
        )
        self.campaign = Campaign(
            self.lease, elected=self._elected, deposed=self._deposed, continued=self._continued
        )
        self.store = PgStore(url, clock=clock, flush_interval=0.01)
        self.store.guard = self.lease.guard

    def cut(self) -> None:
        """The lease's database is unreachable from now on (the connection refused)."""
        self.reach = self.url.rsplit("/", 1)[0] + "/unreachable_database"
        self.lease.close()

    def rejoin(self) -> None:
        self.reach = self.url

    async def _elected(self) -> None:
        self.events.append(f"start {self.lease.fence}")

    async def _deposed(self) -> None:
        self.events.append("stop")
        await self.store.flush()  # as Monitoring.stop does: what was held meets the guard

    async def _continued(self) -> None:
        self.events.append(f"continue {self.lease.fence}")
        self.store.retry_now()

    async def held(self, monitor: str) -> None:
        """Submit a write and wait until the writer has tried it and the guard held it."""
        self.store.submit(RegisterMonitors([(monitor, "http", "api")], NOW))
        async with asyncio.timeout(10):
            while "suspended" not in (self.store.write_stats()["last_error"] or ""):
                await asyncio.sleep(0.01)
        assert self.store.write_stats()["pending"] == 1

    async def stored(self) -> list[str]:
        return sorted(m.id for m in await self.store.monitors())


@pytest.fixture
async def nodes(postgres: PostgresCluster) -> AsyncIterator[Callable[[str, FakeClock], Node]]:
    url = postgres.database()
    made: list[Node] = []

    def make(name: str, clock: FakeClock) -> Node:
        made.append(Node(name, url, clock))
        return made[-1]

    yield make
    for node in made:
        node.lease.abandon()  # what is still held is dropped, not retried forever
        await node.store.close()
        node.lease.close()


async def suspended_leader(node: Node, clock: FakeClock) -> None:
    """`node` leads, is cut off, and its local deadline passes: the term is suspended."""
    await node.store.start()
    await node.campaign.step()
    assert node.events == ["start 1"]
    node.cut()
    await node.campaign.step()  # the renew gets no answer: the term holds until the deadline
    assert node.lease.state == "leading" and not node.campaign.serving
    remaining = node.lease.deadline_in()
    assert remaining is not None
    clock.advance(remaining)
    await node.campaign.check_deadline()  # the watchdog's round at the deadline
    assert node.lease.state == "suspended" and node.lease.suspended == 1
    assert node.events == ["start 1"] and node.campaign.leading  # the work goes on
    await node.campaign.step()  # still cut off: still suspended, still running
    assert node.events == ["start 1"] and node.lease.state == "suspended"


async def test_a_suspended_term_continues_under_the_next_fence_and_its_held_write_lands(
    nodes,
) -> None:
    clock = FakeClock(NOW)
    a = nodes("a", clock)
    await suspended_leader(a, clock)
    await a.held("probed-while-cut-off")
    with psycopg.connect(a.url) as conn, pytest.raises(SuspendedError):
        a.lease.guard(conn)  # not yet: never FencedError while suspended
    expire_lease(a.url)  # the outage outlasted the TTL on the database's clock too
    a.rejoin()
    await a.campaign.step()
    assert a.lease.state == "leading" and (a.lease.fence, a.lease.continues) == (2, 1)
    assert a.campaign.term == 2 and a.campaign.serving
    assert a.events == ["start 1", "continue 2"]  # the work was never restarted
    await a.store.flush()
    assert await a.stored() == ["probed-while-cut-off"]
    assert a.store.write_stats()["fenced"] == 0
    assert (a.lease.renewals.continued, a.lease.renewals.acquired) == (1, 1)
    await a.campaign.step()  # and the continued term renews as any other
    assert a.lease.fence == 2 and a.events == ["start 1", "continue 2"]


async def test_a_suspended_term_ends_when_another_node_took_the_lease(nodes) -> None:
    clock = FakeClock(NOW)
    a, b = nodes("a", clock), nodes("b", clock)
    await suspended_leader(a, clock)
    await a.held("probed-while-cut-off")
    expire_lease(a.url)
    await b.store.start()
    await b.campaign.step()  # b saw no error: it takes the expired row at once
    assert b.events == ["start 2"]
    a.rejoin()
    await a.campaign.step()
    assert a.events == ["start 1", "stop"] and not a.campaign.leading
    assert a.lease.state == "following" and a.lease.renewals.lost == 1
    assert a.store.write_stats()["fenced"] == 1 and a.store.write_stats()["pending"] == 0
    assert await a.stored() == []
    with psycopg.connect(a.url) as conn, pytest.raises(FencedError):
        a.lease.guard(conn)
    # Nor does anything of the old term land under a later term of this node.
    await b.campaign.stop()  # b gives the lease up
    await a.campaign.step()  # a saw errors: its second answered round only reads...
    assert a.events == ["start 1", "stop"] and a.lease.renewals.deferred == FIRST_READS - 1
    await a.campaign.step()  # ...its third takes the free row: a term of its own
    assert a.events == ["start 1", "stop", "start 3"]
    await a.store.flush()
    assert await a.stored() == []


async def test_a_suspended_term_ends_when_another_node_led_and_released_meanwhile(
    nodes,
) -> None:
    clock = FakeClock(NOW)
    a, b = nodes("a", clock), nodes("b", clock)
    await suspended_leader(a, clock)
    await a.held("probed-while-cut-off")
    expire_lease(a.url)
    await b.store.start()
    await b.campaign.step()
    await b.campaign.stop()  # b led (fence 2) and gave the row up: expired, free to take
    assert b.events == ["start 2", "stop"]
    a.rejoin()
    await a.campaign.step()
    assert a.events == ["start 1", "stop"] and a.lease.state == "following"
    assert a.store.write_stats()["fenced"] == 1
    assert await a.stored() == []


async def test_a_node_stopped_while_suspended_drops_what_it_held(nodes) -> None:
    clock = FakeClock(NOW)
    a = nodes("a", clock)
    await suspended_leader(a, clock)
    await a.held("probed-while-cut-off")
    await a.campaign.stop()  # the process ends: what it held can never be written later
    assert a.events == ["start 1", "stop"] and a.lease.state == "following"
    assert a.store.write_stats()["fenced"] == 1 and await a.stored() == []


async def test_a_follower_that_saw_errors_reads_first_so_the_cut_off_leader_continues(
    nodes,
) -> None:
    clock = FakeClock(NOW)
    a, b = nodes("a", clock), nodes("b", clock)
    await b.store.start()
    await suspended_leader(a, clock)
    await b.campaign.step()
    assert b.events == [] and b.campaign.known is not None and b.campaign.known.holder == "a"
    b.cut()  # the database is gone for b too
    await b.campaign.step()
    expire_lease(a.url)
    b.rejoin()  # the database is back, b's round comes first
    await b.campaign.step()
    assert b.events == [] and b.lease.renewals.deferred == 1  # only read the expired row
    a.rejoin()
    await a.campaign.step()
    assert a.events == ["start 1", "continue 2"]
    for _ in range(FIRST_READS):
        await b.campaign.step()
    assert b.events == [] and b.campaign.known is not None
    assert (b.campaign.known.holder, b.campaign.known.fence) == ("a", 2)
    assert (b.lease.renewals.deferred, b.lease.renewals.refused) == (FIRST_READS, 2)


async def test_a_follower_without_errors_takes_an_expired_row_at_once(nodes) -> None:
    clock = FakeClock(NOW)
    a, b = nodes("a", clock), nodes("b", clock)
    await a.store.start()
    await b.store.start()
    await a.campaign.step()
    expire_lease(a.url)  # a died (kill -9): the database never went away
    await b.campaign.step()
    assert b.events == ["start 2"] and b.lease.renewals.deferred == 0


async def test_errors_older_than_the_ttl_do_not_hold_a_follower_back(nodes) -> None:
    clock = FakeClock(NOW)
    a, b = nodes("a", clock), nodes("b", clock)
    await a.store.start()
    await b.store.start()
    await a.campaign.step()
    b.cut()
    await b.campaign.step()
    b.rejoin()
    clock.advance(TTL)
    expire_lease(a.url)
    await b.campaign.step()
    assert b.events == ["start 2"] and b.lease.renewals.deferred == 0


async def test_a_suspended_lease_is_seen_in_its_metrics(nodes) -> None:
    clock = FakeClock(NOW)
    a = nodes("a", clock)
    await suspended_leader(a, clock)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LeaseCollector(a.lease))
    text = generate_latest(registry).decode()
    promtool_check(text)
    got = parse(text)
    assert value(got, "statuswatch_leader") == 0  # it holds no current lease
    assert value(got, "statuswatch_lease_suspended") == 1
    assert value(got, "statuswatch_lease_fence") is None
    assert value(got, "statuswatch_lease_renewals_total", outcome="error") == 2
    a.rejoin()
    await a.campaign.step()
    got = parse(generate_latest(registry).decode())
    assert value(got, "statuswatch_lease_suspended") == 0
    assert value(got, "statuswatch_lease_renewals_total", outcome="continued") == 1
