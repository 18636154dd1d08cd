"""Two real `statuswatch run` nodes on one real PostgreSQL: one leads, the other follows and
forwards the writes to it; the leader `kill -9`ed, the follower leads within the TTL plus one
renew interval and goes on deciding (the target's outage is recorded under its term).

The failover scenarios run with real mail (aiosmtpd) and confirmed subscribers: a leader killed
while its target is down, or paused past its TTL (with a write waiting in the database) and
resumed, leaves ONE outage (from the first failing check), ONE automatic incident and ONE mail
to each subscriber, read from PostgreSQL and the mailbox, and the paused leader's write refused
by the database; the only fixed waits are the quiet periods a "nothing more" needs.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import psycopg
import pytest

from tests.helpers.failover import (
    CLUSTER_TOKEN,
    RENEW,
    SURVIVING_INTERVAL,
    TTL,
    Pair,
    node_config,
    role,
)
from tests.helpers.postgres import PostgresCluster
from tests.helpers.processes import (
    TOKEN,
    Statuswatch,
    Target,
    get_json,
    healthz,
    request,
    wait_until,
)


def test_the_follower_leads_within_the_ttl_after_the_leader_is_killed(
    tmp_path: Path, target: Target, postgres: PostgresCluster, monkeypatch
) -> None:
    monkeypatch.setenv("STATUSWATCH_DATABASE_URL", postgres.database())
    monkeypatch.setenv("STATUSWATCH_CLUSTER_TOKEN", CLUSTER_TOKEN)
    config_a, port_a = node_config(tmp_path, "a", target)
    config_b, port_b = node_config(tmp_path, "b", target)
    a = Statuswatch(config_a, name="a")
    nodes = [a]
    try:
        wait_until("node a leads", lambda: role(port_a) == "leader", 30)
        b = Statuswatch(config_b, name="b")
        nodes.append(b)
        wait_until("node b follows", lambda: role(port_b) == "follower", 30)
        assert healthz(port_b)[1]["lease"]["holder"] == "a"
        # A write at the follower is answered by the leader.
        incident = {
            "title": "Checkout is slow",
            "status": "investigating",
            "body": "We are looking into it.",
            "components": {},
        }
        status, _, body = request(
            "POST", f"http://127.0.0.1:{port_b}/api/v1/incidents", token=TOKEN, body=incident
        )
        assert status == 201, body
        a.stop(signal.SIGKILL)
        killed = time.monotonic()
        wait_until("node b leads", lambda: role(port_b) == "leader", TTL + TTL / 3 + 5)
        took = time.monotonic() - killed
        assert took <= TTL + TTL / 3 + 1.0, took
        lease = healthz(port_b)[1]["lease"]
        assert (lease["holder"], lease["fence"]) == ("b", 2)
        target.answer(500)

        def api_down() -> bool:
            summary = get_json(f"http://127.0.0.1:{port_b}/api/v2/summary.json")
            return any(
                c["name"] == "Storefront API" and c["status"] != "operational"
                for c in summary["components"]
            )

        wait_until("the new leader decides the target is down", api_down, 15)
        print(f"failover: node b led {took:.2f} s after node a was killed (ttl {TTL} s)")
    finally:
        for node in nodes:
            node.stop(signal.SIGKILL if node.proc.poll() is None else signal.SIGTERM)


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def component_status(port: int) -> str:
    """The storefront's status on the page's JSON, as the node's web worker serves it."""
    summary = get_json(f"http://127.0.0.1:{port}/api/v2/summary.json")
    (api,) = [c for c in summary["components"] if c["name"] == "Storefront API"]
    return api["status"]


