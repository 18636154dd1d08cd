"""Several senders on one PostgreSQL database (nodes): each message is claimed by one of them
and delivered once, each subscriber's in order; a dead sender's claims run out and another
sender delivers its messages, once. Real PostgreSQL, real SMTP (aiosmtpd)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest

from statuswatch.clock import FakeClock
from statuswatch.notify.channels import EmailChannel
from statuswatch.notify.messages import MessageBuilder
from statuswatch.notify.runtime import start_notifications
from statuswatch.notify.sender import CLAIM_TTL, Sender
from statuswatch.store.outbox import Subscribe
from statuswatch.store.outbox_reads import attempts, claim_due, outbox_states
from statuswatch.store.pg.store import PgStore
from tests.helpers.notify import Mailbox, SmtpServer, email_config
from tests.helpers.store import T0

SUBSCRIBERS = 40
EXTRA = 3  # further messages queued for each of the first subscribers (the order check)
SEED = "claims-test-seed"


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Mailbox, SmtpServer]]:
    mailbox = Mailbox()
    server = SmtpServer(mailbox)
    await server.start()
    yield mailbox, server
    await server.stop()


def sender(store: PgStore, config, clock: FakeClock, name: str, **kw) -> Sender:
    """A node's sender, as notify/runtime.py builds it (email only)."""
    return Sender(
        store,
        settings=config.email,
        base_url=config.site.base,
        builder=MessageBuilder(config.email, config.site, SEED),
        email=EmailChannel(config.email, None, None),
        webhook=None,
        webhook_secrets={},
        clock=clock,
        random=lambda: 0.0,
        claimant=name,
        **kw,
    )


async def seed(store: PgStore, url: str) -> int:
    """SUBSCRIBERS confirmations, and EXTRA more queued behind the first ones; return the count."""
    for i in range(SUBSCRIBERS):
        store.submit(Subscribe("email", f"user{i}@example.com", None, T0, 3600.0))
    await store.flush()
    with psycopg.connect(url, autocommit=True) as conn:
        for sid in range(1, 6):  # queued after every first confirmation: they must wait for it
            for _ in range(EXTRA):
                conn.execute(
                    "INSERT INTO outbox (subscriber, kind, created, due, next_attempt, state) "
                    "VALUES (%s, 'confirm', %s, %s, %s, 'pending')",
                    (sid, T0, T0, T0),
                )
    return SUBSCRIBERS + 5 * EXTRA


@asynccontextmanager
async def two_nodes(url: str, clock: FakeClock) -> AsyncIterator[tuple[PgStore, PgStore]]:
    """Two nodes' stores on one database, started; closed at the end (a close is idempotent)."""
    one = PgStore(url, clock=clock, flush_interval=0.01)
    two = PgStore(url, clock=clock, flush_interval=0.01)
    await one.start()
    try:
        await two.start()
        try:
            yield one, two
        finally:
            await two.close()
    finally:
        await one.close()


async def drain(node: Sender, store: PgStore) -> int:
    """Run rounds until nothing is pending anywhere; return how many this node tried."""
    tried = 0
    async with asyncio.timeout(60):
        while (await store.read_outbox(outbox_states)).get("pending"):
            done = await node.run_once()
            tried += done
            if not done:  # the other node holds what is due now
                await asyncio.sleep(0.01)
    return tried


async def test_two_senders_racing_deliver_each_message_once_in_order(postgres, tmp_path, smtp):
    mailbox, server = smtp
    config = email_config(tmp_path, server.port)
    clock = FakeClock(T0)
    url = postgres.database()
    async with two_nodes(url, clock) as (one, two):
        total = await seed(one, url)
        a = sender(one, config, clock, "node-a", batch=4)
        b = sender(two, config, clock, "node-b", batch=4)
        tried_a, tried_b = await asyncio.gather(drain(a, one), drain(b, two))
        assert tried_a + tried_b == total
        assert tried_a and tried_b, (tried_a, tried_b)  # both took part
        ids = Counter(m["Message-ID"] for m in mailbox.messages)
        assert len(mailbox.messages) == total and set(ids.values()) == {1}
        tries = await one.read_outbox(attempts)
        assert Counter(t.outbox for t in tries) == Counter(range(1, total + 1))
        assert {t.outcome for t in tries} == {"sent"}
        for sid in range(1, 6):  # each subscriber's messages went oldest first
            theirs = [t.outbox for t in tries if t.subscriber == sid]
            assert theirs == sorted(theirs) and len(theirs) == 1 + EXTRA


