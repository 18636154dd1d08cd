"""Headers that let clients file the site's mail as one list and never confuse two messages."""

from __future__ import annotations

import re

from statuswatch.clock import FakeClock
from statuswatch.store import Store
from tests.helpers.notify import Mailbox, SmtpServer, email_config, start_rig

MESSAGE_ID = re.compile(r"<[0-9a-f]{32}@status\.test>")


async def first_incident_mail(aiohttp_client, tmp_path, smtp) -> list[str]:
    """A fresh database: one subscriber, one incident; the Message-IDs it sends."""
    tmp_path.mkdir()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), FakeClock())
    await rig.confirmed(smtp.mailbox, "ann@example.com")
    await rig.open_incident("Checkout is failing")
    await rig.deliver()
    (mail,) = smtp.mailbox.messages
    smtp.mailbox.messages.clear()
    assert mail["List-Id"] == "Test Status <status.test>"  # RFC 2919, from the site's host
    await rig.settle()
    return [mail["Message-ID"]]


async def test_list_id_and_message_ids_unique_across_fresh_databases(
    aiohttp_client, tmp_path, smtp
):
    first = await first_incident_mail(aiohttp_client, tmp_path / "one", smtp)
    # Same rows, same numbers, another database: a Message-ID already sent is never reused.
    second = await first_incident_mail(aiohttp_client, tmp_path / "two", smtp)
    assert all(MESSAGE_ID.fullmatch(m) for m in first + second), first + second
    assert first != second


async def test_a_retry_keeps_its_message_id_across_a_restart(aiohttp_client, tmp_path):
    mailbox = Mailbox()
    smtp = SmtpServer(mailbox)
    await smtp.start()
    config = email_config(tmp_path, smtp.port)
    clock = FakeClock()
    store = Store(config.storage.path, clock=clock)
    await store.start()
    rig = await start_rig(aiohttp_client, config, clock, store=store)
    await rig.confirmed(mailbox, "ann@example.com")
    mailbox.data_replies.append("451 4.3.0 Try again later")
    await rig.open_incident("Deferred across a restart")
    await rig.deliver()
    (deferred,) = mailbox.refused
    assert mailbox.messages == [] and "List-Id" in deferred
    await rig.client.close()
    await rig.settle()
    await store.close()

    store = Store(config.storage.path, clock=clock)
    await store.start()
    rig = await start_rig(aiohttp_client, config, clock, store=store)
    clock.advance(3600)
    await rig.deliver()
    (delivered,) = mailbox.messages
    assert delivered["Message-ID"] == deferred["Message-ID"]
    assert MESSAGE_ID.fullmatch(delivered["Message-ID"])
    await rig.client.close()
    await rig.settle()
    await store.close()
    await smtp.stop()
