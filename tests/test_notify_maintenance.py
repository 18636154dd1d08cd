"""Maintenance notifications (scheduled, started, completed) and silence for downtime inside it."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from statuswatch.clock import FakeClock
from statuswatch.web.keys import BOARD, MONITORING
from tests.helpers.notify import Mailbox, email_config, start_rig, text_part

START = 1_793_000_000.0


def subjects(mailbox: Mailbox) -> list[str]:
    return [m["Subject"] for m in mailbox.messages]


async def test_maintenance_scheduled_started_completed(aiohttp_client, tmp_path, smtp):
    clock = FakeClock(START)
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
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
    assert subjects(smtp.mailbox) == [
        "[Test Status] Scheduled maintenance: Database upgrade "
        "(Checkout <script>: under maintenance)"
    ]
    body = text_part(smtp.mailbox.messages[0])
    assert "Checkout may be slow." in body and "http://status.test/maintenance" in body
    assert "When: 2026-10-26T08:33:20.000Z to 2026-10-26T09:03:20.000Z (UTC)" in body
    board = rig.client.app[BOARD]
    clock.advance(3600)  # it starts
    board.tick()
    await rig.deliver()
    clock.advance(1800)  # it ends
    board.tick()
    board.tick()  # a second look at the same edge announces nothing again
    clock.advance(120)
    await rig.deliver()
    assert [s.split("] ")[1].split(":")[0] for s in subjects(smtp.mailbox)] == [
        "Scheduled maintenance",
        "Maintenance in progress",
        "Maintenance completed",
    ]
    # The update wording is /api/v2's, one table for the page and the messages.
    assert "Maintenance is in progress." in text_part(smtp.mailbox.messages[1])
    assert "Maintenance has completed." in text_part(smtp.mailbox.messages[2])
    assert smtp.mailbox.to("api-only@example.com") == []
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
