"""Two real `statuswatch run` nodes on one real PostgreSQL: one leads, the other follows and
forwards the writes to it; the leader `kill -9`ed, the follower leads within the TTL plus one
renew interval and goes on deciding (the target's outage is recorded under its term).

The failover scenarios run with real mail (aiosmtpd) and confirmed subscribers: a leader killed
while its target is down, or paused past its TTL and resumed, leaves ONE outage (from the first
failing check), ONE automatic incident and ONE mail to each subscriber, read from PostgreSQL and
the mailbox; the only fixed waits are the quiet periods a "nothing more" needs.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

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


def test_a_paused_leader_resumed_after_the_takeover_writes_nothing_stale(
    make_pair, target: Target
) -> None:
    pair = make_pair()
    pair.a.proc.send_signal(signal.SIGSTOP)
    paused = time.monotonic()
    target.answer(500)  # node a saw the target up: resumed, it would decide "down" anew
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
    assert healthz(pair.port_b)[1]["lease"]["holder"] == "b"
    fenced = pair.a.log().count("store dropped a batch")
    print(
        f"pause: node b led {took:.2f} s after a was paused; a resumed followed within "
        f"{stepped:.2f} s; {fenced} stale batches of a refused"
    )
