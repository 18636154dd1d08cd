"""The page tells the same story as the figures: day colours against the whole day, an overdue
update said as overdue, a one-hour latency chart that draws, recurring rules in words, and an
automatic incident's title that follows its components (never an operator's)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

import msgspec
import pytest

from statuswatch.incidents.auto import AutoIncidents, AutoSettings
from statuswatch.incidents.edits import IncidentPatch, apply_patch
from statuswatch.incidents.model import Incident
from statuswatch.maintenance.rule_words import rule_words
from statuswatch.metrics.snapshot import missed_commitments
from statuswatch.monitor.events import MonitorSnapshot, OutageClosed, OutageOpened, State
from statuswatch.probes.base import CheckResult
from statuswatch.status.component import ComponentStatus as CS
from statuswatch.store import RegisterMonitors, SaveIncident, Store
from statuswatch.web import create_app
from tests.helpers.browser import rendered
from tests.helpers.site_seed import NOW, clock, seeded_store, site_config, ts

MONITORS = [("api-health", "http", "api"), ("checkout-page", "http", "checkout")]


@pytest.fixture
async def stores():
    """Stores to close after the app (requested before aiohttp_client, so torn down after)."""
    opened: list[Store] = []
    yield opened
    for store in opened:
        await store.close()


async def _client(aiohttp_client, config, store):
    return await aiohttp_client(
        create_app(config, store=store, clock=clock(), probe=False, environ={})
    )


def _cell(page: str, component: str, date: str) -> tuple[str, str]:
    """(class attribute, title) of one day cell of one component's bar."""
    label = rf'aria-label="{re.escape(component)}: availability per day[^"]*">(.*?)</div>'
    bar = re.search(label, page, re.S)
    assert bar
    found = re.search(rf'class="([^"]*)" role="img" title="({date}:[^"]*)"', bar[1])
    assert found, f"no cell for {date}"
    return found[1], found[2]


async def test_a_short_outage_on_a_barely_observed_day_is_degraded_and_says_so(
    tmp_path, stores, aiohttp_client, browser
):
    config = site_config(tmp_path)
    store = Store(config.storage.path)
    stores.append(store)
    await store.start()
    # Berlin's 19 November ends at 23:00 UTC: 19 minutes observed, 2 of them down.
    store.submit(RegisterMonitors(MONITORS, ts("2026-11-19T22:41:00Z")))
    store.submit(OutageOpened("api-health", ts("2026-11-19T22:45:00Z"), "connect", "refused"))
    store.submit(OutageClosed("api-health", ts("2026-11-19T22:47:00Z"), "recovered"))
    for monitor in ("api-health", "checkout-page"):
        store.submit(MonitorSnapshot(monitor, State.UP, 0, None, None, "", 0, None, ts(NOW) - 60))
    await store.flush()
    client = await _client(aiohttp_client, config, store)
    page = await (await client.get("/")).text()
    classes, title = _cell(page, "Storefront API", "2026-11-19")
    # 2 of 1,440 minutes: degraded (it was 10 % of the 19 observed minutes: "major" before).
    assert classes == "day day-degraded day-low-coverage"
    assert title == "2026-11-19: 89.473% available, coverage 1.3%, 2 min down"
    # A full day with no downtime keeps its plain class.
    assert _cell(page, "Storefront API", "2026-11-20")[0] == "day day-operational"
    # In Chromium: the cell is drawn as degraded (not major) and visibly marked low-coverage.
    shown, _ = await rendered(browser, str(client.make_url("/")))
    cell = shown.get_by_role("img", name=title).first
    assert await cell.get_attribute("class") == classes
    style = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).opacity]"
    major = shown.locator(".day-major").first
    colour, opacity = await cell.evaluate(style)
    assert float(opacity) < 1
    if await major.count():
        assert colour != (await major.evaluate(style))[0]


async def test_an_update_past_its_due_time_says_overdue(tmp_path, stores, aiohttp_client, browser):
    config = site_config(tmp_path)
    store = await seeded_store(config)
    stores.append(store)
    client = await _client(aiohttp_client, config, store)
    # "Checkout payments slow" (S1): ops posted at 11:00 UTC, so the next update was due 11:30;
    # it is 12:00, and the metric already counts that commitment as missed.
    incidents = await store.incidents(open_only=True)
    assert missed_commitments(config, incidents, ts(NOW))["S1"] == 1
    due = '<time datetime="2026-11-20T11:30:00.000Z">20 Nov 2026 12:30 CET</time>'
    index = await (await client.get("/")).text()
    assert f'<strong class="overdue">update overdue</strong> (was due by {due})' in index
    assert "next update due by" not in index
    # The same incident under an id the incident page serves (the seed's has a hyphen).
    inc = incidents[0]
    inc.id = "payments1"
    store.submit(SaveIncident.of(inc))
    await store.flush()
    incident = await (await client.get("/incidents/payments1")).text()
    assert f'<dd class="next-update overdue">update overdue (was due by {due})</dd>' in incident
    assert "Next update due" not in incident
    # What a reader sees in Chromium on both pages.
    for path in ("/", "/incidents/payments1"):
        _, text = await rendered(browser, str(client.make_url(path)))
        assert "update overdue (was due by 20 Nov 2026 12:30 CET)" in text, path
        assert "next update due" not in text.lower(), path


