"""Schema migrations on PostgreSQL: schema.py's steps, the version in a one-row table."""

from __future__ import annotations

from collections.abc import Sequence

from statuswatch.store.pg.connection import COMMITS_SEQUENCE, PgConnection
from statuswatch.store.schema import MIGRATIONS, Migration, SchemaTooNewError

# Nodes starting together on one database take turns: the second finds the work done.
_MIGRATE_LOCK = 0x5354_5754  # "STWT": a fixed advisory lock key of statuswatch's own

_BOOKKEEPING = f"""
CREATE SEQUENCE IF NOT EXISTS {COMMITS_SEQUENCE};
CREATE TABLE IF NOT EXISTS store_schema (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    version BIGINT NOT NULL
);
INSERT INTO store_schema (version) VALUES (0) ON CONFLICT DO NOTHING;
"""  # noqa: S608 - constants only


def schema_version(db: PgConnection) -> int:
    """The schema version of the database (0 for a new one)."""
    (table,) = db.execute("SELECT to_regclass('store_schema') IS NOT NULL").fetchone() or (0,)
    if not table:
        return 0
    row = db.execute("SELECT version FROM store_schema").fetchone()
    return 0 if row is None else int(row[0])


def migrate(db: PgConnection, migrations: Sequence[Migration] | None = None) -> int:
    """Bring the schema up to date, one transaction per step; return the resulting version."""
    steps = MIGRATIONS if migrations is None else migrations
    db.execute("SELECT pg_advisory_lock(?)", (_MIGRATE_LOCK,))
    try:
        current = schema_version(db)
        if current > len(steps):
            raise SchemaTooNewError(
                f"database schema version {current} is newer than this statuswatch knows "
                f"({len(steps)}); upgrade statuswatch or restore a matching backup"
            )
        db.executescript(_BOOKKEEPING)
        for version, step in enumerate(steps[current:], start=current + 1):
            db.execute("BEGIN")
            try:
                step(db)  # type: ignore[arg-type] - PgConnection has the Database surface
                db.execute("UPDATE store_schema SET version = ?", (version,))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
    finally:
        db.execute("SELECT pg_advisory_unlock(?)", (_MIGRATE_LOCK,))
    return len(steps)
