"""The notification metrics after real deliveries through a real SMTP server (aiosmtpd):
attempts counted by the sender, outbox and subscriber gauges read by the periodic refresh."""

from __future__ import annotations

import subprocess

from prometheus_client.parser import text_string_to_metric_families

from statuswatch.clock import FakeClock
from statuswatch.web.keys import NOTIFY_STATS
from tests.helpers.notify import email_config, start_rig
from tests.helpers.system import require_tool


async def scrape(rig, *, refresh: bool = True) -> dict[tuple[str, frozenset], float]:
    """Refresh the counts as housekeeping does, scrape /metrics, check it with promtool."""
    await rig.store.flush()
    if refresh:
        await rig.client.app[NOTIFY_STATS].refresh()
    rig.clock.advance(2)  # past the one-second cache of /metrics
    resp = await rig.client.get("/metrics")
    assert resp.status == 200
    text = await resp.text()
    out = subprocess.run(
        [require_tool("promtool"), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (out.returncode, out.stdout + out.stderr) == (0, "")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    (found,) = [v for (n, ls), v in samples.items() if n == name and ls == set(labels.items())]
    return found


ATTEMPTS = "statuswatch_notification_attempts_total"
PENDING = "statuswatch_notifications_pending"
OLDEST = "statuswatch_notification_oldest_pending_age_seconds"


async def test_a_retry_then_a_success_are_counted(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    await rig.confirmed(smtp.mailbox, "ann@example.com")  # the confirmation: one sent
    await rig.subscribe("ben@example.com")  # never confirmed
    smtp.mailbox.data_replies.append("451 4.3.0 Try again later")
    await rig.open_incident("Deferred once")
    await rig.deliver()  # ann's incident mail deferred, ben's confirmation sent

    got = await scrape(rig)
    assert value(got, ATTEMPTS, channel="email", outcome="sent") == 2
    assert value(got, ATTEMPTS, channel="email", outcome="retry") == 1
    assert value(got, ATTEMPTS, channel="email", outcome="failed") == 0
    assert value(got, PENDING, channel="email") == 1
    assert value(got, "statuswatch_subscribers", channel="email", state="confirmed") == 1
    assert value(got, "statuswatch_subscribers", channel="email", state="pending") == 1
    assert value(got, "statuswatch_subscribers", channel="webhook", state="confirmed") == 0

    clock.advance(15)  # the backoff, jitter at its floor
    await rig.deliver()
    assert len(smtp.mailbox.messages) == 2
    got = await scrape(rig)
    assert value(got, ATTEMPTS, channel="email", outcome="sent") == 3
    assert value(got, ATTEMPTS, channel="email", outcome="retry") == 1
    assert value(got, PENDING, channel="email") == 0
    assert value(got, OLDEST, channel="email") == 0
    await rig.settle()


async def test_a_message_waiting_while_smtp_is_down_ages(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    await rig.confirmed(smtp.mailbox, "ann@example.com")
    await smtp.stop()
    queued_at = clock.time()
    await rig.open_incident("Relay down")
    await rig.deliver()
    clock.advance(600)
    await rig.deliver()  # tried again after the backoff: still down

    got = await scrape(rig)
    assert value(got, PENDING, channel="email") == 1
    assert value(got, OLDEST, channel="email") == clock.time() - queued_at  # 602 s
    assert value(got, ATTEMPTS, channel="email", outcome="retry") == 2
    assert value(got, ATTEMPTS, channel="email", outcome="sent") == 1  # the confirmation
    assert value(got, PENDING, channel="webhook") == 0
    assert value(got, OLDEST, channel="webhook") == 0

    # The age is taken at scrape time from the last read, so it grows between refreshes.
    clock.advance(300)
    got = await scrape(rig, refresh=False)
    assert value(got, OLDEST, channel="email") == clock.time() - queued_at

    await smtp.start()
    clock.advance(3600)
    await rig.deliver()
    got = await scrape(rig)
    assert value(got, PENDING, channel="email") == 0
    assert value(got, OLDEST, channel="email") == 0
    assert value(got, ATTEMPTS, channel="email", outcome="sent") == 2
    await rig.settle()
