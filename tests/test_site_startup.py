"""Before the first check nothing says "operational"; gaps are listed with their reasons.

A real app on a fresh database with a fake clock: the page, the component page, Statuspage's
status.json and summary.json and the badges are read before any check, then after the first
passing checks (real HTTP probes against a local server, through the monitors' real path), then
once an hour of evidence has built up.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import GapRecorded, MonitorSnapshot, State
from statuswatch.site.gaps import OWN_FAULT, STOPPED, gap_list, reason_words
from statuswatch.site.measured import coverage_text
from statuswatch.store import RegisterMonitors, Store
from statuswatch.web import create_app
from statuswatch.web.keys import MONITORING
from tests.helpers.config import SITE, make_config

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp()
UTC_ZONE = ZoneInfo("UTC")


def text_of(page: str) -> str:
    """What a reader sees: the page without its tags (classes name statuses too)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
async def target(aiohttp_server):
    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", ok)
    return await aiohttp_server(app)


@pytest.fixture
async def fresh(tmp_path, aiohttp_client, target):
    """statuswatch just started: two monitors registered, none checked yet."""
    url = str(target.make_url("/"))
    monitors = [
        {"id": "api-check", "kind": "http", "component": "api", "url": url, "interval": "30m"},
        {"id": "co-check", "kind": "http", "component": "checkout", "url": url, "interval": "30m"},
    ]
    config = make_config(tmp_path, monitors, site={**SITE, "cache_ttl": "0s"})
    clock = FakeClock(NOW)
    client = await aiohttp_client(create_app(config, clock=clock, probe=False, environ={}))
    yield client, clock
    await client.close()


async def read_all(client) -> dict[str, str]:
    paths = [
        "/",
        "/components/api",
        "/api/v2/status.json",
        "/api/v2/summary.json",
        "/badge/api.svg",
        "/badge/api.json",
        "/badge/api/uptime.svg?window=24h",
    ]
    out = {}
    for path in paths:
        resp = await client.get(path)
        assert resp.status == 200, path
        out[path] = await resp.text()
    return out


async def check_all(client, clock: FakeClock, advance: float) -> None:
    clock.advance(advance)
    monitoring = client.app[MONITORING]
    for monitor in monitoring.monitors.values():
        await monitoring.run_one(monitor)


async def test_no_operational_before_the_first_check(fresh):
    client, clock = fresh
    before = await read_all(client)
    for path in ("/", "/components/api"):
        seen = text_of(before[path])
        assert "operational" not in seen.lower(), path
        assert "No data yet" in seen, path
    assert "No data yet: waiting for the first checks" in text_of(before["/"])
    # Statuspage's enums stay (clients break on new values); the words say it.
    status = json.loads(before["/api/v2/status.json"])["status"]
    assert status == {"indicator": "none", "description": "Waiting for the first checks"}
    summary = json.loads(before["/api/v2/summary.json"])
    assert "All Systems Operational" not in before["/api/v2/summary.json"]
    assert summary["status"]["description"] == "Waiting for the first checks"
    api = next(c for c in summary["components"] if c["id"] == "api")
    assert api["status"] == "operational"  # the enum, unchanged
    assert api["description"] == "No data yet: waiting for the first check"
    assert summary["x_statuswatch"]["components"]["api"] == {
        "availability_30d": None,
        "coverage_30d": "0.000",
        "availability_90d": None,
        "coverage_90d": "0.000",
        "no_data": True,
        "regional_locations": [],
    }
    assert json.loads(before["/badge/api.json"])["message"] == "no data"
    for badge in ("/badge/api.svg", "/badge/api/uptime.svg?window=24h"):
        assert "operational" not in before[badge] and ">no data<" in before[badge], badge

    await check_all(client, clock, 30)  # the first checks pass
    after = await read_all(client)
    index = text_of(after["/"])
    assert "All systems operational" in index and "Operational" in index
    assert "Operational" in text_of(after["/components/api"])
    status = json.loads(after["/api/v2/status.json"])["status"]
    assert status == {"indicator": "none", "description": "All Systems Operational"}
    summary = json.loads(after["/api/v2/summary.json"])
    api = next(c for c in summary["components"] if c["id"] == "api")
    assert api["description"] is None
    assert summary["x_statuswatch"]["components"]["api"]["no_data"] is False
    assert json.loads(after["/badge/api.json"])["message"] == "operational"
    assert ">operational<" in after["/badge/api.svg"]
    # 30 s of evidence is no figure: the windows and the uptime badge still wait for an hour.
    assert "<dt>24h</dt><dd>no data yet</dd>" in after["/"]
    assert ">no data<" in after["/badge/api/uptime.svg?window=24h"]
    assert summary["x_statuswatch"]["components"]["api"]["availability_30d"] is None

    await check_all(client, clock, 35 * 60)
    await check_all(client, clock, 35 * 60)  # 70 min 30 s observed, all of it up
    later = await read_all(client)
    assert (
        '<dt>24h</dt><dd>100.000% <small class="coverage">measured over 4.8% of 24 hours</small>'
        in later["/"]
    )
    assert ">100.000% (coverage 4.8%)<" in later["/badge/api/uptime.svg?window=24h"]
    extra = json.loads(later["/api/v2/summary.json"])["x_statuswatch"]["components"]["api"]
    assert extra["availability_30d"] == "100.000" and extra["coverage_30d"] == "0.163"
    # Today's cell says how much of the day was observed (70.5 of the 790.5 minutes since midnight).
    assert 'title="2026-11-20: 100.000% available, coverage 8.9%, 0 min down"' in later["/"]