async def test_a_dead_senders_claims_run_out_and_another_sends_them_once(postgres, tmp_path, smtp):
    mailbox, server = smtp
    config = email_config(tmp_path, server.port)
    clock = FakeClock(T0)
    url = postgres.database()
    async with two_nodes(url, clock) as (dead, live):
        for i in range(3):
            dead.submit(Subscribe("email", f"user{i}@example.com", None, T0, 3600.0))
        await dead.flush()
        # The dead node's round claimed two of them, then it died before sending a thing.
        claimed = await dead.read_outbox(claim_due, T0, 2, "node-dead", T0 + 120)
        assert [m.id for m in claimed] == [1, 2]
        await dead.close()
        node = sender(live, config, clock, "node-live", claim_ttl=120)
        assert await node.run_once() == 1  # only the unclaimed one
        assert await node.run_once() == 0
        clock.advance(119)
        assert await node.run_once() == 0  # the claims still run
        clock.advance(1)
        assert await node.run_once() == 2  # ran out: taken over
        assert await node.run_once() == 0
        assert sorted(m["To"] for m in mailbox.messages) == [
            f"user{i}@example.com" for i in range(3)
        ]
        assert (await live.read_outbox(outbox_states)) == {"sent": 3}


async def test_a_starting_sender_takes_a_killed_leaders_claims_at_once(postgres, tmp_path, smtp):
    """The next leader's sender voids the claims of the one before (only one sends at a time):
    a leader killed between its claim and its deliveries delays nothing by the claim's length."""
    mailbox, server = smtp
    config = email_config(tmp_path, server.port)
    clock = FakeClock(T0)  # never advanced: the dead claims would hold for good
    async with two_nodes(postgres.database(), clock) as (dead, live):
        for i in range(3):
            dead.submit(Subscribe("email", f"user{i}@example.com", None, T0, 3600.0))
        await dead.flush()
        claimed = await dead.read_outbox(claim_due, T0, 10, "killed-leader", T0 + CLAIM_TTL)
        assert len(claimed) == 3
        await dead.close()
        notifications = await start_notifications(config, live, clock, {})
        try:
            async with asyncio.timeout(10):
                while len(mailbox.messages) < 3:
                    await asyncio.sleep(0.02)
        finally:
            await notifications.stop()
        assert sorted(m["To"] for m in mailbox.messages) == [
            f"user{i}@example.com" for i in range(3)
        ]
        assert (await live.read_outbox(outbox_states)) == {"sent": 3}


def test_sqlite_has_one_sender_and_claims_nothing(tmp_path):
    """On SQLite claim_due is the plain read of what is due (the one process sends)."""
    from statuswatch.store.schema import connect, migrate

    db = connect(tmp_path / "s.db", busy_timeout=1)
    migrate(db)
    db.execute(
        "INSERT INTO subscribers (channel, address, state, created) "
        "VALUES ('email', 'a@example.com', 'pending', ?)",
        (T0,),
    )
    db.execute(
        "INSERT INTO outbox (subscriber, kind, created, due, next_attempt, state) "
        "VALUES (1, 'confirm', ?, ?, ?, 'pending')",
        (T0, T0, T0),
    )
    (message,) = claim_due(db, T0, 10, "me", T0 + 60)
    assert message.id == 1
    assert db.execute("SELECT claimed_by, claimed_until FROM outbox").fetchone() == (None, None)
    db.close()
