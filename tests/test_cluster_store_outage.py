"""PostgreSQL itself stopped for 30 s under two real `statuswatch run` nodes (a server of the
test's own: it is stopped): node a, the leader, is cut off past its local deadline and its term
suspended, not ended. Meanwhile both nodes serve the status page and the summary JSON from their
last good copy (the page says "Monitoring is interrupted." as of then), a's /healthz says
degraded with its lease suspended, and a goes on probing, its results held in memory; the
target starts failing part way through. When PostgreSQL is back, a's term continues under the
next fence and everything held lands: a's checks cover the whole stop with no gap, the outage
is recorded once from the first failing check, one incident, one mail to each subscriber, sent
only after the database returned (mail leaves from the outbox, a table).
"""

from __future__ import annotations

import itertools
import signal
import time
from pathlib import Path

from tests.helpers.failover import CLUSTER_TOKEN, TTL, Pair, node_config
from tests.helpers.postgres import PostgresCluster
from tests.helpers.processes import Statuswatch, Target, healthz, request, wait_until
from tests.test_metrics import parse, value

STOPPED = 30.0  # how long PostgreSQL is down
FAILING_FROM = 10.0  # seconds into the stop the target starts failing
NOTICE = b"Monitoring is interrupted."


def _page(port: int, path: str) -> tuple[int, bytes]:
    status, _, body = request("GET", f"http://127.0.0.1:{port}{path}", timeout=15)
    return status, body


def _marked(port: int) -> bool:
    """The status page answers 200 and says monitoring is interrupted (as of its last copy)."""
    status, body = _page(port, "/")
    assert status == 200, status
    return NOTICE in body


def _metric(port: int, name: str, **labels: str) -> float | None:
    return value(parse(_page(port, "/metrics")[1].decode()), name, **labels)


def _lease(port: int) -> dict:
    return healthz(port)[1]["lease"]


