"""Helpers of the leader-lease tests: a database with the lease table, the TTL passing on it."""

from __future__ import annotations

import psycopg

from statuswatch.store.schema import _v12
from tests.helpers.postgres import PostgresCluster


class _Script:
    """The lease migration's view of a raw psycopg connection (the step only runs a script)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.executescript = conn.execute


def lease_database(postgres: PostgresCluster) -> str:
    """A fresh database with the lease table (the migration step that creates it); its URL."""
    url = postgres.database()
    with psycopg.connect(url, autocommit=True) as conn:
        _v12(_Script(conn))  # type: ignore[arg-type]
    return url


def expire_lease(url: str) -> None:
    """Let the lease's TTL pass on the database's clock (its clock is the real one)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE leases SET expires = expires - 1000")
