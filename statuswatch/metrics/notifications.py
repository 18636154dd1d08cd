"""Notification families: the outbox, delivery attempts, subscribers."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric

from statuswatch.metrics.family import Families, put
from statuswatch.notify.stats import CHANNELS, STATES, NotifyStats

FAMILIES = Families(
    {
        "statuswatch_notifications_pending": (
            "gauge",
            "Outbox messages waiting to be delivered (read every 15 s).",
            ("channel",),
        ),
        "statuswatch_notification_oldest_pending_age_seconds": (
            "gauge",
            "How long the oldest waiting message has waited (0 when none).",
            ("channel",),
        ),
        "statuswatch_notification_attempts_total": (
            "counter",
            "Delivery attempts since statuswatch started, by outcome.",
            ("channel", "outcome"),
        ),
        "statuswatch_subscribers": (
            "gauge",
            "Subscribers by channel and state.",
            ("channel", "state"),
        ),
    }
)


def collect(stats: NotifyStats | None) -> Iterator[Metric]:
    """Pending and oldest per channel, attempts, subscribers."""
    # Always exposed, zeros when notifications are off: every channel and state has a
    # series, so "pending > 0" and rate() queries never see a series appear from nothing.
    counts = stats.counts if stats is not None else None
    pending = FAMILIES.new("statuswatch_notifications_pending")
    oldest = FAMILIES.new("statuswatch_notification_oldest_pending_age_seconds")
    for channel in CHANNELS:
        labels = {"channel": channel}
        put(pending, labels, counts.pending.get(channel, 0) if counts else 0)
        put(oldest, labels, stats.oldest_pending_age(channel) if stats else 0)
    yield pending
    yield oldest
    attempts = FAMILIES.new("statuswatch_notification_attempts_total")
    tried = stats.attempts.copy() if stats is not None else {}
    for (channel, outcome), count in sorted(tried.items()):
        put(attempts, {"channel": channel, "outcome": outcome}, count)
    yield attempts
    subs = FAMILIES.new("statuswatch_subscribers")
    known = counts.subscribers.copy() if counts else {}
    keys = sorted({(c, s) for c in CHANNELS for s in STATES} | set(known))
    for channel, state in keys:
        put(subs, {"channel": channel, "state": state}, known.get((channel, state), 0))
    yield subs