async def test_one_hour_of_latency_draws_a_point(tmp_path, stores, aiohttp_client, browser):
    config = site_config(tmp_path)
    store = Store(config.storage.path)
    stores.append(store)
    await store.start()
    store.submit(RegisterMonitors(MONITORS, ts("2026-11-20T11:00:00Z")))
    for t in range(ts("2026-11-20T11:05:00Z"), ts("2026-11-20T11:55:00Z"), 600):
        store.submit(CheckResult("api-health", t, True, 0.1, 200))
    await store.flush()
    client = await _client(aiohttp_client, config, store)
    page = await (await client.get("/components/api")).text()
    svg = ET.fromstring(re.search(r"<svg .*?</svg>", page, re.S)[0])
    ns = {"": "http://www.w3.org/2000/svg"}
    assert svg.findall("polyline", ns) == []  # one point: no line to draw
    dots = {c.get("class"): c for c in svg.iter("circle")}
    assert set(dots) == {"p50", "p95"}
    x0, y0, w, h = (float(v) for v in svg.get("viewBox", "").split())
    for dot in dots.values():
        assert float(dot.get("r", "0")) > 0
        assert x0 < float(dot.get("cx", "-1")) < x0 + w and y0 < float(dot.get("cy", "-1")) < h
    # Chromium draws both points: each has a visible box of its own.
    shown, _ = await rendered(browser, str(client.make_url("/components/api")))
    for name in ("p50", "p95"):
        box = await shown.locator(f"svg circle.{name}").bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, name


def test_recurring_rules_in_words():
    start = datetime(2026, 11, 1, 3, 0)
    zone = "Europe/Berlin"
    assert rule_words("FREQ=HOURLY", start, zone) == "every hour"
    assert rule_words("FREQ=DAILY;BYHOUR=2;BYMINUTE=0", start, zone) == (
        "every day at 02:00 Europe/Berlin"
    )
    assert rule_words("FREQ=WEEKLY;BYDAY=SU", start, zone) == "every Sunday at 03:00 Europe/Berlin"
    assert rule_words("FREQ=MONTHLY;BYDAY=1SU", start, zone) == (
        "every month on the first Sunday at 03:00 Europe/Berlin"
    )
    # A part it does not describe: the rule itself, never a wrong sentence.
    assert rule_words("FREQ=DAILY;BYSETPOS=1", start, zone) == "FREQ=DAILY;BYSETPOS=1"


def test_an_automatic_title_follows_the_components_still_affected():
    auto = AutoIncidents(AutoSettings(), {"admin": "Admin", "checkout": "Checkout"})
    edit = auto.changed("admin", CS.OPERATIONAL, CS.MAJOR, 100)
    assert edit is not None
    inc = edit.incident
    assert inc.title == "Admin is unavailable"
    auto.changed("checkout", CS.OPERATIONAL, CS.MAJOR, 200)
    assert inc.title == "Admin and Checkout are unavailable"
    auto.changed("admin", CS.MAJOR, CS.OPERATIONAL, 300)
    assert inc.title == "Checkout is unavailable"
    auto.changed("checkout", CS.MAJOR, CS.OPERATIONAL, 400)
    assert inc.title == "Checkout is unavailable"  # all recovered: it names the last ones


def test_an_operators_title_is_never_overwritten():
    auto = AutoIncidents(AutoSettings(), {"admin": "Admin", "checkout": "Checkout"})
    edit = auto.changed("admin", CS.OPERATIONAL, CS.MAJOR, 100)
    assert edit is not None
    inc = edit.incident
    apply_patch(inc, IncidentPatch(title="Login problems"), 150)
    # The flag is saved with the incident (the store keeps it as this JSON).
    inc = msgspec.json.decode(msgspec.json.encode(inc), type=Incident)
    assert inc.title_by_operator
    auto.current = inc
    auto.changed("checkout", CS.OPERATIONAL, CS.MAJOR, 200)
    auto.changed("admin", CS.MAJOR, CS.OPERATIONAL, 300)
    assert inc.title == "Login problems"