async def test_a_restart_resumes_what_was_known(tmp_path, aiohttp_client):
    """A monitor checked in an earlier run keeps its state; only the never-checked waits."""
    monitors = [
        {"id": "api-check", "kind": "http", "component": "api", "url": "http://127.0.0.1:9/"},
        {"id": "co-check", "kind": "http", "component": "checkout", "url": "http://127.0.0.1:9/"},
    ]
    config = make_config(tmp_path, monitors, site={**SITE, "cache_ttl": "0s"})
    store = Store(config.storage.path)
    await store.start()
    store.submit(RegisterMonitors([("api-check", "http", "api")], NOW - 86400))
    store.submit(MonitorSnapshot("api-check", State.UP, 0, None, None, "", 0, None, NOW - 60))
    await store.flush()
    client = await aiohttp_client(
        create_app(config, store=store, clock=FakeClock(NOW), probe=False, environ={})
    )
    page = await (await client.get("/")).text()
    assert re.search(r'id="c-api".*?✓</span> Operational', page, re.S)
    assert re.search(r'id="c-checkout".*?◌</span> No data yet', page, re.S)
    assert "No data yet: waiting for the first checks</h1>" in page
    summary = await (await client.get("/api/v2/summary.json")).json()
    no_data = {c: x["no_data"] for c, x in summary["x_statuswatch"]["components"].items()}
    assert no_data == {"api": False, "checkout": True}
    await client.close()
    await store.close()


async def test_component_page_lists_gaps_with_their_reasons(tmp_path, aiohttp_client):
    monitors = [
        {"id": "api-check", "kind": "http", "component": "api", "url": "http://127.0.0.1:9/"}
    ]
    config = make_config(tmp_path, monitors, site={**SITE, "cache_ttl": "0s"})
    store = Store(config.storage.path)
    await store.start()
    registered = NOW - 10 * 86400
    store.submit(RegisterMonitors([("api-check", "http", "api")], registered))
    store.submit(GapRecorded("api-check", NOW - 5 * 86400, NOW - 5 * 86400 + 7200, "stopped"))
    store.submit(GapRecorded("api-check", NOW - 86400, NOW - 86400 + 45, "descriptors"))
    await store.flush()
    client = await aiohttp_client(
        create_app(config, store=store, clock=FakeClock(NOW), probe=False, environ={})
    )
    page = await (await client.get("/components/api")).text()
    seen = text_of(page)
    assert "Monitoring since 10 Nov 2026 12:00 UTC" in seen
    gaps = seen[seen.index("Gaps in monitoring") :]
    newest = gaps.index("45 s statuswatch's own fault (descriptors)")
    older = gaps.index("2 h 0 min statuswatch was stopped")
    assert newest < older  # newest first
    # Before the monitor existed nothing watched: that is "no data yet", not a failure.
    assert "no data yet" in gaps[older:]
    await client.close()
    await store.close()


def test_reasons_in_words_and_coverage_precision():
    assert reason_words("stopped") == STOPPED
    # Any other reason is statuswatch's own failure, named, including ones added later.
    for reason in ("stalled", "descriptors", "memory", "resolver", "something-new"):
        assert reason_words(reason) == f"{OWN_FAULT} ({reason})"
    from fractions import Fraction

    assert coverage_text(Fraction(62, 100)) == "62"
    assert coverage_text(Fraction(999, 1000)) == "99"  # truncated: never rounded up to 100
    assert coverage_text(Fraction(48, 1000)) == "4.8"
    assert coverage_text(Fraction(1, 10000)) == "0.01"
    listed = gap_list([(0, 60), (120, 180)], ["m"], {"m": 0}, [], UTC_ZONE)
    assert [g.start.iso for g in listed.shown] == [
        "1970-01-01T00:02:00.000Z",
        "1970-01-01T00:00:00.000Z",
    ]
