"""Connections and schema migrations; the schema version lives in PRAGMA user_version."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer statuswatch than this one."""


def connect(
    path: str | Path, *, busy_timeout: float, readonly: bool = False
) -> sqlite_utils.Database:
    """Open a connection with the house pragmas; transactions are managed explicitly."""
    # isolation_level=None: the writer issues BEGIN IMMEDIATE/COMMIT itself, so a lock shows up
    # at BEGIN (after busy_timeout) instead of half-way through a batch.
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        db = sqlite_utils.Database(conn, execute_plugins=False)
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        # In WAL mode NORMAL loses at most the last commits on power loss, never consistency.
        db.execute("PRAGMA synchronous = NORMAL")
        if readonly:
            db.execute("PRAGMA query_only = 1")  # one writer: the read connection cannot write
    except BaseException:
        conn.close()
        raise
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    """Return the schema version stored in the database (0 for a new file)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database, migrations: Sequence[Migration] | None = None) -> int:
    """Bring the schema up to date, one transaction per step; return the resulting version."""
    steps = MIGRATIONS if migrations is None else migrations
    current = schema_version(db)
    if current > len(steps):  # checked before touching anything in a newer program's file
        raise SchemaTooNewError(
            f"database schema version {current} is newer than this statuswatch knows "
            f"({len(steps)}); upgrade statuswatch or restore a matching backup"
        )
    db.enable_wal()  # persistent in the file; readers never block the writer
    for version, step in enumerate(steps[current:], start=current + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            db.execute(f"PRAGMA user_version = {version}")  # committed with the step, never apart
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return len(steps)


def _v1(db: sqlite_utils.Database) -> None:
    """Create the first schema."""
    # Monitors get small integer keys: every other row stores one or two bytes instead of the id.
    # Times are epoch seconds (REAL); rollup hours are whole hours since the epoch (INTEGER).
    db.executescript(
        """
        CREATE TABLE monitors (
            key INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            kind TEXT,
            component TEXT,
            first_seen REAL
        );
        CREATE TABLE checks (
            monitor INTEGER NOT NULL REFERENCES monitors(key),
            time REAL NOT NULL,
            ok INTEGER NOT NULL,
            latency REAL,
            status_code INTEGER,
            error_class TEXT,
            message TEXT NOT NULL DEFAULT '',
            degraded INTEGER NOT NULL DEFAULT 0,
            cert_expiry REAL
        );
        CREATE INDEX checks_by_monitor_time ON checks(monitor, time);
        CREATE TABLE rollups (
            monitor INTEGER NOT NULL REFERENCES monitors(key),
            hour INTEGER NOT NULL,
            n INTEGER NOT NULL,
            failures INTEGER NOT NULL,
            degraded INTEGER NOT NULL,
            latency_sum REAL NOT NULL,
            latency_min REAL,
            latency_max REAL,
            le_0_1 INTEGER NOT NULL,
            le_0_25 INTEGER NOT NULL,
            le_0_5 INTEGER NOT NULL,
            le_1 INTEGER NOT NULL,
            le_2_5 INTEGER NOT NULL,
            le_5 INTEGER NOT NULL,
            le_inf INTEGER NOT NULL,
            PRIMARY KEY (monitor, hour)
        ) WITHOUT ROWID;
        CREATE TABLE transitions (
            monitor INTEGER NOT NULL REFERENCES monitors(key),
            time REAL NOT NULL,
            old TEXT NOT NULL,
            new TEXT NOT NULL,
            reason TEXT NOT NULL
        );
        CREATE INDEX transitions_by_monitor_time ON transitions(monitor, time);
        CREATE TABLE outages (
            id INTEGER PRIMARY KEY,
            monitor INTEGER NOT NULL REFERENCES monitors(key),
            started REAL NOT NULL,
            ended REAL,
            error_class TEXT NOT NULL,
            message TEXT NOT NULL,
            end_reason TEXT
        );
        CREATE INDEX outages_by_monitor_start ON outages(monitor, started);
        -- At most one open outage per monitor, enforced by the database itself.
        CREATE UNIQUE INDEX outages_open ON outages(monitor) WHERE ended IS NULL;
        CREATE TABLE gaps (
            monitor INTEGER NOT NULL REFERENCES monitors(key),
            started REAL NOT NULL,
            ended REAL NOT NULL,
            reason TEXT NOT NULL,
            UNIQUE (monitor, started, ended, reason)
        );
        CREATE TABLE snapshots (
            monitor INTEGER PRIMARY KEY REFERENCES monitors(key),
            state TEXT NOT NULL,
            fail_count INTEGER NOT NULL,
            fail_start REAL,
            fail_error_class TEXT,
            fail_message TEXT NOT NULL,
            pass_count INTEGER NOT NULL,
            pass_start REAL,
            last_evidence REAL
        );
        CREATE TABLE last_results (
            monitor INTEGER PRIMARY KEY REFERENCES monitors(key),
            time REAL NOT NULL,
            ok INTEGER NOT NULL,
            latency REAL,
            status_code INTEGER,
            error_class TEXT,
            message TEXT NOT NULL,
            degraded INTEGER NOT NULL,
            cert_expiry REAL
        );
        """
    )


# Append only: the position of a step is its version. Never edit a step that has shipped.
def _v2(db: sqlite_utils.Database) -> None:
    """Customers' private report tokens, kept only as SHA-256 digests."""
    db.executescript(
        """
        CREATE TABLE report_tokens (
            customer TEXT PRIMARY KEY,
            digest BLOB NOT NULL UNIQUE,
            created REAL NOT NULL
        );
        """
    )


