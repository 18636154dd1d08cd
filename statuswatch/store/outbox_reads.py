"""Queries on subscribers and the outbox (reader thread), returning plain records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

_SUBSCRIBER = (
    "s.id, s.channel, s.address, s.state, s.components, s.created, s.confirmed_at, s.bounce"
)


@dataclass(frozen=True, slots=True)
class SubscriberRecord:
    id: int
    channel: str
    address: str
    state: str
    components: tuple[str, ...] | None  # None: every component
    created: float
    confirmed_at: float | None
    bounce: str | None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message due for delivery, with who it is for and (for an event) what to say."""

    id: int
    subscriber: SubscriberRecord
    kind: str  # confirm | event
    event: int | None
    payload: dict[str, Any] | None
    attempts: int


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    outbox: int
    subscriber: int
    event: int | None
    time: float
    outcome: str
    detail: str


def _subscriber(row: tuple[Any, ...]) -> SubscriberRecord:
    sid, channel, address, state, comps, created, confirmed_at, bounce = row
    components = None if comps is None else tuple(json.loads(comps))
    return SubscriberRecord(sid, channel, address, state, components, created, confirmed_at, bounce)


# Which message is due (?1 is now): the oldest pending one of its subscriber (a failing one
# holds the later ones back, so each subscriber hears things in order), past its coalescing
# window and its backoff, and not claimed by a sender whose claim still runs. The one rule,
# whether the messages are read (SQLite) or claimed (PostgreSQL).
_DUE = """o.state = 'pending' AND o.due <= ?1 AND o.next_attempt <= ?1
    AND (o.claimed_until IS NULL OR o.claimed_until <= ?1)
    AND o.id = (SELECT min(p.id) FROM outbox p WHERE p.subscriber = o.subscriber
                AND p.state = 'pending')"""


def due_messages(db: sqlite_utils.Database, now: float, limit: int) -> list[Outgoing]:
    """The oldest pending message of each subscriber, when due; later ones wait (order kept)."""
    rows = db.execute(
        f"""SELECT o.id, o.kind, o.event, e.payload, o.attempts, {_SUBSCRIBER}
        FROM outbox o JOIN subscribers s ON s.id = o.subscriber
        LEFT JOIN notify_events e ON e.id = o.event
        WHERE {_DUE} ORDER BY o.id LIMIT ?2""",  # noqa: S608 - fixed clauses
        (now, limit),
    ).fetchall()
    return _outgoing(rows)


def claim_due(db: Any, now: float, limit: int, claimant: str, until: float) -> list[Outgoing]:
    """The due messages, claimed for `claimant` until `until`: no other sender takes them
    before the claim runs out (a dead sender's are then taken over)."""
    if isinstance(db, sqlite_utils.Database):
        # SQLite has one writing process and so one sender: what is due is its own (and the
        # read connection is query-only).
        return due_messages(db, now, limit)
    # One statement: the rows are locked, marked and returned at once; SKIP LOCKED passes over
    # those another sender is claiming right now instead of waiting for them.
    rows = db.execute(
        f"""WITH claimed AS (
            UPDATE outbox SET claimed_by = ?3, claimed_until = ?4
            WHERE id IN (SELECT o.id FROM outbox o WHERE {_DUE}
                         ORDER BY o.id LIMIT ?2 FOR UPDATE SKIP LOCKED)
            RETURNING id, kind, event, attempts, subscriber)
        SELECT c.id, c.kind, c.event, e.payload, c.attempts, {_SUBSCRIBER}
        FROM claimed c JOIN subscribers s ON s.id = c.subscriber
        LEFT JOIN notify_events e ON e.id = c.event ORDER BY c.id""",  # noqa: S608
        (now, limit, claimant, until),
    ).fetchall()
    _commit(db)
    return _outgoing(rows)


def _commit(db: Any) -> None:
    """Make the claim visible to the other senders now (a connection may hold a transaction)."""
    if getattr(db, "in_transaction", False):
        db.execute("COMMIT")


