"""Wall-clock steps (NTP) while statuswatch runs: stalls are measured on the monotonic clock, and
an incident's timeline keeps its order. Real local targets, an injected clock, no sleeping."""

from __future__ import annotations

import pytest
from aiohttp import web

from statuswatch.clock import FakeClock
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD, MONITORING
from tests.helpers.config import make_config

START = 1_793_000_000.0  # 2026-10-26


@pytest.fixture
async def target(aiohttp_server):
    """A target whose health can be switched between 200 and 503."""
    state = {"ok": True}

    async def handler(_request):
        return web.Response(status=200 if state["ok"] else 503)

    app = web.Application()
    app.router.add_get("/health", handler)
    server = await aiohttp_server(app)
    server.state = state
    return server


@pytest.fixture
async def rig(tmp_path, target, store, aiohttp_client):
    clock = FakeClock(START)
    monitors = [
        {
            "id": "api-health",
            "kind": "http",
            "component": "api",
            "url": str(target.make_url("/health")),
            "interval": "15s",
            "timeout": "2s",
        }
    ]
    config = make_config(tmp_path, monitors)
    client = await aiohttp_client(
        create_app(config, store=store, clock=clock, probe=False, environ={})
    )
    monitoring, board = client.app[MONITORING], client.app[BOARD]

    async def step(seconds: float = 15) -> None:
        clock.advance(seconds)
        await monitoring.run_one(monitoring.monitors["api-health"])
        board.tick()

    step.clock, step.store = clock, store
    return step


@pytest.mark.parametrize("jump", [2 * 3600, -2 * 3600])
async def test_a_wall_clock_step_while_probing_is_no_stall(rig, jump):
    for _ in range(4):
        await rig()
    rig.clock.jump_wall(jump)  # NTP steps the wall clock; the monotonic clock runs on
    for _ in range(4):
        await rig()
    await rig.store.flush()
    assert await rig.store.gaps(since=0) == []


async def test_a_real_stall_is_still_a_gap(rig):
    await rig()
    rig.clock.advance(600)  # no run for 10 minutes, on both clocks
    await rig()
    await rig.store.flush()
    (gap,) = await rig.store.gaps(since=0)
    assert (gap.reason, gap.end - gap.start) == ("stalled", 615)


async def test_an_update_after_a_step_back_is_never_before_the_previous_one(rig, target):
    await rig()
    target.state["ok"] = False
    await rig()
    await rig()  # confirmed: the automatic incident opens
    rig.clock.jump_wall(-3600)  # NTP steps the wall clock back an hour
    target.state["ok"] = True
    await rig()  # recovered: an update of the same incident
    await rig.store.flush()
    (incident,) = await rig.store.incidents()
    times = [u.time for u in incident.updates]
    assert len(times) == 2
    assert times == sorted(times), times  # the timeline reads in the order it happened
    assert incident.updated >= incident.created
    (outage,) = await rig.store.outages()
    assert outage.end is not None and outage.end >= outage.start  # no negative downtime
