"""The public status site: `/` and `/components/<id>` from a seeded database with known minutes.

Figures (see site_seed.py): api was down 100 min on 2026-11-10 and has been down 30 min today;
checkout's 60 min on 2026-11-15 fell inside maintenance. Now is 2026-11-20 12:00 UTC, shown in
Europe/Berlin.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from statuswatch.config import parse_config
from statuswatch.site.days import day_starts
from statuswatch.site.latency import merge_hours, quantile
from statuswatch.site.plans import scheme_text
from statuswatch.site.view import load_site_source, site_view
from statuswatch.status.component import ComponentStatus
from statuswatch.store import RegisterMonitors, Store
from statuswatch.store.models import HourlyRollup
from statuswatch.web import create_app
from tests.helpers.site_seed import NOW, clock, seeded_store, site_config, ts

NW_TOKEN = "nw-token-0123456789abcdef"


@pytest.fixture
async def seeded(tmp_path):
    config = site_config(tmp_path)
    store = await seeded_store(config)
    yield config, store
    await store.close()


@pytest.fixture
async def site(seeded, aiohttp_client):
    config, store = seeded
    app = create_app(
        config, store=store, clock=clock(), probe=False, environ={"NW_TOKEN": NW_TOKEN}
    )
    return await aiohttp_client(app)


def cell_titles(page: str, component: str) -> dict[str, str]:
    """{date: tooltip} of one component's bar."""
    bar = re.search(
        rf'aria-label="{re.escape(component)}: availability per day[^"]*">(.*?)</div>', page, re.S
    )
    assert bar, f"no bar for {component}"
    found = re.findall(r'class="day (day-[a-z-]+)" role="img" title="([^"]*)"', bar[1])
    return {html.unescape(t).split(":")[0]: f"{cls} {html.unescape(t)}" for cls, t in found}


async def test_view_model_figures(seeded):
    config, store = seeded
    source = await load_site_source(store, config, ts(NOW))
    view = site_view(
        source, {"api": ComponentStatus.MAJOR, "checkout": ComponentStatus.OPERATIONAL}
    )
    assert view.banner.text == "Major outage"
    api, checkout = view.groups[0].components
    assert len(api.days) == 90 and api.days[-1].date == "2026-11-20"
    nov10 = next(d for d in api.days if d.date == "2026-11-10")
    assert (nov10.availability, nov10.downtime_minutes, nov10.cls) == ("93.055", 100, "major")
    assert [i.title for i in nov10.incidents] == ["API errors"]
    today = api.days[-1]  # 23:00 UTC yesterday until now: 13 h, 30 min down
    assert (today.availability, today.downtime_minutes, today.cls) == ("96.153", 30, "partial")
    nov15 = next(d for d in checkout.days if d.date == "2026-11-15")
    assert (nov15.cls, nov15.downtime_minutes, nov15.availability) == ("maintenance", 0, "100.000")
    assert {w.window: w.availability for w in api.windows} == {
        "24h": "97.916",
        "7d": "99.702",
        "30d": "99.699",
        "90d": "99.899",
    }
    rolling, mtd = api.targets
    assert (rolling.availability, mtd.availability) == ("99.699", "99.538")
    # Budget, use and overspend all floored from the exact seconds (sla.display).
    cells = [(c.target, c.met, c.budget) for c in rolling.cells]
    assert cells == [
        ("99.8", False, "budget 86 min · used 130 min · over by 43 min"),
        ("99.9", False, "budget 43 min · used 130 min · over by 86 min"),
        ("99.99", False, "budget 4 min · used 130 min · over by 125 min"),
    ]
    assert all(c.met and c.used_seconds == 0 for c in checkout.targets[0].cells)
    # The platform is the union (Evidence.service): checkout's excused hour leaves the
    # denominator, so the platform is not simply the api's figure.
    assert view.platform_targets[0].availability == "99.698"
    assert view.platform_targets[0].cells[0].budget.startswith("budget 86 min ·")
    (plan,) = view.plans
    current, previous = plan.rows
    assert (current.period, current.running, current.availability, current.credit_percent) == (
        "2026-11",
        True,
        "99.536",
        "10",
    )  # 101 whole minutes beyond the budget: 2 hours x 5 %
    assert (previous.period, previous.met, previous.credit_percent) == ("2026-10", True, "0")
    assert plan.deadlines[0].iso == "2026-12-31T00:00:00.000Z"
    assert plan.components == ["Storefront API", "Checkout"]
    assert [m.title for m in view.upcoming] == ["Database upgrade"] and not view.in_progress