def _outgoing(rows: list[Any]) -> list[Outgoing]:
    return [
        Outgoing(
            r[0], _subscriber(r[5:]), r[1], r[2], None if r[3] is None else json.loads(r[3]), r[4]
        )
        for r in rows
    ]


def next_due(db: sqlite_utils.Database) -> float | None:
    """When the earliest pending message may go (None: nothing pending)."""
    row = db.execute(
        "SELECT min(max(due, next_attempt)) FROM outbox WHERE state = 'pending'"
    ).fetchone()
    return row[0]


def token_subscriber(
    db: sqlite_utils.Database, digest: bytes, purpose: str, now: float
) -> SubscriberRecord | None:
    """The subscriber a live token of this purpose belongs to (an index look-up by digest)."""
    # The digest of a presented token is looked up by equality on an index: what an attacker
    # controls is the token, and its SHA-256 gives nothing away about stored digests' prefixes.
    row = db.execute(
        f"""SELECT {_SUBSCRIBER} FROM subscriber_tokens t JOIN subscribers s
        ON s.id = t.subscriber WHERE t.digest = ? AND t.purpose = ?
        AND (t.expires IS NULL OR t.expires > ?)""",  # noqa: S608 - fixed clauses
        (digest, purpose, now),
    ).fetchone()
    return None if row is None else _subscriber(row)


def subscribers(db: sqlite_utils.Database, channel: str | None = None) -> list[SubscriberRecord]:
    """Every subscriber, oldest first."""
    where, params = ("WHERE s.channel = ?", (channel,)) if channel else ("", ())
    query = f"SELECT {_SUBSCRIBER} FROM subscribers s {where} ORDER BY s.id"  # noqa: S608
    rows = db.execute(query, params)
    return [_subscriber(r) for r in rows.fetchall()]


def attempts(db: sqlite_utils.Database) -> list[AttemptRecord]:
    """Every delivery attempt, in order."""
    rows = db.execute(
        """SELECT a.outbox, o.subscriber, a.event, a.time, a.outcome, a.detail
        FROM delivery_attempts a JOIN outbox o ON o.id = a.outbox ORDER BY a.id"""
    ).fetchall()
    return [AttemptRecord(*r) for r in rows]


def outbox_states(db: sqlite_utils.Database) -> dict[str, int]:
    """How many messages are in each state (pending, sent, failed, cancelled)."""
    rows = db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
    return dict(rows)


def app_secret(db: sqlite_utils.Database, name: str) -> str | None:
    row = db.execute("SELECT value FROM app_secrets WHERE name = ?", (name,)).fetchone()
    return None if row is None else row[0]


def token_count(db: sqlite_utils.Database) -> int:
    """How many subscriber tokens are kept (live or not yet pruned)."""
    return int(db.execute("SELECT count(*) FROM subscriber_tokens").fetchone()[0])


@dataclass(frozen=True, slots=True)
class NotifyCounts:
    """What the notification gauges show, read together (one snapshot per refresh)."""

    pending: dict[str, int]  # channel -> outbox messages waiting
    oldest_pending: dict[str, float]  # channel -> when the oldest waiting one was queued
    subscribers: dict[tuple[str, str], int]  # (channel, state) -> subscribers


def notify_counts(db: sqlite_utils.Database) -> NotifyCounts:
    """Pending messages per channel (the partial index on pending rows keeps this small) and
    subscribers per channel and state."""
    pending, oldest = {}, {}
    for channel, count, first in db.execute(
        """SELECT s.channel, count(*), min(o.created) FROM outbox o
        JOIN subscribers s ON s.id = o.subscriber WHERE o.state = 'pending' GROUP BY s.channel"""
    ).fetchall():
        pending[channel], oldest[channel] = count, first
    subs = db.execute(
        "SELECT channel, state, count(*) FROM subscribers GROUP BY channel, state"
    ).fetchall()
    return NotifyCounts(pending, oldest, {(c, s): n for c, s, n in subs})
