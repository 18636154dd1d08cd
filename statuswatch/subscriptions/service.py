"""Subscription rules: double opt-in, no enumeration, limits per client and per address."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from statuswatch.auth.ratelimit import RateLimiter
from statuswatch.auth.tokens import token_digest
from statuswatch.clock import Clock
from statuswatch.config.model import EmailSettings
from statuswatch.store import StoreProtocol
from statuswatch.store.outbox import (
    ConfirmSubscriber,
    SetSubscriberComponents,
    Subscribe,
    Unsubscribe,
)
from statuswatch.store.outbox_reads import SubscriberRecord, token_subscriber
from statuswatch.subscriptions.addresses import address_problem, normalise
from statuswatch.subscriptions.forms import FormSigner

PURPOSES = ("confirm", "manage", "unsubscribe")


class Subscriptions:
    """What the subscription pages and API call; all writes go through the store's writer."""

    def __init__(
        self,
        store: StoreProtocol,
        settings: EmailSettings,
        components: dict[str, str],
        clock: Clock,
        signer: FormSigner,
        wake: Callable[[], None],
    ) -> None:
        self.store = store
        self.settings = settings
        self.components = components  # id -> name, in page order
        self.clock = clock
        self.signer = signer
        self.wake = wake
        self.ip_limiter = RateLimiter(
            clock, rate=settings.ip_per_hour / 3600, burst=settings.ip_burst
        )

    def problems(self, address: str, components: Iterable[str]) -> Iterator[str]:
        """Every problem of a request ("field: message")."""
        if (problem := address_problem(address.strip())) is not None:
            yield f"email: {problem}"
        for cid in components:
            if cid not in self.components:
                yield f"components: unknown component {cid[:64]!r}"

    def choice(self, components: Iterable[str]) -> tuple[str, ...] | None:
        """A component choice as stored: None means every component (also future ones)."""
        chosen = tuple(dict.fromkeys(components))
        return None if not chosen or set(chosen) == set(self.components) else chosen

    async def subscribe(self, client: str, address: str, components: Iterable[str]) -> None:
        """Ask for a subscription (checked with `problems` first); the outcome is never told.

        The request is queued for the writer and the answer does not wait for its commit: what
        happens next (a new address, a pending one, a confirmed one left alone, the per-address
        limit) is decided inside the writer's transaction, off the request's path, so neither
        the answer nor its timing depends on the address (bench/subscribe.py measures it). The
        writer commits within its batching window (0.25 s); a crash inside that window loses the
        request, and the person simply asks again.
        """
        if self.ip_limiter.allow(client):
            self.store.submit(
                Subscribe(
                    "email",
                    normalise(address),
                    self.choice(components),
                    self.clock.time(),
                    self.settings.confirm_interval,
                )
            )
        self.wake()

    async def holder(self, token: str, purpose: str) -> SubscriberRecord | None:
        """The subscriber a token was issued to for `purpose`, if it is live."""
        if len(token) > 128:
            return None
        return await self.store.read_outbox(
            token_subscriber, token_digest(token), purpose, self.clock.time()
        )

    async def confirm(self, token: str) -> SubscriberRecord | None:
        """Confirm with a confirmation token (spent by it); None when it is not live."""
        sub = await self.holder(token, "confirm")
        if sub is not None:
            self.store.submit(ConfirmSubscriber(sub.id, token_digest(token), self.clock.time()))
            await self.store.flush()
        return sub

    async def set_components(self, sub: SubscriberRecord, components: Iterable[str]) -> None:
        self.store.submit(SetSubscriberComponents(sub.id, self.choice(components)))
        await self.store.flush()

    async def unsubscribe(self, sub: SubscriberRecord) -> None:
        self.store.submit(Unsubscribe(sub.id, self.clock.time()))
        await self.store.flush()
