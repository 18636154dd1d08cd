"""Regional as users see it: the locations named on the pages and in the v2 API, each location's
state on /components/<id>, and the customer report saying which downtime was regional.

A real app (and, for the web role, a real monitor role beside it) on a real SQLite store;
results from three locations are fed through Monitoring.handle_result on an injected clock;
the pages are read in Chromium.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from statuswatch.clock import FakeClock
from statuswatch.probes.base import CheckResult
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD, MONITORING, STORE
from tests.helpers.browser import rendered
from tests.helpers.config import make_config
from tests.helpers.regional import HEALTH, LOCATIONS, gold_plan
from tests.helpers.roles import short_dir, start_roles

pytestmark = pytest.mark.system
START = 1_793_000_000.0
REPORT_TOKEN = "acme-report-token-0123456789abcdef"
ENV = {"TEST_ADMIN_TOKEN": "admin-secret-token-1234567890", "ACME_TOKEN": REPORT_TOKEN}


def config_for(path, regional_counts_as="available", regional_alert_after="15m"):
    return make_config(
        path,
        [{**HEALTH, "name": "Health check"}],
        locations=LOCATIONS,
        probing={"locations": ["local", "eu", "us"]},
        incidents={"regional_alert_after": regional_alert_after},
        sla=[gold_plan(regional_counts_as)],
        customers=[
            {
                "id": "acme",
                "name": "Acme",
                "plan": "gold",
                "components": ["api"],
                "report_token_env": "ACME_TOKEN",
            }
        ],
    )


def step(app, clock, down=()):
    """One check interval: every location reports, those in `down` failing."""
    clock.advance(60)
    now = clock.time()
    monitoring = app[MONITORING]
    monitor = monitoring.monitors["api-health"]
    for loc in ("local", "eu", "us"):
        if loc in down:
            result = CheckResult("api-health", now, False, 0.05, 503, "http_status", "HTTP 503")
        else:
            result = CheckResult("api-health", now, True, 0.05, 200, None, "")
        monitoring.handle_result(monitor, result, location=loc)
    app[BOARD].tick()
    return now


def go_regional(app, clock):
    """Up everywhere, then down from Europe only until Europe's verdict is confirmed."""
    step(app, clock)
    started = step(app, clock, down=("eu",))
    for _ in range(4):
        step(app, clock, down=("eu",))
    return started


@pytest.fixture
async def regional_site(tmp_path, aiohttp_server, request):
    clock = FakeClock(START)
    plan = getattr(request, "param", "available")
    app = create_app(config_for(tmp_path, plan), clock=clock, probe=False, environ=ENV)
    server = await aiohttp_server(app)
    started = go_regional(app, clock)
    await app[STORE].flush()
    yield server, started
    await server.close()


async def test_regional_names_the_locations_on_the_pages_and_in_the_v2_api(regional_site, browser):
    server, _ = regional_site
    _, text = await rendered(browser, str(server.make_url("/")))
    assert "Degraded performance" in text
    assert "Down from Europe only; reachable from the other locations." in text
    page, text = await rendered(browser, str(server.make_url("/components/api")))
    assert "Down from Europe only" in text
    rows = await page.locator("table.locations tbody tr").all_inner_texts()
    cells = [r.split("\t") for r in rows]
    assert [(c[0], c[1], c[2]) for c in cells] == [
        ("Health check", "This server", "up"),
        ("Health check", "Europe", "down"),
        ("Health check", "US East", "up"),
    ]
    assert cells[1][4] == "failed in 50 ms: http_status, HTTP 503"
    assert cells[0][4] == "passed in 50 ms"
    assert all(c[3] not in ("", "never") for c in cells)  # each location's last check time
    async with aiohttp.ClientSession() as http:
        async with http.get(server.make_url("/api/v2/summary.json")) as resp:
            summary = await resp.json()
        async with http.get(server.make_url("/api/v1/openapi.json")) as resp:
            openapi = await resp.json()
    api = next(c for c in summary["components"] if c["id"] == "api")
    assert api["status"] == "degraded_performance"  # Statuspage's enumeration, unchanged
    assert summary["x_statuswatch"]["components"]["api"]["regional_locations"] == ["Europe"]
    assert summary["x_statuswatch"]["components"]["checkout"]["regional_locations"] == []
    extras = openapi["components"]["schemas"]["SpSummary"]["properties"]["x_statuswatch"]
    assert "regional_locations" in str(extras)


