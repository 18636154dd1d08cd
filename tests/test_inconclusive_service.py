"""Statuswatch out of descriptors, end to end: no outage, no incident, a gap with its reason.

A real app (no background probing, injected clock) probes a real local target while the test
has lowered RLIMIT_NOFILE and used up the descriptors; then the counts on /healthz and /metrics.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import State
from statuswatch.store import Store
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD, MONITORING
from tests.helpers.config import make_config
from tests.helpers.descriptors import no_free_descriptors

START = 1_793_000_000.0


@pytest.fixture
async def target(aiohttp_server: Any) -> Any:
    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/{name}", ok)
    return await aiohttp_server(app)


async def test_exhausted_descriptors_open_no_outage_and_no_incident(
    aiohttp_client: Any, tmp_path: Any, target: Any
) -> None:
    clock = FakeClock(START)
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
    config = make_config(tmp_path, monitors, incidents={"quiet_period": "1m"})
    store = Store(config.storage.path, clock=clock)
    await store.start()
    client = await aiohttp_client(
        create_app(config, store=store, clock=clock, probe=False, environ={})
    )
    monitoring, board = client.app[MONITORING], client.app[BOARD]
    health = await (await client.get("/healthz")).json()
    assert health["inconclusive"] == {"descriptors": 0, "memory": 0, "stalled": 0, "resolver": 0}
    assert health["last_inconclusive"] is None

    async def step() -> None:
        clock.advance(60)
        for monitor in monitoring.monitors.values():
            await monitoring.run_one(monitor)
        board.tick()

    await step()
    first_dark = clock.time() + 60
    with no_free_descriptors():
        for _ in range(20):  # 20 minutes, far past confirm_failures and the quiet period
            await step()
    await step()  # descriptors are back: the target is seen healthy again
    await store.flush()

    assert await store.incidents() == []
    for monitor_id in monitoring.monitors:
        assert await store.outages(monitor_id) == []
        assert [(g.start, g.end, g.reason) for g in await store.gaps(monitor_id)] == [
            (first_dark, clock.time(), "descriptors")
        ]
    assert set(monitoring.states().values()) == {State.UP}
    health = await (await client.get("/healthz")).json()
    assert health["inconclusive"]["descriptors"] == 40
    assert health["last_inconclusive"]["reason"] == "descriptors"
    assert health["last_inconclusive"]["monitor"] in monitoring.monitors
    metrics = await (await client.get("/metrics")).text()
    assert 'statuswatch_probe_runs_inconclusive_total{reason="descriptors"} 40.0' in metrics
    assert 'statuswatch_probe_runs_inconclusive_total{reason="resolver"} 0.0' in metrics
    # No failed checks were counted: the inconclusive runs are not checks of the target.
    assert 'result="fail"} 0.0' in metrics
    await client.close()
    await store.close()
