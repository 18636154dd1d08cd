"""One story on the status page, in Chromium: a recurring window is one line on `/`, and the
banner, status.json and the badges follow one rule (worst wins; maintenance only when nothing
worse is going on).

The seed: both components checked and up, an hourly 30-minute window ("Cache flush", in
progress at 12:00 UTC) on both, and an operator's open incident that says Checkout is degraded.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from statuswatch.incidents.model import Impact, Incident, IncidentStatus
from statuswatch.monitor.events import MonitorSnapshot, State
from statuswatch.status.component import ComponentStatus
from statuswatch.store import RegisterMonitors, SaveIncident, Store
from statuswatch.web import create_app
from tests.helpers.site_seed import NOW, clock, site_config, ts

pytestmark = pytest.mark.system

HOURLY = {
    "id": "cache-flush",
    "title": "Cache flush",
    "components": ["api", "checkout"],
    "start": datetime(2026, 11, 1, 0, 0, tzinfo=UTC),
    "duration": "30m",
    "rrule": "FREQ=HOURLY",
}


@pytest.fixture
async def server(tmp_path, aiohttp_server):
    config = site_config(tmp_path, extra_maintenance=(HOURLY,))
    store = Store(config.storage.path)
    await store.start()
    store.submit(
        RegisterMonitors(
            [("api-health", "http", "api"), ("checkout-page", "http", "checkout")],
            ts("2026-08-01T00:00:00Z"),
        )
    )
    for monitor in ("api-health", "checkout-page"):
        store.submit(MonitorSnapshot(monitor, State.UP, 0, None, None, "", 0, None, ts(NOW) - 60))
    slow = Incident(
        "inc-slow",
        "Checkout slow",
        Impact.MINOR,
        IncidentStatus.INVESTIGATING,
        ts(NOW) - 600,
        ts(NOW) - 600,
        components={"checkout": ComponentStatus.DEGRADED},
    )
    slow.post(ts(NOW) - 600, IncidentStatus.INVESTIGATING, "Payments are slow.", "ops")
    store.submit(SaveIncident.of(slow))
    await store.flush()
    srv = await aiohttp_server(create_app(config, store=store, clock=clock(), probe=False))
    yield srv
    await srv.close()
    await store.close()


async def _text(page, url: str) -> str:
    resp = await page.goto(url)
    assert resp is not None and resp.status == 200
    return await resp.text()


async def _page(browser):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    return await context.new_page()


async def test_banner_status_json_and_badge_follow_one_rule(server, browser):
    page = await _page(browser)
    await page.goto(str(server.make_url("/")))

    # Worst wins: the incident's "degraded" beats the window in progress.
    banner = page.locator("#banner-text")
    assert (await banner.inner_text()).strip().endswith("Degraded performance")
    checkout = page.locator("#c-checkout .status")
    assert (await checkout.inner_text()).strip() == "! Degraded performance"
    assert (await page.locator("#c-api .status").inner_text()).strip() == "⚒ Under maintenance"
    status = json.loads(await _text(page, str(server.make_url("/api/v2/status.json"))))
    assert status["status"] == {"indicator": "minor", "description": "Minor Service Outage"}
    badge = await _text(page, str(server.make_url("/badge/checkout.svg")))
    assert "Checkout: degraded performance" in badge
    shields = json.loads(await _text(page, str(server.make_url("/badge/checkout.json"))))
    assert shields["message"] == "degraded performance"
    components = json.loads(await _text(page, str(server.make_url("/api/v2/components.json"))))
    by_id = {c["id"]: c["status"] for c in components["components"]}
    assert by_id["checkout"] == "degraded_performance" and by_id["api"] == "under_maintenance"


async def test_a_recurring_window_is_one_line_on_the_front_page(server, browser):
    page = await _page(browser)
    # The hourly window is one line, with its rule in words and its next occurrence.
    await page.goto(str(server.make_url("/")))
    lines = page.locator("ul.maintenance li")
    texts = [t.strip() for t in await lines.all_inner_texts()]
    flush = [t for t in texts if "Cache flush" in t]
    assert len(flush) == 1, texts
    assert flush[0].startswith("⚒ In progress: Cache flush (scheduled), 20 Nov 2026 13:00 CET")
    assert "every hour, next 20 Nov 2026 14:00 CET" in flush[0]
    assert len(texts) == 2  # and the one-off "Database upgrade"
    height = await page.evaluate("document.documentElement.scrollHeight")
    assert height < 6000, f"the page is {height} px tall"

    # /maintenance keeps the list of occurrences.
    await page.goto(str(server.make_url("/maintenance")))
    upcoming = page.locator("li.maintenance-window.state-scheduled", has_text="Cache flush")
    assert await upcoming.count() == 5