def test_nodes_with_web_workers_serve_the_leaders_state_through_a_takeover(
    tmp_path: Path, target: Target, postgres: PostgresCluster, monkeypatch
) -> None:
    """Each node as deployed: a supervisor, its monitor and a web worker; the follower's worker
    shows what the leader decided, and after the leader's machine dies, what the new one does."""
    monkeypatch.setenv("STATUSWATCH_DATABASE_URL", postgres.database())
    monkeypatch.setenv("STATUSWATCH_CLUSTER_TOKEN", CLUSTER_TOKEN)
    config_a, port_a = node_config(tmp_path, "a", target, workers=1)
    config_b, port_b = node_config(tmp_path, "b", target, workers=1)
    a = Statuswatch(config_a, name="a")
    nodes = [a]
    try:
        wait_until("node a leads", lambda: healthz(port_a)[1].get("role") == "leader", 30)
        b = Statuswatch(config_b, name="b")
        nodes.append(b)
        wait_until("node b follows", lambda: healthz(port_b)[1].get("role") == "follower", 30)
        target.answer(500)
        for port in (port_a, port_b):
            wait_until(
                f"the outage on the page at {port}",
                lambda port=port: component_status(port) != "operational",
                15,
            )
        machine = [a.pid, *children(a.pid)]  # the supervisor, its monitor and web worker
        for pid in machine:
            os.kill(pid, signal.SIGKILL)
        died = time.monotonic()
        wait_until(
            "node b leads", lambda: healthz(port_b)[1].get("role") == "leader", TTL + RENEW + 5
        )
        took = time.monotonic() - died
        assert took <= TTL + RENEW + 1.0, took
        target.answer(200)
        wait_until(
            "b's worker shows b's verdict", lambda: component_status(port_b) == "operational", 15
        )
        print(f"failover with web workers: node b led {took:.2f} s after node a's machine died")
    finally:
        for node in nodes:
            node.stop(signal.SIGKILL if node.proc.poll() is None else signal.SIGTERM)


@pytest.fixture
def make_pair(tmp_path: Path, target: Target, postgres: PostgresCluster, monkeypatch):
    url = postgres.database()
    monkeypatch.setenv("STATUSWATCH_DATABASE_URL", url)
    monkeypatch.setenv("STATUSWATCH_CLUSTER_TOKEN", CLUSTER_TOKEN)
    pairs: list[Pair] = []

    def make(interval: float = 1.0) -> Pair:
        pairs.append(Pair(tmp_path, target, url, interval))
        return pairs[-1]

    yield make
    for pair in pairs:
        pair.close()


def test_a_leader_killed_as_the_outage_is_confirmed_leaves_one_outage_incident_and_mail(
    make_pair, target: Target
) -> None:
    pair = make_pair(SURVIVING_INTERVAL)
    target.answer(500)
    wait_until("the outage confirmed", pair.outages, SURVIVING_INTERVAL + 10, every=0.02)
    pair.a.stop(signal.SIGKILL)
    took = pair.takeover(time.monotonic())
    pair.settled_once()
    pair.one_outage_from_the_first_failure()
    assert pair.gaps() == []
    print(f"failover during an outage: node b led {took:.2f} s after node a was killed")


def test_a_takeover_longer_than_two_intervals_is_a_gap_between_two_halves_one_incident_one_mail(
    make_pair, target: Target
) -> None:
    pair = make_pair()  # checks every second: the takeover outlasts the gap rule
    target.answer(500)
    wait_until("the outage confirmed", pair.outages, 15, every=0.02)
    pair.a.stop(signal.SIGKILL)
    took = pair.takeover(time.monotonic())
    pair.settled_once(outages=2)
    (first_start, first_end), (second_start, _) = pair.outages()
    assert first_start == pytest.approx(pair.first_failure(), abs=0.001)
    ((gap_start, gap_end, _),) = pair.gaps()
    assert first_end == pytest.approx(gap_start, abs=0.001)
    assert gap_end - gap_start > 2 * pair.interval
    assert gap_end <= second_start
    print(f"failover past the gap rule: node b led {took:.2f} s after node a was killed")


# The lease's statements (renew, take over): every other statement waiting at the test's lock
# is a write transaction of node a's writer (node b, following, sends none).
CAMPAIGN = "%ON CONFLICT (name)%"


