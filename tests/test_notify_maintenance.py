"""Maintenance notifications (scheduled, started, completed) and silence for downtime inside it."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from statuswatch.clock import FakeClock
from statuswatch.web.keys import BOARD, MONITORING
from tests.helpers.notify import Mailbox, email_config, start_rig, text_part

START = 1_793_000_000.0
BERLIN = {"timezone": "Europe/Berlin"}


def subjects(mailbox: Mailbox) -> list[str]:
    return [m["Subject"] for m in mailbox.messages]


async def test_maintenance_scheduled_started_completed(aiohttp_client, tmp_path, smtp):
    clock = FakeClock(START)
    config = email_config(tmp_path, smtp.port, site=BERLIN)
    rig = await start_rig(aiohttp_client, config, clock)
    await rig.confirmed(smtp.mailbox, "ann@example.com", components=["checkout"])
    await rig.confirmed(smtp.mailbox, "api-only@example.com", components=["api"])
    start = datetime.fromtimestamp(START + 3600, UTC).isoformat()
    resp = await rig.admin(
        "POST",
        "/api/v1/maintenance",
        json={
            "id": "db",
            "title": "Database upgrade",
            "components": ["checkout"],
            "start": start,
            "duration": "30m",
            "description": "Checkout may be slow.",
        },
    )
    assert resp.status == 201, await resp.text()
    await rig.deliver()
    # A window an hour away: its components are not under maintenance yet; the subject names
    # them and when it starts, in the site's zone.
    assert subjects(smtp.mailbox) == [
        "[Test Status] Scheduled maintenance: Database upgrade (Checkout <script>), "
        "26 Oct 2026 09:33 CET"
    ]
    body = text_part(smtp.mailbox.messages[0])
    assert "Checkout may be slow." in body and "http://status.test/maintenance" in body
    assert "When: 26 Oct 2026 09:33 CET – 26 Oct 2026 10:03 CET" in body
    assert "under maintenance" not in body
    board = rig.client.app[BOARD]
    clock.advance(3600)  # it starts
    board.tick()
    await rig.deliver()
    clock.advance(1800)  # it ends
    board.tick()
    board.tick()  # a second look at the same edge announces nothing again
    clock.advance(120)
    await rig.deliver()
    assert subjects(smtp.mailbox)[1:] == [
        "[Test Status] Maintenance in progress: Database upgrade "
        "(Checkout <script>: under maintenance)",
        # Completed: the components as they are now, back from maintenance.
        "[Test Status] Maintenance completed: Database upgrade (Checkout <script>: operational)",
    ]
    # The update wording is /api/v2's, one table for the page and the messages.
    assert "Maintenance is in progress." in text_part(smtp.mailbox.messages[1])
    assert "Maintenance has completed." in text_part(smtp.mailbox.messages[2])
    assert smtp.mailbox.to("api-only@example.com") == []
    await rig.settle()


async def test_extending_a_window_in_progress_sends_an_update_never_scheduled(
    aiohttp_client, tmp_path, smtp
):
    clock = FakeClock(START)
    config = email_config(tmp_path, smtp.port, site=BERLIN, coalesce="5s")
    rig = await start_rig(aiohttp_client, config, clock)
    await rig.confirmed(smtp.mailbox, "ann@example.com")
    # An emergency window: no start, so it begins now.
    body = {"id": "fix", "title": "Emergency fix", "components": ["checkout"], "duration": "30m"}
    assert (await rig.admin("POST", "/api/v1/maintenance", json=body)).status == 201
    await rig.deliver()
    clock.advance(5)
    resp = await rig.admin("PATCH", "/api/v1/maintenance/fix", json={"duration": "1h"})
    assert resp.status == 200, await resp.text()
    await rig.deliver()
    clock.advance(3600)
    rig.client.app[BOARD].tick()
    await rig.deliver()
    assert subjects(smtp.mailbox) == [
        "[Test Status] Maintenance in progress: Emergency fix "
        "(Checkout <script>: under maintenance)",
        "[Test Status] Maintenance updated: Emergency fix (Checkout <script>: under maintenance)",
        "[Test Status] Maintenance completed: Emergency fix (Checkout <script>: operational)",
    ]
    update = text_part(smtp.mailbox.messages[1])
    assert "The maintenance has been changed." in update
    assert "When: 26 Oct 2026 08:33 CET – 26 Oct 2026 09:33 CET" in update  # the new end
    await rig.settle()


async def test_downtime_inside_maintenance_sends_nothing(
    aiohttp_client, aiohttp_server, tmp_path, smtp
):
    async def down(_request):
        return web.Response(status=503, text="down")

    target = web.Application()
    target.router.add_get("/", down)
    server = await aiohttp_server(target)
    clock = FakeClock(START)
    monitors = [
        {
            "id": "checkout-health",
            "kind": "http",
            "component": "checkout",
            "url": str(server.make_url("/")),
            "timeout": "2s",
        }
    ]
    window = {
        "id": "db",
        "title": "DB upgrade",
        "components": ["checkout"],
        "start": datetime.fromtimestamp(START - 60, UTC),
        "duration": "1h",
    }
    config = email_config(tmp_path, smtp.port, monitors, sections={"maintenance": [window]})
    rig = await start_rig(aiohttp_client, config, clock)
    await rig.confirmed(smtp.mailbox, "ann@example.com")
    monitoring, board = rig.client.app[MONITORING], rig.client.app[BOARD]
    for _ in range(5):  # down for five minutes, all inside the window
        clock.advance(60)
        for monitor in monitoring.monitors.values():
            await monitoring.run_one(monitor)
        board.tick()
    await rig.deliver()
    assert board.status["checkout"].value == "under_maintenance"
    assert smtp.mailbox.messages == []
    await rig.settle()
