"""A sender killed between a send and the commit of its attempt record: the bound on duplicates.

The window cannot be closed with SMTP (the server may accept a message and the process die before
it writes that down), so the design bounds it instead: the attempt is committed right after each
send, before the next one, and a retried message carries the same Message-ID. A kill in that
window therefore repeats exactly that one message after restart, never more, and loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from statuswatch.clock import FakeClock
from statuswatch.store import Store
from statuswatch.store.outbox_reads import attempts
from tests.helpers.notify import email_config, start_rig

SENDER = """
import asyncio, json, sys
from pathlib import Path
from statuswatch.clock import FakeClock
from statuswatch.config import parse_config
from statuswatch.notify.runtime import start_notifications
from statuswatch.store import Store

async def main():
    config = parse_config(json.loads(sys.argv[1]), base_dir=Path(sys.argv[2]))
    clock = FakeClock(float(sys.argv[3]))
    store = Store(config.storage.path, clock=clock)
    await store.start()
    notifications = await start_notifications(config, store, clock, {})
    notifications.task.cancel()
    await notifications.sender.run_once()
    print("finished without being killed", flush=True)

asyncio.run(main())
"""


async def test_kill_between_send_and_commit_repeats_one_message_at_most(
    aiohttp_client, tmp_path, smtp
):
    config = email_config(tmp_path, smtp.port)
    clock = FakeClock()
    store = Store(config.storage.path, clock=clock)
    await store.start()
    rig = await start_rig(aiohttp_client, config, clock, store=store)
    for person in ("ann@example.com", "ben@example.com"):
        await rig.confirmed(smtp.mailbox, person)
    await rig.open_incident("Sent while the sender dies")
    await rig.client.close()
    await rig.settle()
    await store.close()

    # Another process delivers; it is killed the moment the server has the first message (the
    # server answers 250 only after the kill: the sender never learns that it was accepted).
    raw = {
        "site": {
            "title": "Test Status",
            "base_url": "http://status.test",
            "admin_token_env": "TEST_ADMIN_TOKEN",
        },
        "storage": {"path": config.storage.path},
        "components": [
            {"id": "api", "name": "Storefront API"},
            {"id": "checkout", "name": "Checkout <script>"},
        ],
        "email": {
            "enabled": True,
            "from": "status@example.com",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "tls": "none",
            "poll_interval": "1h",
        },
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SENDER,
        json.dumps(raw),
        str(tmp_path),
        str(clock.time()),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    smtp.mailbox.on_data = lambda _msg: os.kill(proc.pid, signal.SIGKILL)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == -signal.SIGKILL, out
    assert len(smtp.mailbox.messages) == 1
    killed_message = smtp.mailbox.messages[0]
    smtp.mailbox.on_data = None

    # Restart: the message whose attempt was never recorded goes again; everything else once.
    store = Store(config.storage.path, clock=clock)
    await store.start()
    rig = await start_rig(aiohttp_client, config, clock, store=store)
    clock.advance(60)
    await rig.deliver()
    ids = [m["Message-ID"] for m in smtp.mailbox.messages]
    assert len(ids) == 3  # two subscribers, one duplicate
    assert ids.count(killed_message["Message-ID"]) == 2  # the bound: one duplicate per kill
    assert len(set(ids)) == 2  # nothing lost
    sent = [a for a in await rig.store.read_outbox(attempts) if a.outcome == "sent"]
    assert len(sent) == 2 + 2  # two confirmations before, two incident messages now
    clock.advance(3600)
    assert await rig.deliver() == 0
    await rig.client.close()
    await rig.settle()
    await store.close()
