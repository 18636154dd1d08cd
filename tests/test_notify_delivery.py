"""Delivery through a real SMTP server that goes away, defers and refuses: none lost or doubled."""

from __future__ import annotations

import pytest

from statuswatch.clock import FakeClock
from statuswatch.notify.sender import Backoff
from statuswatch.store import Store
from statuswatch.store.outbox_reads import attempts, outbox_states, subscribers
from tests.helpers.notify import email_config, start_rig

PEOPLE = ("ann@example.com", "ben@example.com", "cat@example.com")


def titles(messages) -> list[str]:
    return [m["Subject"].split(": ", 1)[1].split(" (")[0] for m in messages]


def test_backoff_is_exponential_capped_and_jittered():
    backoff = Backoff(base=30, cap=600)
    assert [backoff.delay(n, 0.0) for n in range(6)] == [15, 30, 60, 120, 240, 300]
    assert [backoff.delay(n, 0.999999) for n in range(6)] == pytest.approx(
        [30, 60, 120, 240, 480, 600], rel=1e-5
    )
    assert backoff.delay(1000, 0.5) == 450  # no overflow, still capped


async def test_smtp_down_then_up_delivers_everything_once_in_order(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    for person in PEOPLE:
        await rig.confirmed(smtp.mailbox, person)

    confirmations = len(await rig.store.read_outbox(attempts))
    await smtp.stop()
    for title in ("First", "Second", "Third"):
        await rig.open_incident(title)
        clock.advance(1)
    # Down: each subscriber's oldest message is tried and deferred; later ones wait behind it.
    assert await rig.deliver() == 3
    tries = (await rig.store.read_outbox(attempts))[confirmations:]
    assert {a.outcome for a in tries} == {"retry"}
    assert all("ConnectionRefused" in a.detail or "connect" in a.detail.lower() for a in tries)
    assert await rig.deliver() == 0  # nothing is due before the backoff runs out
    clock.advance(15)  # retry_base 30 s with jitter at its floor: 15 s
    assert await rig.deliver() == 3
    assert smtp.mailbox.messages == []

    await smtp.start()
    clock.advance(3600)
    await rig.deliver()
    for person in PEOPLE:
        mails = smtp.mailbox.to(person)
        assert titles(mails) == ["First", "Second", "Third"]
    ids = [m["Message-ID"] for m in smtp.mailbox.messages]
    assert len(ids) == len(set(ids)) == 9
    assert (await rig.store.read_outbox(outbox_states)).get("pending", 0) == 0
    # Nothing more, however often the sender looks again.
    clock.advance(3600)
    assert await rig.deliver() == 0
    assert len(smtp.mailbox.messages) == 9
    await rig.settle()


async def test_451_is_retried_then_delivered(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    await rig.confirmed(smtp.mailbox, "ann@example.com")
    smtp.mailbox.data_replies.append("451 4.3.0 Try again later")
    await rig.open_incident("Deferred once")
    await rig.deliver()
    assert smtp.mailbox.messages == []
    clock.advance(15)
    await rig.deliver()
    (mail,) = smtp.mailbox.messages
    assert titles([mail]) == ["Deferred once"]
    tries = (await rig.store.read_outbox(attempts))[-2:]
    assert [(a.outcome, a.detail[:3]) for a in tries] == [("retry", "451"), ("sent", "250")]
    await rig.settle()


async def test_550_marks_that_address_only(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    for person in PEOPLE:
        await rig.confirmed(smtp.mailbox, person)
    smtp.mailbox.rcpt_replies["ben@example.com"] = "550 5.1.1 No such user"
    await rig.open_incident("One")
    clock.advance(1)
    await rig.open_incident("Two")
    clock.advance(3600)
    await rig.deliver()
    assert titles(smtp.mailbox.to("ann@example.com")) == ["One", "Two"]
    assert titles(smtp.mailbox.to("cat@example.com")) == ["One", "Two"]
    assert smtp.mailbox.to("ben@example.com") == []
    states = {s.address: (s.state, s.bounce) for s in await rig.store.read_outbox(subscribers)}
    assert states["ben@example.com"] == ("bounced", "550 5.1.1 No such user")
    assert states["ann@example.com"] == ("confirmed", None)
    ben_tries = [a for a in await rig.store.read_outbox(attempts) if a.outcome == "failed"]
    assert len(ben_tries) == 1  # given up at once: the second message was dropped with it
    # The admin API shows the mark.
    listed = await (await rig.admin("GET", "/api/v1/subscribers")).json()
    assert {s["address"]: s["state"] for s in listed["subscribers"]}["ben@example.com"] == (
        "bounced"
    )
    await rig.settle()


async def test_updates_within_the_window_coalesce_and_resolution_is_sent_once(
    aiohttp_client, tmp_path, smtp
):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    await rig.confirmed(smtp.mailbox, "ann@example.com")
    incident = await rig.open_incident("Storm")
    await rig.deliver()  # the opening goes out at once
    for n in range(5):  # five updates within two minutes: one message, with the newest state
        clock.advance(10)
        await rig.update_incident(incident, f"Update {n}", "identified")
        await rig.deliver()
    clock.advance(10)
    await rig.update_incident(incident, "All fixed.", "resolved")
    await rig.deliver()
    assert len(smtp.mailbox.messages) == 1
    clock.advance(120)
    await rig.deliver()
    first, second = smtp.mailbox.messages
    assert "Investigating" in first["Subject"]
    assert "Resolved" in second["Subject"]
    assert "All fixed." in second.get_body(preferencelist=("plain",)).get_content()
    # Saving the resolved incident again (a title edit) sends nothing more.
    resp = await rig.admin("PATCH", f"/api/v1/incidents/{incident}", json={"title": "Storm!"})
    assert resp.status == 200
    clock.advance(3600)
    await rig.deliver()
    assert len(smtp.mailbox.messages) == 2
    await rig.settle()


async def test_restart_resumes_the_outbox(aiohttp_client, tmp_path, smtp):
    config = email_config(tmp_path, smtp.port)
    clock = FakeClock()
    store = Store(config.storage.path, clock=clock)
    await store.start()
    rig = await start_rig(aiohttp_client, config, clock, store=store)
    for person in PEOPLE:
        await rig.confirmed(smtp.mailbox, person)
    await rig.open_incident("Delivered before the restart")
    await rig.deliver()
    await smtp.stop()
    clock.advance(1)
    await rig.open_incident("Queued across the restart")
    await rig.deliver()  # deferred: SMTP is down
    await rig.client.close()
    await rig.settle()
    await store.close()

    await smtp.start()
    store = Store(config.storage.path, clock=clock)
    await store.start()
    rig = await start_rig(aiohttp_client, config, clock, store=store)
    clock.advance(3600)
    await rig.deliver()
    for person in PEOPLE:
        assert titles(smtp.mailbox.to(person)) == [
            "Delivered before the restart",
            "Queued across the restart",
        ]
    await rig.client.close()
    await rig.settle()
    await store.close()
