"""/history.atom, /history.rss (read back with feedparser) and /maintenance.ics (with icalendar)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import feedparser
import icalendar
import pytest
from dateutil.rrule import rrulestr

from statuswatch.clock import FakeClock
from statuswatch.web.keys import BOARD
from tests.helpers.site import AUTH, make_site, open_incident, post_update

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC).timestamp()
BASE = "https://status.example.com"
WINDOWS = [
    # Weekly at 02:00 New York time, across the 2026-03-08 switch to daylight saving time.
    {
        "id": "weekly-db",
        "title": "Weekly <db> failover",
        "components": ["checkout"],
        "description": "Checkout **may** pause.",
        "start": "2026-01-04T02:00:00",
        "duration": "2h",
        "rrule": "FREQ=WEEKLY;BYDAY=SU;UNTIL=20261231T000000",
        "timezone": "America/New_York",
    },
    {
        "id": "cdn-swap",
        "title": "CDN swap",
        "components": ["api"],
        "kind": "emergency",
        "start": "2026-03-01T09:00:00Z",
        "end": "2026-03-01T11:00:00Z",
    },
    {
        "id": "dropped",
        "title": "Dropped migration",
        "components": ["api"],
        "start": "2026-03-05T09:00:00Z",
        "duration": "1h",
        "cancelled": True,
    },
]


def ts(struct: time.struct_time) -> float:
    return datetime(*struct[:6], tzinfo=UTC).timestamp()


def utc(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture
async def seeded(aiohttp_client, tmp_path):
    """A site with a resolved incident, an open one, config windows and a run-time window."""
    clock = FakeClock(NOW)
    site = {
        "title": "Acme & Co",
        "admin_token_env": "TEST_ADMIN_TOKEN",
        "base_url": BASE + "/",
        "timezone": "Europe/Paris",
    }
    client = await make_site(aiohttp_client, tmp_path, clock, site=site, maintenance=WINDOWS)
    old = await open_incident(client, title="Checkout errors", body="We are **looking**.")
    clock.advance(600)
    await post_update(
        client,
        old["id"],
        status="resolved",
        body="Fixed <b>it</b>.",
        components={"checkout": "operational"},
    )
    clock.advance(3600)
    new = await open_incident(
        client,
        title="API <script>alert(1)</script> slow",
        impact="minor",
        components={"api": "degraded_performance"},
        body="Slow.",
    )
    clock.advance(60)
    resp = await client.post(
        "/api/v1/maintenance",
        headers=AUTH,
        json={
            "id": "pay-upgrade",
            "title": "Payment upgrade",
            "components": ["checkout"],
            "start": "2026-02-25T08:00:00Z",
            "end": "2026-02-25T09:00:00Z",
        },
    )
    assert resp.status == 201, await resp.text()
    clock.advance(10)
    return client, clock, old, new


async def test_atom_feed(seeded):
    client, _clock, old, new = seeded
    resp = await client.get("/history.atom")
    assert resp.status == 200 and resp.content_type == "application/atom+xml"
    feed = feedparser.parse(await resp.read())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Acme & Co – incident and maintenance history"
    assert feed.feed.link == f"{BASE}/history"
    assert feed.feed.id == f"{BASE}/history.atom"
    entries = {e.id: e for e in feed.entries}
    assert set(entries) == {
        f"{BASE}/incidents/{old['id']}",
        f"{BASE}/incidents/{new['id']}",
        f"{BASE}/maintenance#weekly-db",
        f"{BASE}/maintenance#cdn-swap",
        f"{BASE}/maintenance#dropped",
        f"{BASE}/maintenance#pay-upgrade",
    }
    resolved = entries[f"{BASE}/incidents/{old['id']}"]
    assert resolved.title == "Checkout errors (Resolved)"
    assert resolved.link == f"{BASE}/incidents/{old['id']}"
    assert ts(resolved.published_parsed) == NOW and ts(resolved.updated_parsed) == NOW + 600
    body = resolved.content[0].value
    assert "We are <strong>looking</strong>." in body and "Fixed &lt;b&gt;it&lt;/b&gt;." in body
    assert body.index("Resolved") < body.index("Investigating")  # newest update first
    opened = entries[f"{BASE}/incidents/{new['id']}"]
    assert opened.title == "API <script>alert(1)</script> slow (Investigating)"  # text, escaped
    assert ts(opened.updated_parsed) == NOW + 4200
    weekly = entries[f"{BASE}/maintenance#weekly-db"]
    assert weekly.title == "Maintenance: Weekly <db> failover (Scheduled)"
    assert weekly.link == f"{BASE}/maintenance"
    assert ts(weekly.updated_parsed) == utc("2026-01-04T07:00:00Z")  # config: its first start
    assert "FREQ=WEEKLY" in weekly.content[0].value
    assert "Checkout <strong>may</strong> pause." in weekly.content[0].value
    assert (
        entries[f"{BASE}/maintenance#dropped"].title == "Maintenance: Dropped migration (Cancelled)"
    )
    # A run-time window: updated when it was stored. A config window has no such time: its
    # first start stands in (stable), so the cancelled one, due 2026-03-05, leads the feed.
    assert ts(entries[f"{BASE}/maintenance#pay-upgrade"].updated_parsed) == NOW + 4260
    assert [e.id.removeprefix(BASE + "/") for e in feed.entries] == [
        "maintenance#dropped",
        "maintenance#cdn-swap",
        "maintenance#pay-upgrade",
        f"incidents/{new['id']}",
        f"incidents/{old['id']}",
        "maintenance#weekly-db",
    ]
    assert ts(feed.feed.updated_parsed) == utc("2026-03-05T09:00:00Z")


async def test_rss_feed(seeded):
    client, _clock, _old, new = seeded
    resp = await client.get("/history.rss")
    assert resp.status == 200 and resp.content_type == "application/rss+xml"
    feed = feedparser.parse(await resp.read())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.title == "Acme & Co – incident and maintenance history"
    assert feed.feed.link == f"{BASE}/history"
    items = {e.id: e for e in feed.entries}
    assert len(items) == 6
    opened = items[f"{BASE}/incidents/{new['id']}"]
    assert opened.title == "API <script>alert(1)</script> slow (Investigating)"
    assert opened.link == f"{BASE}/incidents/{new['id']}"
    assert ts(opened.published_parsed) == NOW + 4200
    assert "Slow." in opened.summary
    weekly = items[f"{BASE}/maintenance#weekly-db"]
    assert weekly.link == f"{BASE}/maintenance"
    assert ts(weekly.published_parsed) == utc("2026-01-04T07:00:00Z")
    # Incident guids are their permalinks; a window's id is not a page of its own.
    xml = (await (await client.get("/history.rss")).read()).decode()
    assert f'<guid isPermaLink="true">{BASE}/incidents/{new["id"]}</guid>' in xml
    assert f'<guid isPermaLink="false">{BASE}/maintenance#weekly-db</guid>' in xml


async def test_feeds_are_cached_with_etags_and_stable(seeded):
    client, clock, _old, _new = seeded
    first = await client.get("/history.atom")
    again = await client.get("/history.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304
    clock.advance(30)  # nothing changed but time: same body, same ETag
    assert (await client.get("/history.atom")).headers["ETag"] == first.headers["ETag"]
    ics = await client.get("/maintenance.ics")
    clock.advance(30)
    assert (await client.get("/maintenance.ics")).headers["ETag"] == ics.headers["ETag"]


async def test_empty_feeds_are_valid(aiohttp_client, tmp_path):
    client = await make_site(aiohttp_client, tmp_path, FakeClock(NOW))
    for path, version in (("/history.atom", "atom10"), ("/history.rss", "rss20")):
        feed = feedparser.parse(await (await client.get(path)).read())
        assert not feed.bozo and feed.version == version and feed.entries == []


async def test_maintenance_calendar(seeded):
    client, _clock, _old, _new = seeded
    resp = await client.get("/maintenance.ics")
    assert resp.status == 200 and resp.content_type == "text/calendar"
    cal = icalendar.Calendar.from_ical(await resp.read())
    assert cal["VERSION"] == "2.0" and cal["PRODID"] == "-//statuswatch//maintenance//EN"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {
        f"maintenance-{w}@status.example.com"
        for w in ("weekly-db", "cdn-swap", "dropped", "pay-upgrade")
    }

    weekly = events["maintenance-weekly-db@status.example.com"]
    assert str(weekly["SUMMARY"]) == "Weekly <db> failover"
    assert weekly["DTSTART"].params["TZID"] == "America/New_York"
    assert weekly.decoded("DTSTART") == datetime(2026, 1, 4, 2, tzinfo=ZoneInfo("America/New_York"))
    assert weekly.decoded("DURATION") == timedelta(hours=2)
    rule = weekly["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["SU"]
    # UNTIL given in local time becomes UTC, as RFC 5545 asks with a TZID'd DTSTART.
    assert rule["UNTIL"] == [datetime(2026, 12, 31, 5, tzinfo=UTC)]
    assert str(weekly["STATUS"]) == "CONFIRMED"
    assert "Checkout **may** pause." in str(weekly["DESCRIPTION"])
    assert weekly.decoded("DTSTAMP") == datetime(2026, 1, 4, 7, tzinfo=UTC)

    # Expanded by the calendar's own rule, occurrences across the DST change are the very
    # ones statuswatch excuses: 02:00 local is 07:00Z in winter and 06:00Z in summer.
    start = weekly.decoded("DTSTART")
    ours = rrulestr(rule.to_ical().decode(), dtstart=start)
    # (On 2026-03-08 itself 02:00 does not exist in New York; both read it as 02:00 EST.)
    lo, hi = datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 3, 23, tzinfo=UTC)
    theirs = [int(d.timestamp()) for d in ours.between(lo, hi, inc=True)]
    calendar = client.app[BOARD].calendar
    expected = [
        o.start
        for o in calendar.occurrences(int(lo.timestamp()), int(hi.timestamp()))
        if o.window_id == "weekly-db"
    ]
    assert theirs == expected
    assert [datetime.fromtimestamp(t, UTC).strftime("%d %H") for t in theirs] == [
        "01 07",
        "08 07",
        "15 06",
        "22 06",
    ]

    swap = events["maintenance-cdn-swap@status.example.com"]
    assert swap.decoded("DTSTART") == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert swap.decoded("DTEND") == datetime(2026, 3, 1, 11, tzinfo=UTC)
    assert "RRULE" not in swap and str(swap["STATUS"]) == "CONFIRMED"
    assert "Emergency" in swap["CATEGORIES"].cats

    dropped = events["maintenance-dropped@status.example.com"]
    assert str(dropped["STATUS"]) == "CANCELLED"
    assert dropped.decoded("DURATION") == timedelta(hours=1)

    pay = events["maintenance-pay-upgrade@status.example.com"]
    assert pay.decoded("DTSTAMP") == datetime.fromtimestamp(NOW + 4260, UTC)
    assert str(pay["URL"]) == f"{BASE}/maintenance"