class Stall:
    """The test's transaction holding `leases` and `checks` in EXCLUSIVE mode: plain reads go
    on, but a write transaction of node a's waits, its guard statement first (FOR SHARE takes
    ROW SHARE, which EXCLUSIVE excludes, before the statement reads the row: when let go, the
    guard judges the lease as the database has it then). `checks` too: with the guard gone, the
    batch's first insert waits instead, so a batch is held either way."""

    def __init__(self, url: str) -> None:
        # Its own connection: within a transaction pg_stat_activity is a snapshot.
        self.watch = psycopg.connect(url, autocommit=True)
        # Locked just after a renew: the leader's renews wait too, and it steps down once one
        # times out (a third of the TTL later); its next batch (within a check interval plus
        # the batching window) must reach the guard before that.
        renewed = self._expires()
        wait_until("node a renews", lambda: self._expires() != renewed, RENEW + 2, every=0.01)
        self.holder = psycopg.connect(url)  # a transaction, until `release`
        self.holder.execute("LOCK TABLE leases, checks IN EXCLUSIVE MODE")

    def _expires(self) -> float:
        ((expires,),) = self.watch.execute("SELECT expires FROM leases").fetchall()
        return expires

    def waiting(self, *, before: float = 0.0) -> list[str]:
        """The statements waiting at the lock (campaign rounds sent before `before` only)."""
        return [
            query
            for (query,) in self.watch.execute(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' "
                "AND (query NOT LIKE %s OR extract(epoch from query_start) < %s)",
                (CAMPAIGN, before),
            )
        ]

    def lease_expired(self) -> bool:
        """Node a's term is over on the database's clock (a plain read passes the lock)."""
        ((expired,),) = self.watch.execute(
            "SELECT expires <= extract(epoch from clock_timestamp()) FROM leases"
        ).fetchall()
        return expired

    def release(self) -> None:
        self.holder.commit()
        self.holder.close()
        self.watch.close()


def _checks_before(url: str, when: float) -> int:
    """How many check rows are dated before `when` (epoch seconds)."""
    with psycopg.connect(url, autocommit=True) as conn:
        ((count,),) = conn.execute(
            "SELECT count(*) FROM checks WHERE time < %s", (when,)
        ).fetchall()
    return count


def _stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


def test_a_paused_leader_resumed_after_the_takeover_writes_nothing_stale(
    make_pair, target: Target
) -> None:
    """Node a is paused with a write transaction sent and its guard statement waiting in the
    database; the lease expires, node b takes over, and only then does the guard run: the
    database refuses it (a's log says its fence is no longer current, which only the guard's
    statement concludes) and not one row of that batch lands.

    A stale row is a check row dated before the pause that was not there at the pause: every
    check dated then is node a's (node b checks nothing before it leads, after the pause), and
    a's writer is a single transaction at a time, held at the lock. A pause alone proves
    nothing: the resumed node's own deadline refuses what it had queued before any of it
    reaches the database, so a write must be in flight past the guard's local check when the
    node stops (tests/test_cluster_fencing.py drives the same race in one process).
    """
    pair = make_pair()
    stall = Stall(pair.url)
    try:
        (held,) = wait_until("node a's write waits at the lock", stall.waiting, 10)
        pair.a.proc.send_signal(signal.SIGSTOP)
        wait_until("node a paused", lambda: _stopped(pair.a.pid), 5)
        paused, paused_at = time.monotonic(), time.time()
        checks = _checks_before(pair.url, paused_at)
        target.answer(500)  # node a saw the target up: resumed, it would decide "down" anew
        # Let go only once a's term is over on the database and no renew a sent before the
        # pause still waits (its statement_timeout ends it): the held guard then meets b's term.
        wait_until(
            "node a's lease expired, its last renew gone",
            lambda: stall.lease_expired() and stall.waiting(before=paused_at) == [held],
            TTL + 5,
        )
    finally:
        stall.release()
    took = pair.takeover(paused)
    pair.settled_once()
    pair.one_outage_from_the_first_failure()
    pair.a.proc.send_signal(signal.SIGCONT)
    resumed = time.monotonic()
    wait_until("node a follows", lambda: role(pair.port_a) == "follower", RENEW + 2)
    stepped = time.monotonic() - resumed
    assert stepped <= RENEW + 0.5, stepped
    pair.a.running()
    pair.settled_once()  # nothing doubled by the resumed node
    assert _checks_before(pair.url, paused_at) == checks  # the held batch did not land
    refused = re.compile(r"store dropped a batch of (\d+) items: a's lease fence 1 is no longer")
    found = refused.findall(pair.a.log())  # the guard's statement said so, not a's own clock
    assert found and int(found[0]) >= 1, found
    assert healthz(pair.port_b)[1]["lease"]["holder"] == "b"
    print(
        f"pause: node b led {took:.2f} s after a was paused; a resumed followed within "
        f"{stepped:.2f} s; the database refused a's held batch of {found[0]} items"
    )