async def test_index_page(site):
    resp = await site.get("/")
    page = await resp.text()
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-cache"  # cache_ttl 0
    assert (
        '<h1 id="banner-text"><span class="icon" aria-hidden="true">✕</span> Major outage</h1>'
        in page
    )
    assert '<time datetime="2026-11-20T12:00:00.000Z">20 Nov 2026 13:00 CET</time>' in page
    # Status as text and icon, not colour alone.
    head = page[page.index('id="c-api"') :]
    assert re.search(
        r'status-major_outage"><span class="icon" aria-hidden="true">✕</span> Major outage', head
    )
    titles = cell_titles(page, "Storefront API")
    assert len(titles) == 90
    assert titles["2026-11-10"] == (
        "day-major 2026-11-10: 93.055% available, 100 min down; incidents: API errors"
    )
    assert titles["2026-11-09"] == "day-operational 2026-11-09: 100.000% available, 0 min down"
    assert cell_titles(page, "Checkout")["2026-11-15"].startswith(
        "day-maintenance 2026-11-15: 100.000%"
    )
    # The open incident with its latest update; its next one was due at 11:30 UTC: overdue.
    assert 'href="/incidents/incpayments">Checkout payments slow</a>' in page
    assert "update overdue</strong> (was due by" in page
    assert "<strong>Checkout payments slow</strong>" in page
    assert "Database upgrade (scheduled)" in page and "22 Nov 2026 03:00 CET" in page
    assert '<details class="group" open>' in page
    # Targets table: the platform row first, then each component, met or missed per target.
    targets = page[page.index('id="targets-h"') : page.index('id="credits-h"')]
    assert targets.index("Platform (all components)") < targets.index("Storefront API")
    assert (
        "99.698%" in targets
        and "over by 43 min" in targets
        and "budget 86 min · used 0 min · 86 min left" in targets
    )
    assert targets.count('class="missed"') == 6 + 6  # api and platform miss every target
    credits = page[page.index('id="credits-h"') :]
    assert "Standard 99.9" in credits and "99.536%" in credits and ">10%<" in credits
    assert '<time datetime="2026-12-31T00:00:00.000Z">31 Dec 2026 01:00 CET</time>' in credits
    assert "Northwind" not in page and "1234" not in page  # no customers, no fees
    assert 'href="https://support.example.com/">Support</a>' in page
    assert "style=" not in page and "<script" not in page


async def test_component_page(site):
    resp = await site.get("/components/api")
    page = await resp.text()
    assert resp.status == 200
    assert "<h1>Storefront API</h1>" in page and "Major outage" in page
    assert cell_titles(page, "Storefront API")["2026-11-10"].startswith("day-major")
    table = page[page.index('class="windows-table"') :]
    assert re.search(
        r"<th scope=\"row\">30d</th><td class=\"num\">99.699%</td><td class=\"num\">100%</td>"
        r"<td class=\"num\">130</td>",
        table,
    )
    assert 'href="/incidents/incapierrors">API errors</a>' in page
    # Every hour: checks of 80, 120, 180 and 1200 (or 2000) ms -> p50 175 ms, p95 1160 (1800) ms.
    assert "Median of the hourly medians 175 ms; worst hourly 95th percentile 1800 ms." in page
    (p50,) = re.findall(r'<polyline class="p50" points="([^"]*)"', page)
    (p95,) = re.findall(r'<polyline class="p95" points="([^"]*)"', page)
    assert len(p50.split()) == len(p95.split()) == 167  # the current hour has no checks yet
    assert {pt.split(",")[1] for pt in p50.split()} == {"181.1"}  # 10 + 184 px x (1 - 0.175 / 2.5)
    assert "2500 ms" in page and "11-14" in page  # y axis top, a local date on the x axis
    checkout = await (await site.get("/components/checkout")).text()
    assert "No latency measured in the last 7 days." in checkout
    assert (await site.get("/components/nope")).status == 404


def test_latency_quantiles_interpolate_within_buckets():
    counts = (1, 3, 3, 3, 4, 4, 4)  # 80, 120, 180 and 1200 ms, cumulative per LATENCY_BUCKETS
    assert quantile(0.5, counts, 0.08, 1.2) == pytest.approx(0.175)
    assert quantile(0.95, counts, 0.08, 1.2) == pytest.approx(1.16)  # +Inf side bounded by max
    assert quantile(0.5, (0,) * 7, 0, 0) is None
    hour = [
        HourlyRollup("a", 3600, 2, 0, 0, 0.3, 0.1, 0.2, (0, 2, 2, 2, 2, 2, 2)),
        HourlyRollup("b", 3600, 2, 0, 0, 6.0, 3.0, 3.0, (0, 0, 0, 0, 0, 2, 2)),
    ]
    (merged,) = merge_hours(hour)  # two monitors of one component: buckets added
    assert merged.p50 == pytest.approx(0.25) and merged.p95 == pytest.approx(2.95)


