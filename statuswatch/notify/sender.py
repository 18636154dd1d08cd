"""The sender task: delivers the outbox, records every attempt, retries with backoff.

Delivery order: each subscriber's messages go strictly in outbox order (a failing one holds the
later ones back). After a send, the attempt is committed before the next message: a process
killed between a send and that commit sends that one message again after restart (same
Message-ID, so mail clients can fold it), and never more than that one per kill.

Several senders on one database (PostgreSQL: nodes taking over from each other) each claim the
messages they send (`claim_due`) until the claim runs out, so no two send one message; a dead
sender's claims run out and its messages are taken over. A sender never starts a message
whose claim may run out before it is done.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random as random_module
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from statuswatch.auth.tokens import new_token, token_digest
from statuswatch.clock import Clock
from statuswatch.config.model import EmailSettings
from statuswatch.notify.channels import EmailChannel, Outcome, WebhookChannel
from statuswatch.notify.messages import MessageBuilder
from statuswatch.notify.stats import NotifyStats
from statuswatch.store import StoreProtocol
from statuswatch.store.outbox import PruneSubscriberTokens, RecordAttempt, SaveSubscriberToken
from statuswatch.store.outbox_reads import Outgoing, claim_due

log = logging.getLogger(__name__)

# Manage and unsubscribe links work this long; expired tokens are pruned (every message mints
# two, so without an end the table would only grow). Newer mail always carries live links.
LINK_TTL = 400 * 86400.0
PRUNE_EVERY = 3600.0
# How long a round's claim on its messages lasts: long enough for a batch of slow deliveries.
# A sender starting voids every earlier claim (ReleaseClaims in notify/runtime.py), so a dead
# leader's messages go with the next leader's first round, not after this.
CLAIM_TTL = 600.0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter: base * 2^n, at most cap, times 0.5 to 1."""

    base: float
    cap: float

    def delay(self, attempts: int, jitter: float) -> float:
        """Seconds before the next try after `attempts` failed ones; jitter is in [0, 1)."""
        return min(self.cap, self.base * 2 ** min(attempts, 30)) * (0.5 + jitter / 2)