def _v3(db: sqlite_utils.Database) -> None:
    """Maintenance windows created at run time, kept as the same struct config uses (JSON)."""
    db.executescript(
        """
        CREATE TABLE maintenance (
            id TEXT PRIMARY KEY,
            spec TEXT NOT NULL,
            updated REAL NOT NULL
        );
        """
    )


def _v4(db: sqlite_utils.Database) -> None:
    """Incidents, each saved whole (timeline included) in one row: one change, one transaction."""
    db.executescript(
        """
        CREATE TABLE incidents (
            id TEXT PRIMARY KEY,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            status TEXT NOT NULL,
            resolved_at REAL,
            auto INTEGER NOT NULL,
            doc TEXT NOT NULL
        );
        CREATE INDEX incidents_by_created ON incidents(created);
        CREATE INDEX incidents_open ON incidents(resolved_at) WHERE resolved_at IS NULL;
        """
    )


def _v5(db: sqlite_utils.Database) -> None:
    """Subscribers, their hashed tokens, notification events, the outbox and every attempt."""
    db.executescript(
        """
        CREATE TABLE subscribers (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,            -- email | webhook
            address TEXT NOT NULL,            -- normalised address, or the webhook's id
            state TEXT NOT NULL,              -- pending | confirmed | unsubscribed | bounced
            components TEXT,                  -- JSON list of component ids; NULL: all
            created REAL NOT NULL,
            confirmed_at REAL,
            confirm_sent REAL,                -- last confirmation queued (per-address limit)
            bounce TEXT,                      -- the permanent failure that marked the address
            UNIQUE (channel, address)
        );
        CREATE TABLE subscriber_tokens (
            digest BLOB PRIMARY KEY,          -- SHA-256 of the token; the token is never kept
            subscriber INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
            purpose TEXT NOT NULL,            -- confirm | manage | unsubscribe
            expires REAL
        );
        CREATE INDEX subscriber_tokens_by_subscriber ON subscriber_tokens(subscriber);
        CREATE INDEX subscriber_tokens_by_expiry ON subscriber_tokens(expires)
            WHERE expires IS NOT NULL;
        CREATE TABLE notify_events (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL UNIQUE,      -- what caused it (incident update id): saved once
            topic TEXT NOT NULL,              -- what coalesces (one incident)
            kind TEXT NOT NULL,
            created REAL NOT NULL,
            payload TEXT NOT NULL             -- JSON snapshot of what to tell
        );
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            subscriber INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,               -- confirm | event
            topic TEXT,
            event INTEGER REFERENCES notify_events(id),
            created REAL NOT NULL,
            due REAL NOT NULL,                -- not before (the coalescing window)
            next_attempt REAL NOT NULL,       -- not before (retry backoff)
            attempts INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL,              -- pending | sent | failed | cancelled
            done_at REAL
        );
        CREATE INDEX outbox_pending ON outbox(subscriber, id) WHERE state = 'pending';
        CREATE INDEX outbox_by_topic ON outbox(subscriber, topic, state);
        CREATE TABLE delivery_attempts (
            id INTEGER PRIMARY KEY,
            outbox INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
            event INTEGER,
            time REAL NOT NULL,
            outcome TEXT NOT NULL,            -- sent | retry | failed
            detail TEXT NOT NULL
        );
        CREATE INDEX delivery_attempts_by_outbox ON delivery_attempts(outbox);
        CREATE TABLE app_secrets (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """
    )


def _v6(db: sqlite_utils.Database) -> None:
    """When each run-time maintenance window was created (a change keeps it; older rows: their
    last change, the best known)."""
    db.executescript(
        """
        ALTER TABLE maintenance ADD COLUMN created REAL;
        UPDATE maintenance SET created = updated;
        """
    )


