"""Subscriber and outbox writes: the items, and how each applies inside the writer's transaction.

A notification is born in the same transaction as the change that causes it: SaveIncident carries
its NotifyEvent, and the fan-out below turns it into one outbox row per matching subscriber, so a
crash can lose neither the incident change nor the messages it owes.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

# Confirmed subscribers of any of the components in the JSON list bound at ?2 (or of all).
_MATCHING = """SELECT s.id FROM subscribers s WHERE s.state = 'confirmed' AND (
    s.components IS NULL OR EXISTS (
        SELECT 1 FROM json_each(s.components) j WHERE j.value IN (SELECT value FROM json_each(?2))
    ))"""


@dataclass(frozen=True, slots=True)
class NotifyEvent:
    """Something subscribers hear about; `source` makes it happen once, `topic` coalesces."""

    source: str
    topic: str
    kind: str
    time: float
    components: tuple[str, ...]
    payload: bytes  # JSON, taken when the event happened
    coalesce: float  # seconds: at most one message per topic and subscriber per window


@dataclass(frozen=True, slots=True)
class EnqueueEvent:
    """An event caused by time alone (a maintenance window starting or ending): its source
    makes a repeat (a restart re-checking the same edge) a no-op."""

    event: NotifyEvent


@dataclass(frozen=True, slots=True)
class Subscribe:
    """A subscription request: a new or lapsed address gets one confirmation per interval."""

    channel: str
    address: str
    components: tuple[str, ...] | None  # None: every component
    now: float
    confirm_interval: float


@dataclass(frozen=True, slots=True)
class SaveSubscriberToken:
    """Keep a token's digest for one purpose of one subscriber."""

    digest: bytes
    subscriber: int
    purpose: str
    expires: float | None


@dataclass(frozen=True, slots=True)
class ConfirmSubscriber:
    subscriber: int
    digest: bytes  # the confirm token, spent
    now: float


@dataclass(frozen=True, slots=True)
class SetSubscriberComponents:
    subscriber: int
    components: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    subscriber: int
    now: float


@dataclass(frozen=True, slots=True)
class RemoveSubscriber:
    """Forget a subscriber entirely (admin): the row, its tokens, its messages and attempts."""

    subscriber: int


@dataclass(frozen=True, slots=True)
class RecordAttempt:
    """The outcome of one delivery attempt: sent, retry (at next_attempt) or failed."""

    outbox: int
    event: int | None  # the event that was sent (the row may have moved on to a newer one)
    time: float
    outcome: str
    detail: str
    next_attempt: float | None = None
    mark: bool = False  # a permanent refusal of the address: stop mailing it


@dataclass(frozen=True, slots=True)
class SyncWebhooks:
    """Make the configured webhooks confirmed subscribers; retire the ones no longer configured."""

    hooks: tuple[tuple[str, tuple[str, ...] | None], ...]
    now: float


@dataclass(frozen=True, slots=True)
class PruneSubscriberTokens:
    """Forget tokens that have expired (every message mints two: this bounds the table)."""

    now: float


@dataclass(frozen=True, slots=True)
class ReleaseClaims:
    """A sender starting takes over every message an earlier sender claimed and did not finish.

    One sender runs at a time (the one process on SQLite; the leader of several nodes), so at
    its start a claim still running is a dead or deposed sender's: waiting for it to run out
    held a killed leader's messages back for the whole claim. Its message on the wire, if any,
    may go twice, as after any kill (the attempt is committed before the next send).
    """


@dataclass(frozen=True, slots=True)
class SaveAppSecret:
    """Keep a generated secret unless one is stored already (the first one wins)."""

    name: str
    value: str


def _components(components: tuple[str, ...] | None) -> str | None:
    return None if components is None else json.dumps(list(components))


