"""Automatic incidents end to end: real local targets go down and come back; time is injected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp import web

from statuswatch.clock import FakeClock
from statuswatch.incidents.model import IncidentStatus
from statuswatch.store import Store
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD, MONITORING
from tests.helpers.config import make_config

START = 1_793_000_000.0  # 2026-10-26


@pytest.fixture
async def target(aiohttp_server):
    """A target whose paths can be switched between 200 and 503."""
    healthy = {"api": True, "checkout": True}

    async def handler(request):
        ok = healthy[request.match_info["name"]]
        return web.Response(status=200 if ok else 503, text="ok" if ok else "down")

    app = web.Application()
    app.router.add_get("/{name}", handler)
    server = await aiohttp_server(app)
    server.healthy = healthy
    return server


class Rig:
    """One running statuswatch (no background probing): step() probes every monitor once."""

    def __init__(self, client, clock):
        self.client, self.clock = client, clock
        self.monitoring = client.app[MONITORING]
        self.board = client.app[BOARD]

    async def step(self, seconds: float = 60) -> None:
        self.clock.advance(seconds)
        for monitor in self.monitoring.monitors.values():
            await self.monitoring.run_one(monitor)
        self.board.tick()

    async def incidents(self):
        await self.monitoring.store.flush()
        return await self.monitoring.store.incidents()


def config_for(tmp_path, target, **sections):
    monitors = [
        {
            "id": f"{name}-health",
            "kind": "http",
            "component": name,
            "url": str(target.make_url(f"/{name}")),
            "timeout": "2s",
        }
        for name in ("api", "checkout")
    ]
    return make_config(tmp_path, monitors, incidents={"quiet_period": "15m"}, **sections)


async def start(aiohttp_client, config, clock, store):
    client = await aiohttp_client(
        create_app(config, store=store, clock=clock, probe=False, environ={})
    )
    return Rig(client, clock)


async def test_flapping_target_makes_one_incident(tmp_path, target, store, aiohttp_client):
    clock = FakeClock(START)
    rig = await start(aiohttp_client, config_for(tmp_path, target), clock, store)
    await rig.step()
    for _ in range(4):  # down for two checks (confirmed), up for one, again and again
        target.healthy["api"] = False
        await rig.step()
        await rig.step()
        target.healthy["api"] = True
        await rig.step()
    (incident,) = await rig.incidents()
    assert incident.status is IncidentStatus.MONITORING
    assert incident.title == "Storefront API is unavailable"
    for _ in range(16):  # quiet for 16 minutes
        await rig.step()
    (incident,) = await rig.incidents()
    assert incident.status is IncidentStatus.RESOLVED
    assert sum(u.status is IncidentStatus.RESOLVED for u in incident.updates) == 1


async def test_two_components_failing_together(tmp_path, target, store, aiohttp_client):
    clock = FakeClock(START)
    rig = await start(aiohttp_client, config_for(tmp_path, target), clock, store)
    await rig.step()
    target.healthy.update(api=False, checkout=False)
    await rig.step()
    await rig.step()
    (incident,) = await rig.incidents()
    assert set(incident.components) == {"api", "checkout"}
    assert incident.status is IncidentStatus.INVESTIGATING


def window(start: float, minutes: int) -> dict:
    return {
        "id": "db",
        "title": "DB upgrade",
        "components": ["checkout"],
        "start": datetime.fromtimestamp(start, UTC),
        "duration": f"{minutes}m",
    }


async def test_outage_inside_maintenance_opens_nothing(tmp_path, target, store, aiohttp_client):
    clock = FakeClock(START)
    config = config_for(tmp_path, target, maintenance=[window(START + 30, 30)])
    rig = await start(aiohttp_client, config, clock, store)
    await rig.step()
    assert rig.board.status["checkout"].value == "under_maintenance"
    target.healthy["checkout"] = False
    for _ in range(5):
        await rig.step()
    target.healthy["checkout"] = True
    for _ in range(30):
        await rig.step()
    assert await rig.incidents() == []


async def test_outage_outlasting_maintenance_opens_one_at_the_end(
    tmp_path, target, store, aiohttp_client
):
    clock = FakeClock(START)
    config = config_for(tmp_path, target, maintenance=[window(START + 30, 10)])
    rig = await start(aiohttp_client, config, clock, store)
    await rig.step()
    target.healthy["checkout"] = False
    for _ in range(9):
        await rig.step()
    assert await rig.incidents() == []
    for _ in range(5):  # the window ended at +10m 30s; checkout is still down
        await rig.step()
    (incident,) = await rig.incidents()
    assert set(incident.components) == {"checkout"}
    assert abs(incident.created - (START + 30 + 600)) <= 60  # opened at the window's end, once


async def test_restart_in_the_middle_of_an_incident(tmp_path, target, aiohttp_client):
    clock = FakeClock(START)
    config = config_for(tmp_path, target)
    first = Store(config.storage.path)
    await first.start()
    rig = await start(aiohttp_client, config, clock, first)
    await rig.step()
    target.healthy["api"] = False
    await rig.step()
    await rig.step()
    (before,) = await rig.incidents()
    await rig.client.close()
    await first.close()

    clock.advance(90)  # a quick restart
    second = Store(config.storage.path)
    await second.start()
    rig = await start(aiohttp_client, config, clock, second)
    assert rig.board.auto.current is not None and rig.board.auto.current.id == before.id
    await rig.step()  # still down: nothing new
    target.healthy["api"] = True
    await rig.step()
    for _ in range(16):
        await rig.step()
    (after,) = await rig.incidents()
    assert after.id == before.id and after.status is IncidentStatus.RESOLVED
    assert [u.status.value for u in after.updates] == ["investigating", "monitoring", "resolved"]
    await rig.client.close()
    await second.close()


async def test_the_cached_page_shows_an_opened_incident_at_once(
    tmp_path, target, store, aiohttp_client
):
    """cache_ttl 2 s, idle 60 s: an outage is on the page at the first render after it, with
    its incident (the render waits for the commit), and an unchanged page is not re-rendered."""
    clock = FakeClock(START)
    rig = await start(aiohttp_client, config_for(tmp_path, target), clock, store)
    await rig.step()
    calm = await rig.client.get("/")
    assert "All systems operational" in await calm.text()
    target.healthy["api"] = False
    await rig.step()
    await rig.step()  # confirmed: the board opens its incident and counts the change
    page = await rig.client.get("/")  # at once: no flush by the test, the render waits for it
    text = await page.text()
    assert "Storefront API is unavailable" in text and "Major outage" in text
    clock.advance(30)  # nothing changed since: the same render, past the 2 s cache_ttl
    again = await rig.client.get("/", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status == 304
