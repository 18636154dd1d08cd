"""Two real `statuswatch run` nodes on a PostgreSQL primary with a streaming replica, named by a
libpq multi-host URL (`postgresql://…@127.0.0.1:P1,127.0.0.1:P2/db?target_session_attrs=
read-write`): the primary killed (`pg_ctl stop -m immediate`) while a target is down and the
replica promoted, the nodes follow it: a leader again, /healthz ok, new checks written to the
promoted server, and still ONE outage, ONE incident and ONE mail to each subscriber.

Replication is asynchronous (and the test servers run synchronous_commit=off): a row committed
on the primary just before the kill may never reach the replica, and a lost "mail sent" mark
would send that mail again. That is the database's contract, not statuswatch's, so the test
waits until the replica has replayed the primary's current WAL position before killing it; a
deployment that cannot lose those rows uses synchronous replication.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers.failover import CLUSTER_TOKEN, SURVIVING_INTERVAL, Pair, role
from tests.helpers.postgres import PostgresCluster, require_postgres
from tests.helpers.processes import Target, healthz, wait_until


@pytest.fixture
def servers() -> Iterator[tuple[PostgresCluster, PostgresCluster]]:
    """A primary of this test's own (it is killed) and its streaming replica."""
    primary = PostgresCluster(require_postgres()).init()
    primary.start()
    standby = primary.replica()
    yield primary, standby
    standby.destroy()
    primary.destroy()


def _scalar(url: str, sql: str):
    with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
        return conn.execute(sql).fetchone()[0]


def _replayed(primary: str, standby: str) -> bool:
    """True once the standby has replayed everything the primary has written so far."""
    wanted = _scalar(primary, "SELECT pg_current_wal_lsn()::text")
    return bool(_scalar(standby, f"SELECT pg_last_wal_replay_lsn() >= '{wanted}'::pg_lsn"))


def test_the_nodes_follow_a_promoted_replica_and_lose_nothing_of_an_open_outage(
    tmp_path: Path, target: Target, servers, monkeypatch
) -> None:
    primary, standby = servers
    single = primary.database()
    name = single.rsplit("/", 1)[1]
    url = (
        f"postgresql://statuswatch@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/{name}"
        "?target_session_attrs=read-write"
    )
    monkeypatch.setenv("STATUSWATCH_DATABASE_URL", url)
    monkeypatch.setenv("STATUSWATCH_CLUSTER_TOKEN", CLUSTER_TOKEN)
    pair = Pair(tmp_path, target, url, SURVIVING_INTERVAL)
    try:
        target.answer(500)
        pair.settled_once()
        wait_until(
            "the replica replays the primary", lambda: _replayed(single, standby.url(name)), 15
        )
        primary.stop("immediate")
        killed = time.monotonic()
        standby.promote()
        promoted_at = time.time()
        promoted = time.monotonic() - killed

        def a_leader() -> bool:
            return "leader" in (role(pair.port_a), role(pair.port_b))

        wait_until("a leader on the promoted server", a_leader, 30)
        led = time.monotonic() - killed
        for port in (pair.port_a, pair.port_b):
            wait_until("/healthz ok", lambda p=port: healthz(p)[1]["status"] == "ok", 30)
        written = standby.url(name)
        wait_until(
            "a check written to the promoted server",
            lambda: _scalar(written, f"SELECT count(*) FROM checks WHERE time > {promoted_at}"),
            SURVIVING_INTERVAL * 3,
        )
        checked = time.monotonic() - killed
        pair.settled_once()  # the open outage continues: nothing doubled on the new primary
        pair.one_outage_from_the_first_failure()
        target.answer(200)
        wait_until("the outage closed", lambda: pair.outages()[-1][1] is not None, 30)
        assert len(pair.outages()) == 1 and pair.incidents() == 1
        for node in pair.nodes:
            node.running()
        print(
            f"replica failover: promoted {promoted:.2f} s, a leader {led:.2f} s and a check "
            f"on the promoted server {checked:.2f} s after the primary was killed"
        )
    finally:
        pair.close()