async def test_theme_css_from_config(site):
    resp = await site.get("/theme.css")
    css = await resp.text()
    assert resp.content_type == "text/css"
    assert ":root { --accent: #8250df; }" in css
    assert "prefers-color-scheme: dark" in css and "--accent: #4493f8" in css
    again = await site.get("/theme.css", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status == 304


async def test_customer_page_has_bars_for_their_components(site):
    page = await (await site.get(f"/customers/{NW_TOKEN}")).text()
    assert cell_titles(page, "Storefront API")["2026-11-10"].startswith(
        "day-major 2026-11-10: 93.055%"
    )
    assert "Checkout" in page and "99.699%" in page


async def test_maintenance_banner_and_days_without_evidence(tmp_path, aiohttp_client):
    """A window in progress sets the banner; days before the monitor existed are `no data`."""
    window = {
        "id": "now",
        "title": "Cache flush",
        "components": ["api", "checkout"],
        "start": "2026-11-20T11:00:00Z",
        "end": "2026-11-20T13:00:00Z",
    }
    config = site_config(tmp_path, extra_maintenance=(window,), timezone="UTC")
    store = Store(config.storage.path)
    await store.start()
    store.submit(
        RegisterMonitors(
            [("api-health", "http", "api"), ("checkout-page", "http", "checkout")],
            ts("2026-11-18T12:00:00Z"),
        )
    )
    await store.flush()
    client = await aiohttp_client(
        create_app(config, store=store, clock=clock(), probe=False, environ={})
    )
    page = await (await client.get("/")).text()
    assert "Maintenance in progress</h1>" in page
    assert "<strong>In progress:</strong> Cache flush (scheduled)" in page
    head = page[page.index('id="c-checkout"') :]
    assert "⚒</span> Under maintenance" in head
    titles = cell_titles(page, "Checkout")
    assert titles["2026-11-17"] == "day-no-data 2026-11-17: no data, 0 min down"
    # The monitors were registered at noon: half of that day was observed, and it says so.
    assert titles["2026-11-18"] == (
        "day-operational 2026-11-18: 100.000% available, coverage 50%, 0 min down"
    )
    assert titles["2026-11-20"] == "day-maintenance 2026-11-20: 100.000% available, 0 min down"
    # Two days of evidence: the 90-day figure rests on those, not on the unknown, and says so.
    assert (
        '<dt>90d</dt><dd>100.000% <small class="coverage">measured over 2.2% of 90 days</small>'
        in head
    )
    assert "<dt>24h</dt><dd>100.000%</dd>" in head
    await client.close()
    await store.close()


def test_credit_schemes_in_words():
    tiers = [
        {"below": 95.0, "percent": 50},
        {"below": 99.99, "percent": 10},
        {"below": 99.0, "percent": 25},
    ]
    plans = [
        {
            "id": "p",
            "name": "P",
            "target_percent": 99.99,
            "credit": {"scheme": "tiered", "tiers": tiers},
        },
        {"id": "a", "name": "A", "target_percent": 99.8, "credit": {"scheme": "none"}},
    ]
    tiered, annual = parse_config({"sla": plans}, base_dir=Path(".")).sla
    assert scheme_text(tiered) == "below 99.99%: 10%, below 99%: 25%, below 95%: 50%"
    assert scheme_text(annual) == "reported against the target; no credit"


def test_days_follow_local_midnights_across_dst():
    starts = day_starts(ts("2026-11-02T12:00:00Z"), ZoneInfo("America/New_York"), days=3)
    assert starts == [
        ts("2026-10-31T04:00:00Z"),
        ts("2026-11-01T04:00:00Z"),
        ts("2026-11-02T05:00:00Z"),
        ts("2026-11-03T05:00:00Z"),
    ]
    assert starts[2] - starts[1] == 25 * 3600  # the day the clocks went back


async def test_running_period_claim_deadline_is_the_same_on_both_pages(site):
    """Public credits and the private report agree: the period's real end plus the window."""
    private = await (await site.get(f"/customers/{NW_TOKEN}")).text()
    public = await (await site.get("/")).text()
    assert "2026-12-31" in private and "2026-12-20" not in private  # not "now + 30 days"
    assert '<time datetime="2026-12-31T00:00:00.000Z">' in public
