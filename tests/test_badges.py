"""Badges: status and uptime SVGs (shields' flat style) and shields' endpoint JSON, from the app."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from fractions import Fraction

import pytest

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import OutageClosed, OutageOpened, State, Transition
from statuswatch.probes.base import CheckResult
from statuswatch.site import badges
from statuswatch.sla import periods
from statuswatch.sla.availability import evaluate
from statuswatch.status.component import ComponentStatus
from statuswatch.store import RegisterMonitors, Store
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD, MONITORING
from tests.helpers.config import make_config

SVG_NS = "{http://www.w3.org/2000/svg}"


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


NOW = ts("2026-11-05T12:00:00Z")
MONITORS = [
    {"id": "api-check", "kind": "http", "component": "api", "url": "http://127.0.0.1:9/"},
    {"id": "checkout-check", "kind": "http", "component": "checkout", "url": "http://127.0.0.1:9/"},
]


@pytest.fixture
async def client(tmp_path, aiohttp_client):
    # make_config names checkout "Checkout <script>": config text that must be escaped.
    config = make_config(tmp_path, MONITORS)
    clock = FakeClock(NOW)
    store = Store(config.storage.path, clock=clock)
    await store.start()
    store.submit(
        RegisterMonitors(
            [("api-check", "http", "api"), ("checkout-check", "http", "checkout")],
            ts("2026-06-01T00:00:00Z"),
        )
    )
    # 90 minutes down two days ago: outside the last 24 h, inside the longer windows.
    store.submit(OutageOpened("api-check", ts("2026-11-03T10:00:00Z"), "connect", "refused"))
    store.submit(OutageClosed("api-check", ts("2026-11-03T11:30:00Z"), "recovered"))
    for monitor in ("api-check", "checkout-check"):  # both were checked a minute ago
        store.submit(CheckResult(monitor, NOW - 60, True, 0.05, 200))
    await store.flush()
    app = create_app(config, store=store, clock=clock, probe=False, environ={})
    test_client = await aiohttp_client(app)
    yield test_client
    await test_client.close()
    await store.close()


def texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    return [t.text or "" for t in root.iter(f"{SVG_NS}text")]


async def test_status_badge_is_svg_with_the_escaped_name_and_status(client):
    resp = await client.get("/badge/checkout.svg")
    assert resp.status == 200 and resp.content_type == "image/svg+xml"
    body = await resp.read()
    assert b"Checkout &lt;script&gt;" in body and b"<script" not in body
    # Label and message, each drawn twice (shadow, then text), as shields does.
    assert texts(body) == ["Checkout <script>", "Checkout <script>", "operational", "operational"]
    root = ET.fromstring(body)
    assert root.get("aria-label") == "Checkout <script>: operational"
    fills = [r.get("fill") for r in root.iter(f"{SVG_NS}rect")]
    assert badges.COLORS["brightgreen"] in fills
    assert resp.headers["Cache-Control"] == "public, max-age=2" and resp.headers["ETag"]


async def test_status_badge_follows_the_component(client):
    app = client.app
    monitor = app[MONITORING].monitors["api-check"]
    app[BOARD].on_events(monitor, None, [Transition("api-check", NOW, State.UP, State.DOWN, "x")])
    body = await (await client.get("/badge/api.svg")).read()
    assert texts(body)[2:] == ["major outage", "major outage"]
    assert badges.COLORS["red"] in [
        r.get("fill") for r in ET.fromstring(body).iter(f"{SVG_NS}rect")
    ]
    shields = await (await client.get("/badge/api.json")).json()
    assert shields == {
        "schemaVersion": 1,
        "label": "Storefront API",
        "message": "major outage",
        "color": "red",
    }


async def test_shields_endpoint_json(client):
    resp = await client.get("/badge/checkout.json")
    assert resp.status == 200 and resp.content_type == "application/json"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert await resp.json() == {
        "schemaVersion": 1,
        "label": "Checkout <script>",
        "message": "operational",
        "color": "brightgreen",
    }


@pytest.mark.parametrize(
    ("window", "message", "color"),
    [
        ("24h", "100.000%", "brightgreen"),  # the outage was two days ago
        ("7d", "99.107%", "yellow"),  # 90 of 10,080 minutes: 99.1071..., truncated
        ("30d", "99.791%", "yellow"),  # 90 of 43,200: 99.7916..., truncated, not 99.792
        ("90d", "99.930%", "green"),  # 90 of 129,600: 99.9305...
    ],
)
async def test_uptime_badge_per_window_truncated(client, window, message, color):
    resp = await client.get(f"/badge/api/uptime.svg?window={window}")
    assert resp.status == 200 and resp.content_type == "image/svg+xml"
    body = await resp.read()
    assert texts(body) == [f"Storefront API measured uptime {window}"] * 2 + [message] * 2
    assert badges.COLORS[color] in [
        r.get("fill") for r in ET.fromstring(body).iter(f"{SVG_NS}rect")
    ]


async def test_uptime_defaults_to_30_days(client):
    body = await (await client.get("/badge/api/uptime.svg")).read()
    assert texts(body)[2] == "99.791%"


async def test_unknown_component_is_404_and_bad_window_is_400_naming_it(client):
    for path in ("/badge/nope.svg", "/badge/nope.json", "/badge/nope/uptime.svg?window=7d"):
        resp = await client.get(path)
        assert resp.status == 404, path
        assert await resp.json() == {"error": "component not found"}
    resp = await client.get("/badge/api/uptime.svg?window=1y")
    assert resp.status == 400
    body = await resp.json()
    assert body["field"] == "window" and "24h, 7d, 30d, 90d" in body["error"]


async def test_revalidation_gets_304(client):
    first = await client.get("/badge/api/uptime.svg?window=30d")
    again = await client.get(
        "/badge/api/uptime.svg?window=30d", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304 and await again.read() == b""


def test_width_grows_with_the_text_and_colours_follow_the_targets():
    assert badges.text_width("mmmm") > badges.text_width("iiii") > 0
    short = ET.fromstring(badges.svg("a", "up", "green"))
    long = ET.fromstring(badges.svg("A much longer component name", "up", "green"))
    assert int(long.get("width")) > int(short.get("width")) + 100
    for down, message, color in [
        (0, "100.000%", "brightgreen"),
        (Fraction("0.01"), "99.990%", "brightgreen"),
        (Fraction("0.0102"), "99.989%", "green"),
        (Fraction("5.5"), "94.500%", "red"),
    ]:
        assert badges.uptime_badge(figures(down_share=down), "30d") == (message, color)
    for status in ComponentStatus:
        message, color = badges.status_badge(status)
        assert message and color in badges.COLORS
    assert badges.status_badge(ComponentStatus.OPERATIONAL, no_data=True) == (
        "no data",
        "lightgrey",
    )
    # A component never checked can still be under maintenance: that is no guess.
    assert badges.status_badge(ComponentStatus.MAINTENANCE, no_data=True)[0] == "under maintenance"


DAYS30 = 30 * 86400


def figures(*, down_share: Fraction = Fraction(0), observed: int = DAYS30):
    """30 days ending at NOW, observed over their last `observed` seconds, with `down_share`
    percent of the observed time down."""
    now = int(NOW)
    down = int(observed * down_share / 100)
    return evaluate(
        periods.rolling("30d", now),
        100,
        downtime=[(now - down, now)] if down else [],
        unmonitored=[(now - DAYS30, now - observed)],
        policy="excluded",
    )


def test_uptime_badge_shows_coverage_and_says_no_data_under_an_hour():
    # 62 % of the window observed: the figure carries its coverage.
    partial = figures(observed=DAYS30 * 62 // 100)
    assert badges.uptime_badge(partial, "30d") == ("100.000% (coverage 62%)", "brightgreen")
    # 69.23 % over 0.38 % of a day (the badge): no percentage at all under an hour.
    assert badges.uptime_badge(figures(observed=3599, down_share=Fraction(30)), "30d") == (
        "no data",
        "lightgrey",
    )
    assert badges.uptime_badge(figures(observed=3600), "30d")[0] == "100.000% (coverage 0.13%)"