def _v7(db: sqlite_utils.Database) -> None:
    """The monitor role's published board and heartbeat, read by the web role (one row)."""
    db.execute(
        """CREATE TABLE published (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            generation TEXT NOT NULL,
            beat REAL NOT NULL,
            body TEXT NOT NULL
        )"""
    )


def _v8(db: sqlite_utils.Database) -> None:
    """Each http check's per-phase durations (store/phases.py: why integer microseconds)."""
    # ADD COLUMN with no default rewrites nothing: old rows read NULL, "not timed".
    for table in ("checks", "last_results"):
        for column in ("resolve", "connect", "tls", "processing", "transfer"):
            db.execute(f"ALTER TABLE {table} ADD COLUMN phase_{column}_us INTEGER")


def _v9(db: sqlite_utils.Database) -> None:
    """Outages and gaps name the location that observed them (one open outage per location)."""
    db.executescript(
        """
        ALTER TABLE outages ADD COLUMN location TEXT NOT NULL DEFAULT 'local';
        DROP INDEX outages_open;
        CREATE UNIQUE INDEX outages_open ON outages(monitor, location) WHERE ended IS NULL;
        CREATE TABLE gaps_by_location (
            monitor INTEGER NOT NULL REFERENCES monitors(key),
            started REAL NOT NULL,
            ended REAL NOT NULL,
            reason TEXT NOT NULL,
            location TEXT NOT NULL DEFAULT 'local',
            UNIQUE (monitor, started, ended, reason, location)
        );
        INSERT INTO gaps_by_location (monitor, started, ended, reason)
            SELECT monitor, started, ended, reason FROM gaps;
        DROP TABLE gaps;
        ALTER TABLE gaps_by_location RENAME TO gaps;
        """
    )


def _v10(db: sqlite_utils.Database) -> None:
    """Where each check ran, and one row per (monitor, location, time): an agent's replayed
    upload is then a no-op, whatever the writer is handed."""
    db.executescript(
        """
        ALTER TABLE checks ADD COLUMN location TEXT NOT NULL DEFAULT 'local';
        DELETE FROM checks WHERE rowid NOT IN
            (SELECT min(rowid) FROM checks GROUP BY monitor, location, time);
        CREATE UNIQUE INDEX checks_once ON checks(monitor, location, time);
        """
    )


def _v11(db: sqlite_utils.Database) -> None:
    """A state snapshot per (monitor, location): each agent location's tracker resumes too."""
    db.executescript(
        """
        CREATE TABLE snapshots_by_location (
            monitor INTEGER NOT NULL REFERENCES monitors(key),
            location TEXT NOT NULL DEFAULT 'local',
            state TEXT NOT NULL,
            fail_count INTEGER NOT NULL,
            fail_start REAL,
            fail_error_class TEXT,
            fail_message TEXT NOT NULL,
            pass_count INTEGER NOT NULL,
            pass_start REAL,
            last_evidence REAL,
            PRIMARY KEY (monitor, location)
        );
        INSERT INTO snapshots_by_location (monitor, state, fail_count, fail_start,
            fail_error_class, fail_message, pass_count, pass_start, last_evidence)
            SELECT monitor, state, fail_count, fail_start, fail_error_class, fail_message,
            pass_count, pass_start, last_evidence FROM snapshots;
        DROP TABLE snapshots;
        ALTER TABLE snapshots_by_location RENAME TO snapshots;
        """
    )


def _v12(db: sqlite_utils.Database) -> None:
    """The leader lease of several nodes on PostgreSQL (statuswatch/cluster/lease.py); on
    SQLite the table stays empty: one process owns the file."""
    # DOUBLE PRECISION, not REAL: PostgreSQL's REAL is 4 bytes, too coarse for epoch seconds
    # (SQLite gives both the same 8-byte affinity).
    db.executescript(
        """
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            fence INTEGER NOT NULL,
            expires DOUBLE PRECISION NOT NULL,
            advertise TEXT
        );
        """
    )


def _v13(db: sqlite_utils.Database) -> None:
    """Who is sending an outbox message, and until when: several senders on one database each
    claim theirs (a claim that runs out is a dead sender's, taken over). Unused on SQLite."""
    db.executescript(
        """
        ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
        ALTER TABLE outbox ADD COLUMN claimed_until REAL;
        """
    )


MIGRATIONS: tuple[Migration, ...] = (
    _v1,
    _v2,
    _v3,
    _v4,
    _v5,
    _v6,
    _v7,
    _v8,
    _v9,
    _v10,
    _v11,
    _v12,
    _v13,
)