class Sender:
    """Delivers due outbox messages through their channel; clock, sleep and random injected."""

    def __init__(
        self,
        store: StoreProtocol,
        *,
        settings: EmailSettings,
        base_url: str,
        builder: MessageBuilder,
        email: EmailChannel | None,
        webhook: WebhookChannel | None,
        webhook_secrets: Mapping[str, tuple[str, str | None]],  # id -> (url, secret)
        clock: Clock,
        random: Callable[[], float] = random_module.random,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        batch: int = 100,
        stats: NotifyStats | None = None,
        claimant: str | None = None,
        claim_ttl: float = CLAIM_TTL,
    ) -> None:
        self.store = store
        self.settings = settings
        self.base_url = base_url
        self.builder = builder
        self.email = email
        self.webhook = webhook
        self.webhook_secrets = webhook_secrets
        self.clock = clock
        self.random = random
        self.sleep = sleep
        self.batch = batch
        self.stats = stats
        # Unique per sender (a restarted process is another claimant: its old claims run out).
        self.claimant = claimant or f"{socket.gethostname()}:{os.getpid()}:{new_token()[:8]}"
        self.claim_ttl = claim_ttl
        self.backoff = Backoff(settings.retry_base, settings.retry_cap)
        self.wake = asyncio.Event()
        # One round at a time (the task and a caller driving it): a message is never in two.
        self.lock = asyncio.Lock()
        self.pruned_at: float | None = None

    async def run_once(self) -> int:
        """Try every message due now, once; return how many were tried."""
        async with self.lock:
            return await self._round()

    async def _round(self) -> int:
        now = self.clock.time()
        if self.pruned_at is None or now - self.pruned_at >= PRUNE_EVERY:
            self.store.submit(PruneSubscriberTokens(now))
            self.pruned_at = now
        claimed = self.clock.time()
        until = claimed + self.claim_ttl
        due = await self.store.read_outbox(claim_due, claimed, self.batch, self.claimant, until)
        # A message is started only while its claim outlasts the slowest delivery (the channel's
        # timeout, twice: the links' tokens are committed first): the rest wait for a round.
        last_start = until - 2 * self.settings.timeout
        for message in due:
            if self.clock.time() >= last_start:
                log.warning("notification round outlasted its claim; the rest go next round")
                break
            try:
                outcome = await self._deliver(message)
            except Exception as exc:  # a bug in one message must not block the others
                log.exception("notification %d could not be built or sent", message.id)
                outcome = Outcome("retry", f"internal error: {exc!r}")
            now = self.clock.time()
            retry_at = None
            if outcome.kind == "retry":
                retry_at = now + self.backoff.delay(message.attempts, self.random())
            self.store.submit(
                RecordAttempt(
                    message.id,
                    message.event,
                    now,
                    outcome.kind,
                    outcome.detail,
                    retry_at,
                    outcome.mark,
                )
            )
            # Committed before the next send: a kill can repeat at most this one message.
            await self.store.flush()
            if self.stats is not None:
                self.stats.attempted(message.subscriber.channel, outcome.kind)
            if outcome.kind != "sent":
                log.warning(
                    "notification %d to %s: %s (%s)",
                    message.id,
                    message.subscriber.channel,
                    outcome.kind,
                    outcome.detail,
                )
        return len(due)

    async def run(self) -> None:
        """Deliver forever: after each round, wait for the poll interval or a wake-up."""
        while True:
            try:
                tried = await self.run_once()
            except Exception:  # a bug or a sick disk must not end notifications for good
                log.exception("notification round failed; trying again")
                tried = 0
            if tried >= self.batch:
                continue  # more may be due right now
            self.wake.clear()
            waiter = asyncio.ensure_future(self.wake.wait())
            sleeper = asyncio.ensure_future(self.sleep(self.settings.poll_interval))
            try:
                await asyncio.wait((waiter, sleeper), return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                sleeper.cancel()

    async def _deliver(self, message: Outgoing) -> Outcome:
        sub = message.subscriber
        if message.kind == "event" and sub.state != "confirmed":
            return Outcome("failed", f"subscriber is {sub.state}")
        if sub.channel == "webhook":
            return await self._webhook(message)
        if self.email is None:
            return Outcome("retry", "email delivery is disabled")
        now = self.clock.time()
        key = f"{message.id}.{message.event or 0}"  # the idempotency key, in the Message-ID
        if message.kind == "confirm":
            expires = now + self.settings.confirm_ttl
            token = await self._token(sub.id, "confirm", expires)
            unsubscribe = await self._token(sub.id, "unsubscribe", now + LINK_TTL)
            email = self.builder.confirmation(
                sub.address,
                f"{self.base_url}/subscriptions/confirm/{token}",
                f"{self.base_url}/unsubscribe/{unsubscribe}",
                expires,
                key,
                now,
            )
        else:
            assert message.payload is not None
            manage = await self._token(sub.id, "manage", now + LINK_TTL)
            unsubscribe = await self._token(sub.id, "unsubscribe", now + LINK_TTL)
            email = self.builder.incident(
                sub.address,
                message.payload,
                f"{self.base_url}/subscriptions/{manage}",
                f"{self.base_url}/unsubscribe/{unsubscribe}",
                key,
                now,
            )
        return await self.email.deliver(email, sub.address)

    async def _token(self, subscriber: int, purpose: str, expires: float | None) -> str:
        """A fresh single-purpose token for this message; only its digest is stored."""
        token = new_token()
        self.store.submit(SaveSubscriberToken(token_digest(token), subscriber, purpose, expires))
        await self.store.flush()  # the link works before the mail that carries it is out
        return token

    async def _webhook(self, message: Outgoing) -> Outcome:
        target = self.webhook_secrets.get(message.subscriber.address)
        if target is None or self.webhook is None or message.payload is None:
            return Outcome("failed", "webhook is not configured")
        url, secret = target
        if secret is None:  # configured, secret not provided yet: wait rather than send unsigned
            return Outcome("retry", "the webhook's secret env var is not set")
        key = f"{message.id}.{message.event or 0}"
        return await self.webhook.deliver(url, secret, message.payload, key, self.clock.time())