def enqueue_event(conn: sqlite3.Connection, e: NotifyEvent) -> None:
    """Record the event once and give every matching subscriber a message (or coalesce)."""
    row = conn.execute(
        "INSERT INTO notify_events (source, topic, kind, created, payload) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(source) DO NOTHING RETURNING id",
        (e.source, e.topic, e.kind, e.time, e.payload.decode()),
    ).fetchone()
    if row is None:  # saved before (a re-save of the same update): already fanned out
        return
    event_id, affected = row[0], json.dumps(list(e.components))
    # Not sent yet: the waiting message will carry the newest state instead of a second one.
    coalesce_into = f"UPDATE outbox SET event = ?1 WHERE state = 'pending' AND topic = ?3 AND subscriber IN ({_MATCHING})"  # noqa: S608, E501 - fixed clauses
    conn.execute(coalesce_into, (event_id, affected, e.topic))
    # Otherwise a new message, due at once, or a window after the last one sent on this topic.
    conn.execute(
        f"""INSERT INTO outbox (subscriber, kind, topic, event, created, due, next_attempt, state)
        SELECT m.id, 'event', ?3, ?1, ?4, max(?4, coalesce((SELECT max(o.done_at) FROM outbox o
            WHERE o.subscriber = m.id AND o.topic = ?3 AND o.state = 'sent'), -1e18) + ?5), ?4,
            'pending'
        FROM ({_MATCHING}) m WHERE NOT EXISTS (SELECT 1 FROM outbox p
            WHERE p.subscriber = m.id AND p.topic = ?3 AND p.state = 'pending')""",  # noqa: S608
        (event_id, affected, e.topic, e.time, e.coalesce),
    )


def enqueue(conn: sqlite3.Connection, e: EnqueueEvent) -> None:
    enqueue_event(conn, e.event)


def subscribe(conn: sqlite3.Connection, s: Subscribe) -> None:
    """Create or refresh a pending subscription; a confirmed one is left exactly as it is."""
    row = conn.execute(
        "SELECT id, state, confirm_sent FROM subscribers WHERE channel = ? AND address = ?",
        (s.channel, s.address),
    ).fetchone()
    if row is None:
        (sid,) = conn.execute(
            "INSERT INTO subscribers (channel, address, state, components, created) "
            "VALUES (?, ?, 'pending', ?, ?) RETURNING id",
            (s.channel, s.address, _components(s.components), s.now),
        ).fetchone()
        due = True
    else:
        sid, state, sent = row
        if state == "confirmed":  # a stranger must not be able to change someone's choice
            return
        due = sent is None or s.now - sent >= s.confirm_interval
        conn.execute(
            "UPDATE subscribers SET state = 'pending', components = ? WHERE id = ?",
            (_components(s.components), sid),
        )
    if not due:
        return
    # One confirmation in flight at a time: a newer one replaces any still queued.
    conn.execute(
        "UPDATE outbox SET state = 'cancelled', done_at = ? "
        "WHERE subscriber = ? AND kind = 'confirm' AND state = 'pending'",
        (s.now, sid),
    )
    conn.execute("UPDATE subscribers SET confirm_sent = ? WHERE id = ?", (s.now, sid))
    conn.execute(
        "INSERT INTO outbox (subscriber, kind, created, due, next_attempt, state) "
        "VALUES (?, 'confirm', ?, ?, ?, 'pending')",
        (sid, s.now, s.now, s.now),
    )


def save_token(conn: sqlite3.Connection, t: SaveSubscriberToken) -> None:
    conn.execute(
        "INSERT INTO subscriber_tokens (digest, subscriber, purpose, expires) VALUES (?, ?, ?, ?)",
        (t.digest, t.subscriber, t.purpose, t.expires),
    )


def confirm(conn: sqlite3.Connection, c: ConfirmSubscriber) -> None:
    conn.execute(
        "UPDATE subscribers SET state = 'confirmed', confirmed_at = ?, bounce = NULL "
        "WHERE id = ? AND state = 'pending'",
        (c.now, c.subscriber),
    )
    conn.execute("DELETE FROM subscriber_tokens WHERE digest = ?", (c.digest,))  # single use


def set_components(conn: sqlite3.Connection, c: SetSubscriberComponents) -> None:
    conn.execute(
        "UPDATE subscribers SET components = ? WHERE id = ?",
        (_components(c.components), c.subscriber),
    )


def unsubscribe(conn: sqlite3.Connection, u: Unsubscribe) -> None:
    conn.execute(
        "UPDATE subscribers SET state = 'unsubscribed' WHERE id = ? AND state != 'unsubscribed'",
        (u.subscriber,),
    )
    # Nothing queued for them goes out any more.
    conn.execute(
        "UPDATE outbox SET state = 'cancelled', done_at = ? WHERE subscriber = ? "
        "AND state = 'pending'",
        (u.now, u.subscriber),
    )
    conn.execute(
        "DELETE FROM subscriber_tokens WHERE subscriber = ? AND purpose = 'confirm'",
        (u.subscriber,),
    )


