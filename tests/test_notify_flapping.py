"""A flapping component: real monitors against real servers, mail through aiosmtpd, a fake
clock. Each join and leave is an update of one incident; a subscriber gets at most one message
per `email.coalesce` (2 minutes by default), the newest state, never a stream."""

from __future__ import annotations

from itertools import pairwise

from aiohttp import web

from statuswatch.clock import FakeClock
from statuswatch.web.keys import BOARD, MONITORING
from tests.helpers.notify import email_config, start_rig, text_part

START = 1_793_000_000.0
COALESCE = 120.0  # email.coalesce's default


async def switchable(aiohttp_server, up: dict[str, bool], name: str) -> str:
    async def health(_request):
        return web.Response(status=200 if up[name] else 503, text=name)

    app = web.Application()
    app.router.add_get("/", health)
    return str((await aiohttp_server(app)).make_url("/"))


async def test_a_flapping_component_sends_at_most_one_message_per_window(
    aiohttp_client, aiohttp_server, tmp_path, smtp
):
    up = {"api": False, "checkout": True}
    monitors = [
        {
            "id": f"{name}-health",
            "kind": "http",
            "component": name,
            "url": await switchable(aiohttp_server, up, name),
            "interval": "3s",
            "timeout": "1s",
        }
        for name in up
    ]
    clock = FakeClock(START)
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port, monitors), clock)
    await rig.confirmed(smtp.mailbox, "all@example.com")
    await rig.confirmed(smtp.mailbox, "checkout@example.com", components=["checkout"])
    sent: dict[str, list[float]] = {}
    smtp.mailbox.on_data = lambda msg: sent.setdefault(msg["To"], []).append(clock.time())
    monitoring, board = rig.client.app[MONITORING], rig.client.app[BOARD]

    async def check_all() -> None:
        for monitor in monitoring.monitors.values():
            await monitoring.run_one(monitor)
        board.tick()
        await rig.deliver()

    # The API is down throughout (one incident); checkout fails two checks, passes one, for
    # 3.5 minutes: it joins and leaves that incident about 23 times.
    for step in range(70):
        clock.advance(3)
        up["checkout"] = step % 3 == 2
        await check_all()
    incident = board.auto.current
    assert incident is not None
    flips = [u for u in incident.updates if any(c.component == "checkout" for c in u.changes)]
    assert len(flips) >= 20  # every join and every leave is an update of the one incident
    up["checkout"] = False  # it ends down: the last message must say so
    for _ in range(60):
        clock.advance(3)
        await check_all()

    for address in ("all@example.com", "checkout@example.com"):
        times = sent[address]
        gaps = [b - a for a, b in pairwise(times)]
        assert all(gap >= COALESCE for gap in gaps), (address, times)
        assert 2 <= len(times) <= 1 + (times[-1] - times[0]) // COALESCE
    last = smtp.mailbox.to("checkout@example.com")[-1]
    assert "Checkout <script>: major outage" in last["Subject"]
    assert "Checkout <script>: major outage" in text_part(last).replace("\r\n", "\n")
    await rig.settle()
