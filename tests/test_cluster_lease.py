"""The leader lease on a real PostgreSQL: one holder at a time, a fence that grows with every
new term, a local deadline that ends leadership before the row expires, and a guard that refuses
the writes of a node whose fence is no longer current. The database's side of time is moved by
editing the row's expiry (its clock is the real one); the nodes' side is a FakeClock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from statuswatch.clock import FakeClock
from statuswatch.cluster.lease import MARGIN_SHARE, Lease
from statuswatch.store.errors import FencedError, SuspendedError
from tests.helpers.cluster import expire_lease, lease_database
from tests.helpers.postgres import PostgresCluster
from tests.helpers.processes import wait_until

TTL = 15.0
WAITING = (
    "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
)


@pytest.fixture
def url(postgres: PostgresCluster) -> str:
    return lease_database(postgres)


@pytest.fixture
def node(url: str) -> Iterator[Callable[..., Lease]]:
    made: list[Lease] = []

    def make(name: str, clock: FakeClock | None = None) -> Lease:
        lease = Lease(
            lambda: psycopg.connect(url, autocommit=True),
            node=name,
            ttl=TTL,
            clock=clock or FakeClock(),
            advertise=f"http://{name}:8080",
        )
        made.append(lease)
        return lease

    yield make
    for lease in made:
        lease.close()


def test_of_two_contenders_one_holds_and_renewing_keeps_its_fence(
    node: Callable[..., Lease],
) -> None:
    a, b = node("a"), node("b")
    assert a.attempt() and a.leading and a.fence == 1
    assert not b.attempt() and not b.leading
    assert a.attempt() and a.fence == 1  # renewed, same term
    assert not b.attempt()
    assert (a.renewals.acquired, a.renewals.renewed, b.renewals.refused) == (1, 1, 2)
    term = b.current()
    assert term is not None
    assert (term.holder, term.fence, term.advertise) == ("a", 1, "http://a:8080")


def test_an_expired_lease_goes_to_the_other_node_with_the_next_fence(
    node: Callable[..., Lease], url: str
) -> None:
    a, b = node("a"), node("b")
    assert a.attempt()
    expire_lease(url)  # a was paused (or cut off) past the TTL
    assert b.attempt() and b.fence == 2
    assert not a.attempt() and not a.leading  # its renew finds b's term
    assert a.renewals.lost == 1
    assert not a.attempt()  # and it stays a follower while b renews
    assert b.attempt() and b.fence == 2


def test_the_local_deadline_ends_leadership_before_the_ttl_without_asking_the_database(
    node: Callable[..., Lease],
) -> None:
    clock = FakeClock()
    a = node("a", clock)
    assert a.attempt()
    clock.advance(a.interval)
    assert a.leading
    remaining = a.deadline_in()
    assert remaining is not None and remaining < TTL - a.interval
    clock.advance(remaining)
    assert not a.leading  # the row is still valid on the database: we stop first
    assert a.fence is None


def test_the_local_deadline_counts_from_before_the_renew_was_sent(
    node: Callable[..., Lease], url: str
) -> None:
    clock = FakeClock()
    a = node("a", clock)
    assert a.attempt()
    sent = clock.monotonic()
    with (
        ThreadPoolExecutor(1) as renewing,
        psycopg.connect(url) as holder,
        psycopg.connect(url, autocommit=True) as watch,
    ):
        holder.execute("SELECT 1 FROM leases FOR UPDATE")  # the renew waits in the database
        renew = renewing.submit(a.attempt)
        wait_until("the renew waits", lambda: watch.execute(WAITING).fetchone(), 10)
        clock.advance(TTL / 2)  # the round trip takes half the TTL
        holder.rollback()
        assert renew.result(timeout=10)
    # The row's expiry counts from when the database ran the statement, the deadline from
    # before it was sent: the slow round trip shortens leadership, it never lengthens it.
    assert a.deadline_in() == pytest.approx(sent + TTL * (1 - MARGIN_SHARE) - clock.monotonic())


def test_a_renew_without_answer_holds_the_term_until_the_deadline_then_suspends_it(
    node: Callable[..., Lease], url: str
) -> None:
    clock = FakeClock()
    a = node("a", clock)
    assert a.attempt()
    a.close()
    a._connect = lambda: psycopg.connect(url.replace("/t", "/missing_t"), autocommit=True)
    assert not a.attempt() and a.leading and a.cut_off  # no answer is not "another holds it"
    assert a.renewals.error == 1 and a.last_error is not None
    clock.advance(TTL)
    assert not a.leading and a.state == "suspended" and a.suspended == 1
    with psycopg.connect(url) as conn, pytest.raises(SuspendedError, match="term 1"):
        a.guard(conn)  # held, not refused


def test_a_renew_refused_by_a_statement_error_ends_leadership_at_once(
    node: Callable[..., Lease],
) -> None:
    a = node("a")
    assert a.attempt()
    a.node = "a\x00"  # the statement is refused (DataError): an answer, not a lost connection
    assert not a.attempt() and not a.leading and a.state == "following"


def test_a_node_restarted_under_the_same_name_starts_a_new_term(
    node: Callable[..., Lease], url: str
) -> None:
    before = node("a")
    assert before.attempt() and before.fence == 1
    after = node("a")  # the same node name, a new process: its predecessor may still write
    assert after.attempt() and after.fence == 2
    with psycopg.connect(url) as conn, pytest.raises(FencedError, match="fence 1 is no longer"):
        before.guard(conn)  # same holder name, old fence: refused
    assert not before.attempt()  # the old process's renew finds a fence not its own


def test_a_paused_holders_guard_refuses_its_writes(node: Callable[..., Lease], url: str) -> None:
    a, b = node("a"), node("b")
    assert a.attempt()
    with psycopg.connect(url) as conn, conn.transaction():
        a.guard(conn)  # current: the write may go ahead
    expire_lease(url)
    assert b.attempt()
    # a wakes before its own deadline passed (its clock was paused with it): the database says
    # its fence is old, so the write transaction is refused.
    assert a.leading
    with psycopg.connect(url) as conn:
        with pytest.raises(FencedError, match="fence 1 is no longer current"):
            with conn.transaction():
                a.guard(conn)
                conn.execute("CREATE TABLE written_by_a (x int)")
        found = conn.execute("SELECT to_regclass('written_by_a')").fetchone()
    assert found == (None,)


def test_the_guard_refuses_once_the_local_deadline_passed(node: Callable[..., Lease], url: str):
    clock = FakeClock()
    a = node("a", clock)
    assert a.attempt()
    clock.advance(TTL)
    with psycopg.connect(url) as conn, pytest.raises(FencedError, match="does not hold"):
        a.guard(conn)


def test_a_new_term_waits_for_the_old_leaders_write_in_flight(
    node: Callable[..., Lease], url: str
) -> None:
    a, b = node("a"), node("b")
    assert a.attempt()
    with psycopg.connect(url) as conn:
        with conn.transaction():
            a.guard(conn)  # holds the lease row FOR SHARE until this transaction ends
            _expire_later = psycopg.connect(url, autocommit=True)
            _expire_later.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                _expire_later.execute("UPDATE leases SET expires = 0")
            _expire_later.close()
    expire_lease(url)
    assert b.attempt() and b.fence == 2