def remove(conn: sqlite3.Connection, r: RemoveSubscriber) -> None:
    sid = r.subscriber
    conn.execute(
        "DELETE FROM delivery_attempts "
        "WHERE outbox IN (SELECT id FROM outbox WHERE subscriber = ?)",
        (sid,),
    )
    for table, column in (
        ("outbox", "subscriber"),
        ("subscriber_tokens", "subscriber"),
        ("subscribers", "id"),
    ):
        conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (sid,))  # noqa: S608 - fixed names


def record_attempt(conn: sqlite3.Connection, a: RecordAttempt) -> None:
    conn.execute(
        "INSERT INTO delivery_attempts (outbox, event, time, outcome, detail) "
        "VALUES (?, ?, ?, ?, ?)",
        (a.outbox, a.event, a.time, a.outcome, a.detail[:500]),
    )
    # The attempt is over: whatever stays pending (a retry, a row coalesced onto a newer event
    # while on the wire) is due again for any sender, not only after the claim runs out.
    conn.execute(
        "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = ?", (a.outbox,)
    )
    if a.outcome == "sent":
        # `event IS ?`: if the row was coalesced onto a newer event while this one was on the
        # wire, it stays pending and the newer state goes out next.
        conn.execute(
            "UPDATE outbox SET state = 'sent', done_at = ?, attempts = attempts + 1 "
            "WHERE id = ? AND event IS ? AND state = 'pending'",
            (a.time, a.outbox, a.event),
        )
    elif a.outcome == "retry":
        conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt = ? "
            "WHERE id = ? AND state = 'pending'",
            (a.next_attempt, a.outbox),
        )
    else:
        conn.execute(
            "UPDATE outbox SET state = 'failed', done_at = ?, attempts = attempts + 1 WHERE id = ?",
            (a.time, a.outbox),
        )
        if a.mark:
            _mark(conn, a)


def _mark(conn: sqlite3.Connection, a: RecordAttempt) -> None:
    """The address refuses mail for good: mark it and drop what else is queued for it."""
    (sid,) = conn.execute("SELECT subscriber FROM outbox WHERE id = ?", (a.outbox,)).fetchone()
    conn.execute(
        "UPDATE subscribers SET state = 'bounced', bounce = ? WHERE id = ?", (a.detail[:500], sid)
    )
    conn.execute(
        "UPDATE outbox SET state = 'failed', done_at = ? "
        "WHERE subscriber = ? AND state = 'pending'",
        (a.time, sid),
    )


def sync_webhooks(conn: sqlite3.Connection, w: SyncWebhooks) -> None:
    ids = [hook_id for hook_id, _ in w.hooks]
    for hook_id, components in w.hooks:
        conn.execute(
            "INSERT INTO subscribers (channel, address, state, components, created, confirmed_at) "
            "VALUES ('webhook', ?1, 'confirmed', ?2, ?3, ?3) ON CONFLICT (channel, address) "
            "DO UPDATE SET state = 'confirmed', components = excluded.components",
            (hook_id, _components(components), w.now),
        )
    conn.execute(
        "UPDATE subscribers SET state = 'unsubscribed' WHERE channel = 'webhook' "
        "AND address NOT IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),),
    )


def prune_done(conn: sqlite3.Connection, before: float) -> None:
    """Delete messages done (sent, failed, cancelled) before `before`, attempts first; pending
    messages stay whatever their age (nothing queued is ever lost)."""
    done = "SELECT id FROM outbox WHERE state != 'pending' AND done_at < ?"
    conn.execute(f"DELETE FROM delivery_attempts WHERE outbox IN ({done})", (before,))  # noqa: S608
    conn.execute("DELETE FROM outbox WHERE state != 'pending' AND done_at < ?", (before,))


def prune_tokens(conn: sqlite3.Connection, p: PruneSubscriberTokens) -> None:
    conn.execute(
        "DELETE FROM subscriber_tokens WHERE expires IS NOT NULL AND expires <= ?", (p.now,)
    )


def release_claims(conn: sqlite3.Connection, _r: ReleaseClaims) -> None:
    conn.execute(
        "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL "
        "WHERE claimed_by IS NOT NULL AND state = 'pending'"
    )


def save_app_secret(conn: sqlite3.Connection, s: SaveAppSecret) -> None:
    conn.execute(
        "INSERT INTO app_secrets (name, value) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
        (s.name, s.value),
    )
