"""Finished outbox messages and their attempts go after email.retention, by the same prune as
raw checks (housekeeping's prune_job); pending ones stay however old."""

from __future__ import annotations

from statuswatch.clock import FakeClock
from statuswatch.monitor.housekeeping import prune_job
from statuswatch.store.outbox_reads import attempts, outbox_states
from statuswatch.web.keys import CONFIG
from tests.helpers.notify import email_config, start_rig

DAY = 86400.0


async def test_done_messages_past_retention_go_with_their_attempts(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    config = email_config(tmp_path, smtp.port)
    assert config.email.retention == 90 * DAY  # the default
    rig = await start_rig(aiohttp_client, config, clock)
    people = ("ann@example.com", "ben@example.com", "cat@example.com")
    for person in people:
        await rig.confirmed(smtp.mailbox, person)
    smtp.mailbox.rcpt_replies["ben@example.com"] = "550 5.1.1 No such user"  # failed at once
    smtp.mailbox.rcpt_replies["cat@example.com"] = "451 4.2.0 Mailbox busy"  # pending for good
    await rig.open_incident("Old")
    clock.advance(3600)
    await rig.deliver()
    clock.advance(30 * DAY)
    await rig.open_incident("Recent")
    clock.advance(3600)
    await rig.deliver()

    before = await rig.store.read_outbox(attempts)
    # Sent: three confirmations and ann's two; failed: ben's; pending: cat's two.
    assert await rig.store.read_outbox(outbox_states) == {"sent": 5, "failed": 1, "pending": 2}
    cat = {a.outbox for a in before if a.outcome == "retry"}
    assert len(cat) == 1  # only cat's oldest message is tried; the later one waits behind it

    # 61 days on the recent messages are within retention, the old ones 91 days past theirs.
    clock.advance(60 * DAY)
    prune_job(rig.client.app[CONFIG], rig.store, clock)
    await rig.store.flush()

    assert await rig.store.read_outbox(outbox_states) == {"sent": 1, "pending": 2}
    after = await rig.store.read_outbox(attempts)
    recent_sent = [a for a in before if a.outcome == "sent" and a.time > clock.time() - 90 * DAY]
    assert len(recent_sent) == 1  # ann's "Recent"
    # What is left: ann's recent delivery and every attempt of cat's pending message, 91 days
    # old included (nothing queued is lost, nor the record of trying it).
    assert after == [a for a in before if a in recent_sent or a.outbox in cat]
    assert min(a.time for a in after) < clock.time() - 90 * DAY

    # Pending messages are still delivered once the mailbox takes them.
    del smtp.mailbox.rcpt_replies["cat@example.com"]
    await rig.deliver()
    assert await rig.store.read_outbox(outbox_states) == {"sent": 3}
    await rig.settle()