async def test_a_web_worker_shows_regional_and_each_locations_state(aiohttp_client, browser):
    with short_dir() as path:
        clock = FakeClock(START)
        roles = await start_roles(aiohttp_client, config_for(path), clock, ENV)
        try:
            go_regional(roles.monitor, clock)
            # The monitor's publisher runs on its own task: follow until it has published.
            for _ in range(100):
                await roles.follow()
                if roles.board.regional:
                    break
                await asyncio.sleep(0.05)
            assert roles.board.regional == {"api": ["Europe"]}
            page, text = await rendered(browser, str(roles.web.make_url("/components/api")))
            assert "Down from Europe only" in text
            rows = await page.locator("table.locations tbody tr").all_inner_texts()
            assert [r.split("\t")[1:3] for r in rows] == [
                ["This server", "up"],
                ["Europe", "down"],
                ["US East", "up"],
            ]
            _, text = await rendered(browser, str(roles.web.make_url("/")))
            assert "Down from Europe only" in text
        finally:
            await roles.stop_monitor()


@pytest.mark.parametrize("regional_site", ["available", "downtime"], indirect=True)
async def test_the_customer_report_says_when_downtime_was_regional(regional_site, browser):
    server, _ = regional_site
    plan = server.app[MONITORING].config.sla[0].regional_counts_as
    _, text = await rendered(browser, str(server.make_url(f"/customers/{REPORT_TOKEN}")))
    assert "Regional time: down from some monitoring locations but fewer than the quorum" in text
    assert "regional: down from Europe, fewer locations than the quorum" in text
    if plan == "downtime":
        assert "Under your plan it counts as downtime." in text
        assert "(counted as downtime under your plan)" in text
        assert "(counted in downtime)" in text
    else:
        assert "Under your plan it counts as available, not as downtime." in text
        assert "(not downtime under your plan)" in text
        assert "(not downtime)" in text


def alerts(caplog):
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "statuswatch.status.regional_alerts" and r.levelname == "WARNING"
    ]


@pytest.mark.parametrize("after", ["10m", "0s"])
async def test_a_monitor_regional_too_long_warns_the_operator_once_and_opens_no_incident(
    tmp_path, aiohttp_client, caplog, after
):
    config = config_for(tmp_path, regional_alert_after=after)
    clock = FakeClock(START)
    client = await aiohttp_client(create_app(config, clock=clock, probe=False, environ=ENV))
    app = client.app
    caplog.set_level("WARNING", logger="statuswatch.status.regional_alerts")
    step(app, clock)
    while app[MONITORING].states()["api-health"].value != "regional":
        regional_at = step(app, clock, down=("eu",))  # until eu's failures are confirmed
    while clock.time() < regional_at + 9 * 60:
        step(app, clock, down=("eu",))
    assert alerts(caplog) == []  # nine minutes regional: not yet
    step(app, clock, down=("eu",))  # ten minutes
    if after != "0s":
        assert len(alerts(caplog)) == 1
    for _ in range(15):
        step(app, clock, down=("eu",))
    if after == "0s":
        assert alerts(caplog) == []  # never
        return
    (message,) = alerts(caplog)  # once per episode
    assert message.startswith("monitor api-health regional for ")
    assert "down from Europe only" in message
    await app[STORE].flush()
    assert await app[STORE].incidents() == []
    step(app, clock)  # recovered from everywhere: the next episode is alerted afresh
    step(app, clock)
    for _ in range(20):
        step(app, clock, down=("eu",))
    assert len(alerts(caplog)) == 2
