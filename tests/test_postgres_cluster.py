"""The tests' own PostgreSQL server: started from Debian's package, loopback only, a fresh
database per test (what the PostgreSQL backend's tests stand on)."""

from __future__ import annotations

import psycopg

from tests.helpers.postgres import PostgresCluster


def test_each_database_is_fresh_and_the_server_listens_on_loopback_only(
    postgres: PostgresCluster,
) -> None:
    first, second = postgres.database(), postgres.database()
    assert first != second
    with psycopg.connect(first, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SELECT inet_server_addr()").fetchone()[0].is_loopback
    with psycopg.connect(second) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
        assert tables == (0,)