def test_a_leader_cut_off_from_postgresql_keeps_its_term_and_writes_what_it_held(
    tmp_path: Path, target: Target, own_postgres: PostgresCluster, monkeypatch
) -> None:
    url = own_postgres.database()
    monkeypatch.setenv("STATUSWATCH_DATABASE_URL", url)
    monkeypatch.setenv("STATUSWATCH_CLUSTER_TOKEN", CLUSTER_TOKEN)
    pair = Pair(tmp_path, target, url, interval=1.0)
    ports = (pair.port_a, pair.port_b)
    try:
        for port in ports:  # the last good copies (a follower's once it read a's board)
            wait_until("the page current", lambda p=port: not _marked(p), 10)
            assert _page(port, "/api/v2/summary.json")[0] == 200
        assert (_lease(pair.port_a)["holder"], _lease(pair.port_a)["fence"]) == ("a", 1)
        own_postgres.stop()
        stopped, stopped_at = time.monotonic(), time.time()

        def suspended() -> bool:
            status, body = healthz(pair.port_a)
            lease = body["lease"]
            return status == 503 and body["status"] == "degraded" and lease["state"] == "suspended"

        wait_until("node a's term suspended, /healthz degraded", suspended, TTL + 5)
        health = healthz(pair.port_a)[1]
        assert health["role"] == "leader" and health["lease"]["fence"] == 1
        assert _metric(pair.port_a, "statuswatch_lease_suspended") == 1
        assert _metric(pair.port_a, "statuswatch_leader") == 0  # no current lease
        time.sleep(max(0.0, stopped + FAILING_FROM - time.monotonic()))
        target.answer(500)
        failing_at = time.time()
        # A page whose state has not changed stays fresh in its cache (site.idle_cache_ttl): a
        # change makes it due, and its render, unable to read the store, serves the last good
        # copy with the notice: on a when its board sees the target fail, on b when the board
        # a published can no longer be read.
        for port in ports:
            wait_until("the last good page, marked", lambda p=port: _marked(p), 15)
            assert _page(port, "/api/v2/summary.json")[0] == 200
        time.sleep(max(0.0, stopped + STOPPED - time.monotonic()))
        assert pair.mail() == {}, "nothing mailed while the database was away"
        held = healthz(pair.port_a)[1]["database"]["pending"]
        assert healthz(pair.port_a)[1]["lease"]["state"] == "suspended"
        own_postgres.start()
        started, started_at = time.monotonic(), time.time()

        def continued() -> bool:
            lease = _lease(pair.port_a)
            return (lease["state"], lease["holder"], lease["fence"]) == ("leading", "a", 2)

        wait_until("node a's term continues under fence 2", continued, 15)
        resumed = time.monotonic() - started
        ((last,),) = wait_until(  # in order: what was held is written before it
            "a's held results written, and a check made since",
            lambda: pair.query(f"SELECT max(time) FROM checks HAVING max(time) > {started_at}"),
            30,
        )
        written = time.monotonic() - started
        pair.settled_once()  # one outage, one incident, one mail each, and nothing more
        pair.one_outage_from_the_first_failure()
        assert stopped_at + FAILING_FROM - 1 < pair.first_failure() < started_at
        assert failing_at - 1 < pair.first_failure() < failing_at + 2
        assert pair.gaps() == []
        times = [
            t
            for (t,) in pair.query(
                f"SELECT time FROM checks WHERE time BETWEEN {stopped_at - 2} AND {last} "
                "ORDER BY time"
            )
        ]
        assert times[0] < stopped_at and times[-1] > started_at
        widest = max(b - a for a, b in itertools.pairwise(times))
        assert widest <= 2 * pair.interval, widest
        assert (_lease(pair.port_b)["holder"], _lease(pair.port_b)["state"]) == ("a", "following")
        assert healthz(pair.port_a)[1]["database"]["pending"] < held
        for node in pair.nodes:
            node.running()
        assert _metric(pair.port_a, "statuswatch_lease_suspended") == 0
        assert _metric(pair.port_a, "statuswatch_lease_renewals_total", outcome="continued") == 1
        # b saw the database's errors too: it only read the lease at first, leaving it to a.
        deferred = _metric(pair.port_b, "statuswatch_lease_renewals_total", outcome="deferred")
        assert deferred == 2, deferred
        assert _metric(pair.port_a, "statuswatch_store_fenced_total") == 0
        assert "term 1 continues as lease fence 2" in pair.a.log()
        assert "store dropped a batch" not in pair.a.log()
        print(
            f"PostgreSQL down {STOPPED:g} s: node a's term continued {resumed:.2f} s after it "
            f"was back, its {held} held items written within {written:.2f} s, "
            f"{len(times)} checks over the stop, widest spacing {widest:.2f} s"
        )
    finally:
        pair.close()


def test_a_node_started_while_postgresql_is_down_waits_for_it_then_serves(
    tmp_path: Path, target: Target, own_postgres: PostgresCluster, monkeypatch
) -> None:
    monkeypatch.setenv("STATUSWATCH_DATABASE_URL", own_postgres.database())
    monkeypatch.setenv("STATUSWATCH_CLUSTER_TOKEN", CLUSTER_TOKEN)
    own_postgres.stop()
    config, port = node_config(tmp_path, "a", target, workers=1)
    node = Statuswatch(config, name="a")
    try:
        for role in ("monitor", "web 1"):  # each says so once, and waits instead of dying
            wait_until(
                f"the {role} waiting for the database",
                lambda role=role: (
                    f"[{role}] statuswatch.store.open: the database cannot be reached" in node.log()
                ),
                30,
            )
        node.running()
        own_postgres.start()
        wait_until("node a leads", lambda: healthz(port)[1].get("role") == "leader", 30)
        wait_until(
            "the target probed", lambda: request("GET", f"http://127.0.0.1:{port}/")[0] == 200, 10
        )
        assert "Traceback" not in node.log(), node.log()[-3000:]
    finally:
        node.stop(signal.SIGTERM)
