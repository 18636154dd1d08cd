"""Notification figures for /metrics: attempts counted by the sender as it records them, and
outbox and subscriber counts read periodically (housekeeping) so a scrape never runs SQL.

The collector reads them from the render thread: it copies the dicts first (see
monitor/tally.py for why a copy is safe).
"""

from __future__ import annotations

import logging

from statuswatch.clock import Clock
from statuswatch.store import StoreProtocol
from statuswatch.store.outbox_reads import NotifyCounts, notify_counts

log = logging.getLogger(__name__)

CHANNELS = ("email", "webhook")
OUTCOMES = ("sent", "retry", "failed")
STATES = ("pending", "confirmed", "unsubscribed", "bounced")


class NotifyStats:
    """Counts since start (attempts) and the last read of the outbox and subscribers."""

    def __init__(self, store: StoreProtocol, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.attempts = {(c, o): 0 for c in CHANNELS for o in OUTCOMES}
        self.counts = NotifyCounts({}, {}, {})

    def attempted(self, channel: str, outcome: str) -> None:
        """Count one recorded delivery attempt (the sender calls it per RecordAttempt)."""
        key = (channel, outcome)
        self.attempts[key] = self.attempts.get(key, 0) + 1

    async def refresh(self) -> None:
        """Re-read the counts on the store's reader thread; on failure keep the last ones."""
        try:
            self.counts = await self.store.read_outbox(notify_counts)
        except Exception:
            log.exception("metrics: notification counts could not be read; keeping the last ones")

    def oldest_pending_age(self, channel: str) -> float:
        """Seconds the oldest waiting message of the channel has waited (0 when none)."""
        first = self.counts.oldest_pending.get(channel)
        return 0.0 if first is None else max(0.0, self.clock.time() - first)
