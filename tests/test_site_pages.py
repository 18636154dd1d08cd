"""The public pages over real HTTP: /incidents/<id>, /history, /maintenance and the 404 page."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from yarl import URL

from statuswatch.clock import FakeClock, iso
from statuswatch.web.keys import RENDER_CACHE, STORE
from tests.helpers.site import AUTH, make_site, open_incident, post_update, site_section

JULY = datetime(2026, 7, 10, 10, 0, tzinfo=UTC).timestamp()  # 12:00 CEST in Europe/Paris


def month_start(year: int, month: int) -> float:
    return datetime(year, month, 1, tzinfo=UTC).timestamp()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(JULY)


async def page(client, path: str, status: int = 200) -> str:
    resp = await client.get(path)
    text = await resp.text()
    assert resp.status == status, text
    assert resp.headers["Content-Type"].startswith("text/html")
    return text


async def test_incident_page_shows_the_whole_timeline(aiohttp_client, tmp_path, clock):
    client = await make_site(aiohttp_client, tmp_path, clock)
    inc = await open_incident(
        client,
        title="Checkout <script>alert(1)</script> errors",
        body="We are **looking** into it. <img src=x onerror=alert(1)>",
    )
    clock.advance(600)
    await post_update(
        client,
        inc["id"],
        status="identified",
        author="alice",
        body="Found a bad [deploy](https://example.com/d).",
        components={"checkout": "partial_outage"},
    )
    html = await page(client, f"/incidents/{inc['id']}")
    assert "<script>alert(1)" not in html and "<img" not in html
    assert "<h1>Checkout &lt;script&gt;alert(1)&lt;/script&gt; errors</h1>" in html
    title = "Checkout &lt;script&gt;alert(1)&lt;/script&gt; errors · Acme &lt;Status&gt;"
    assert f"<title>{title}</title>" in html
    assert '<dd class="incident-state">Identified</dd>' in html
    assert '<dd class="impact impact-major">Major</dd>' in html
    assert "<dd>Critical incident</dd>" in html  # severity S1, by name
    # Started, in the site's zone with the zone named, and in UTC for machines.
    assert f'<time datetime="{iso(JULY)}">10 Jul 2026 12:00 CEST</time>' in html
    # S1 promises an update every 30 minutes after alice's.
    due = iso(JULY + 600 + 1800)
    assert f'Next update due</dt><dd class="next-update">by <time datetime="{due}">' in html
    # Newest first, each with its status, time, Markdown body and component changes.
    updates = re.findall(r'<li class="timeline-update status-(\w+)"', html)
    assert updates == ["identified", "investigating"]
    assert '<a href="https://example.com/d" rel="nofollow noopener noreferrer">deploy</a>' in html
    assert "We are <strong>looking</strong> into it." in html
    assert (
        'Checkout &lt;script&gt;: Major outage → <span class="status status-partial_outage">'
        "Partial outage</span>" in html
    )
    assert "Checkout &lt;script&gt;: Operational → " in html
    assert 'Checkout &lt;script&gt;: <span class="status status-partial_outage">' in html

    clock.advance(600)
    await post_update(
        client,
        inc["id"],
        status="resolved",
        body="Fixed.",
        author="alice",
        components={"checkout": "operational"},
    )
    clock.advance(5)  # past the render cache's TTL
    html = await page(client, f"/incidents/{inc['id']}")
    assert '<dd class="incident-state">Resolved</dd>' in html
    assert f'<dt>Resolved</dt><dd><time datetime="{iso(JULY + 1200)}">' in html
    assert "Next update due" not in html


async def test_incident_page_is_cached_and_revalidates(aiohttp_client, tmp_path, clock):
    client = await make_site(aiohttp_client, tmp_path, clock)
    inc = await open_incident(client)
    first = await client.get(f"/incidents/{inc['id']}")
    assert first.headers["Cache-Control"] == "public, max-age=2"
    again = await client.get(
        f"/incidents/{inc['id']}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304


@pytest.mark.parametrize(
    "path",
    [
        "/incidents/zzzzzzzzzzzz",
        "/incidents/NOT-AN-ID",
        "/incidents/abc%20def",
        "/no/such/page",
        "/customers/not-a-real-token",
        "/static/no-such-file.css",
    ],
)
async def test_unknown_things_get_the_404_page(aiohttp_client, tmp_path, clock, path):
    client = await make_site(aiohttp_client, tmp_path, clock)
    html = await page(client, path, 404)
    assert "<h1>Page not found</h1>" in html and '<a href="/history">' in html
    assert "<title>Not found · Acme &lt;Status&gt;</title>" in html
    assert "Content-Security-Policy" in (await client.get(path)).headers


async def test_wrong_method_on_a_known_path_is_still_405(aiohttp_client, tmp_path, clock):
    # The catch-all route that answers unknown URLs must not swallow aiohttp's 405s.
    client = await make_site(aiohttp_client, tmp_path, clock)
    cases = {
        "/api/v2/summary.json": {"GET", "HEAD", "OPTIONS"},  # OPTIONS: CORS preflight
        "/history": {"GET", "HEAD"},
        "/static/style.css": {"GET", "HEAD"},
    }
    for path, allowed in cases.items():
        resp = await client.post(path)
        assert resp.status == 405, path
        assert set(resp.headers["Allow"].split(",")) == allowed, path
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    resp = await client.delete("/api/v1/incidents")  # GET and POST live there
    assert resp.status == 405 and set(resp.headers["Allow"].split(",")) == {"GET", "HEAD", "POST"}


async def test_any_method_on_an_unknown_url_is_404(aiohttp_client, tmp_path, clock):
    client = await make_site(aiohttp_client, tmp_path, clock)
    resp = await client.post("/no/such/page")
    assert resp.status == 404 and "<h1>Page not found</h1>" in await resp.text()
    head = await client.head("/no/such/page")
    assert head.status == 404 and head.headers["Content-Type"].startswith("text/html")
    resp = await client.put("/api/v1/no-such-endpoint")
    assert resp.status == 404 and "Page not found" not in await resp.text()


async def test_static_files_are_served_with_validators(aiohttp_client, tmp_path, clock):
    client = await make_site(aiohttp_client, tmp_path, clock)
    resp = await client.get("/static/style.css")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/css")
    assert ":root" in await resp.text()
    again = await client.get("/static/style.css", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status == 304
    assert "Content-Security-Policy" in again.headers
    for path in (
        "/static/..",
        "/static/.",
        "/static/%2e%2e/pyproject.toml",
        "/static/..%2fpyproject.toml",
        "/static/../pyproject.toml",
        "/static/..%2F..%2Fstatuswatch%2F__init__.py",
        "/static/a%00b",
    ):
        raw = URL(str(client.make_url("/")).rstrip("/") + path, encoded=True)  # not normalised
        resp = await client.session.get(raw)
        assert resp.status == 404, path
        assert "[project]" not in await resp.text(), path


@pytest.mark.parametrize("name", ["a" * 256, "b" * 4096, "%C3%A9" * 200])
async def test_a_static_name_too_long_for_the_filesystem_is_404(
    aiohttp_client, tmp_path, clock, name
):
    # A name past NAME_MAX makes stat() fail with ENAMETOOLONG: a miss like any other, not a 500.
    client = await make_site(aiohttp_client, tmp_path, clock)
    raw = URL(str(client.make_url("/static/")) + name, encoded=True)
    resp = await client.session.get(raw)
    text = await resp.text()
    assert resp.status == 404, text
    assert "<h1>Page not found</h1>" in text


async def test_misses_leave_nothing_in_the_render_cache(aiohttp_client, tmp_path, clock):
    client = await make_site(aiohttp_client, tmp_path, clock)
    for n in range(20):
        await page(client, f"/incidents/guess{n:07d}", 404)
    cache = client.app[RENDER_CACHE]
    assert not [k for k in (*cache._entries, *cache._flights) if k.startswith("/incidents/")]


async def test_json_routes_keep_json_404s(aiohttp_client, tmp_path, clock):
    client = await make_site(aiohttp_client, tmp_path, clock)
    resp = await client.get("/api/v1/incidents/nope", headers=AUTH)
    assert resp.status == 404 and await resp.json() == {"error": "incident not found"}
    resp = await client.get("/push/unknown-token")
    assert resp.status == 404 and await resp.json() == {"error": "unknown push token"}
    resp = await client.get("/api/v1/no-such-endpoint")
    assert resp.status == 404 and "Page not found" not in await resp.text()


async def test_wrong_report_token_page_is_not_cached(aiohttp_client, tmp_path, clock):
    client = await make_site(aiohttp_client, tmp_path, clock)
    resp = await client.get("/customers/guess")
    assert resp.status == 404 and "Page not found" in await resp.text()
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Robots-Tag"] == "noindex, nofollow"


async def test_history_groups_by_month_and_pages_back(aiohttp_client, tmp_path, clock):
    client = await make_site(aiohttp_client, tmp_path, clock)
    july = await open_incident(client, title="July outage")
    await post_update(client, july["id"], status="resolved", body="Done.")
    clock.advance(month_start(2026, 9) + 14 * 86400 - clock.time())
    sept = await open_incident(
        client,
        title="September <slow> API",
        impact="minor",
        components={"api": "degraded_performance"},
    )
    clock.advance(month_start(2026, 11) + 19 * 86400 - clock.time())
    nov = await open_incident(client, title="November checkout")

    html = await page(client, "/history")
    months = re.findall(r"<h2>(\w+ \d{4})</h2>", html)
    assert months == ["November 2026", "October 2026", "September 2026"]
    november, october, september = html.split('<section class="history-month">')[1:]
    assert f'<a href="/incidents/{nov["id"]}">November checkout</a>' in november
    assert "Investigating · impact major" in november
    assert "No incidents reported." in october
    assert f'<a href="/incidents/{sept["id"]}">September &lt;slow&gt; API</a>' in september
    assert '<a rel="next" href="/history?page=2">Older →</a>' in html
    assert 'rel="prev"' not in html

    html = await page(client, "/history?page=2")
    assert re.findall(r"<h2>(\w+ \d{4})</h2>", html) == ["August 2026", "July 2026", "June 2026"]
    assert f'<a href="/incidents/{july["id"]}">July outage</a>' in html
    assert "Resolved · impact major" in html
    assert '<a rel="prev" href="/history">← Newer</a>' in html and 'rel="next"' not in html
    await page(client, "/history?page=3", 404)  # nothing that far back


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1.5", "99999", ""])
async def test_history_rejects_bad_page_numbers(aiohttp_client, tmp_path, clock, bad):
    client = await make_site(aiohttp_client, tmp_path, clock)
    resp = await client.get(f"/history?page={bad}")
    assert resp.status == 400
    assert "page: must be a whole number from 1" in await resp.text()


async def test_history_months_follow_the_site_timezone(aiohttp_client, tmp_path):
    # 2026-08-31T23:30Z is already September in Paris.
    clock = FakeClock(datetime(2026, 8, 31, 23, 30, tzinfo=UTC).timestamp())
    client = await make_site(aiohttp_client, tmp_path, clock)
    await open_incident(client, title="Midnight")
    html = await page(client, "/history")
    september = html.split('<section class="history-month">')[1]
    assert "<h2>September 2026</h2>" in september and "Midnight" in september
    assert "01 Sep 2026 01:30 CEST" in september


MAINTENANCE = [
    {
        "id": "weekly-db",
        "title": "Weekly <database> work",
        "components": ["checkout"],
        "description": "Checkout **may** be briefly unavailable.",
        "start": "2026-01-04T02:00:00",
        "duration": "2h",
        "rrule": "FREQ=WEEKLY;BYDAY=SU",
        "timezone": "America/New_York",
    },
    {
        "id": "cdn-swap",
        "title": "CDN swap",
        "components": ["api"],
        "kind": "emergency",
        "start": "2026-07-10T09:00:00Z",
        "end": "2026-07-10T11:00:00Z",
    },
    {
        "id": "dropped",
        "title": "Dropped migration",
        "components": ["api"],
        "start": "2026-07-20T09:00:00Z",
        "end": "2026-07-20T10:00:00Z",
        "cancelled": True,
    },
    {
        "id": "old",
        "title": "Old upgrade",
        "components": ["api", "checkout"],
        "start": "2026-06-01T09:00:00Z",
        "end": "2026-06-01T10:00:00Z",
    },
]


async def test_maintenance_page_lists_in_progress_upcoming_and_past(
    aiohttp_client, tmp_path, clock
):
    client = await make_site(aiohttp_client, tmp_path, clock, maintenance=MAINTENANCE)
    html = await page(client, "/maintenance")
    _, in_progress, upcoming, past = html.split('<section class="maintenance-section">')
    # Now is 2026-07-10T10:00Z: the CDN swap (09:00-11:00Z) is under way.
    assert (
        '<strong>CDN swap</strong> <span class="maintenance-state">In progress</span> '
        '<span class="maintenance-kind">Emergency</span>' in in_progress
    )
    assert '<time datetime="2026-07-10T09:00:00.000Z">10 Jul 2026 11:00 CEST</time>' in in_progress
    assert "Affects: Storefront API" in in_progress
    # Upcoming: the next five Sundays of the weekly window (02:00 New York = 06:00Z in summer)
    # and the cancelled migration, shown as cancelled, soonest first.
    titles = re.findall(r"<strong>(.*?)</strong> <span class=\"maintenance-state\">(\w+)", upcoming)
    assert (
        titles
        == [("Weekly &lt;database&gt; work", "Scheduled")] * 2
        + [("Dropped migration", "Cancelled")]
        + [("Weekly &lt;database&gt; work", "Scheduled")] * 3
    )
    assert '<time datetime="2026-07-12T06:00:00.000Z">12 Jul 2026 08:00 CEST</time>' in upcoming
    assert "Checkout <strong>may</strong> be briefly unavailable." in upcoming
    assert "Affects: Checkout &lt;script&gt;" in upcoming
    assert upcoming.count('<span class="maintenance-kind">Recurring</span>') == 5
    # Past: the last three Sundays and June's upgrade, latest first.
    done = re.findall(
        r'<li class="maintenance-window state-(\w+)">\s*<p><strong>(.*?)</strong>', past
    )
    assert done == [("completed", "Weekly &lt;database&gt; work")] * 3 + [
        ("completed", "Old upgrade")
    ]
    assert "Affects: Checkout &lt;script&gt;, Storefront API" in past


async def test_maintenance_page_follows_windows_created_at_run_time(
    aiohttp_client, tmp_path, clock
):
    client = await make_site(aiohttp_client, tmp_path, clock)
    assert "No maintenance scheduled." in await page(client, "/maintenance")
    resp = await client.post(
        "/api/v1/maintenance",
        headers=AUTH,
        json={
            "title": "Payment provider upgrade",
            "components": ["checkout"],
            "start": "2026-07-11T08:00:00Z",
            "end": "2026-07-11T09:00:00Z",
        },
    )
    assert resp.status == 201, await resp.text()
    clock.advance(5)
    html = await page(client, "/maintenance")
    upcoming = html.split('<section class="maintenance-section">')[2]
    assert "<strong>Payment provider upgrade</strong>" in upcoming
    assert "No maintenance in progress." in html


async def test_pages_link_to_each_other(aiohttp_client, tmp_path, clock):
    client = await make_site(aiohttp_client, tmp_path, clock, site=site_section())
    history = await page(client, "/history")
    assert '<a href="/history.atom">Atom</a>' in history
    assert '<a href="/history.rss">RSS</a>' in history
    assert '<a href="/maintenance.ics">maintenance.ics</a>' in await page(client, "/maintenance")


async def test_a_stampede_on_an_incident_reads_and_renders_it_once(aiohttp_client, tmp_path, clock):
    client = await make_site(aiohttp_client, tmp_path, clock)
    inc = await open_incident(client)
    store = client.app[STORE]
    real, reads = store.incident, 0

    async def counting(incident_id: str):
        nonlocal reads
        reads += 1
        return await real(incident_id)

    store.incident = counting
    answers = await asyncio.gather(*(client.get(f"/incidents/{inc['id']}") for _ in range(30)))
    assert reads == 1
    assert {r.status for r in answers} == {200} and len({r.headers["ETag"] for r in answers}) == 1
