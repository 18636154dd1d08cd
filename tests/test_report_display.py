"""What the customer report, `/` and the CLI table show: ongoing outages, claim deadlines, and
one rounding rule for every duration (SLA.md "Display", sla/display.py)."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

import pytest

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import OutageClosed, OutageOpened
from statuswatch.sla.report import credits_report
from statuswatch.sla.report_format import as_json, as_table
from statuswatch.store import RegisterMonitors, Store
from statuswatch.web import create_app
from tests.helpers.browser import rendered
from tests.helpers.config import make_config
from tests.helpers.site_seed import clock, seeded_store, site_config

NW_TOKEN = "northwind-report-token-0123456789abcdef"
ADMIN = "admin-secret-token-1234567890"
HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


@pytest.fixture
async def seeded(tmp_path, aiohttp_client):
    """The status-site seed: api down since 11:30 UTC (open), now 12:00 UTC, site in Berlin."""
    config = site_config(tmp_path)
    store = await seeded_store(config)
    environ = {"NW_TOKEN": NW_TOKEN, "TEST_ADMIN_TOKEN": ADMIN}
    client = await aiohttp_client(
        create_app(config, store=store, clock=clock(), probe=False, environ=environ)
    )
    yield config, store, client
    await client.close()
    await store.close()


async def test_an_open_outage_is_ongoing_not_ended_at_render_time(seeded, browser):
    _config, _store, client = seeded
    page = await (await client.get(f"/customers/{NW_TOKEN}")).text()
    row = page[page.index('<time datetime="2026-11-20T11:30:00.000Z">') :].split("</tr>")[0]
    assert "<strong>ongoing</strong>" in row and "30 min so far" in row
    assert "2026-11-20T12:00:00" not in row  # never the render time as its end
    _, text = await rendered(browser, str(client.make_url(f"/customers/{NW_TOKEN}")))
    assert "ongoing" in text and "30 min so far" in text
    resp = await client.get("/api/v1/credits?period=2026-11", headers=HEADERS)
    (northwind,) = (await resp.json())["customers"]
    (open_outage,) = [o for o in northwind["outages"] if o["start"] == "2026-11-20T11:30:00Z"]
    assert (open_outage["end"], open_outage["ongoing"]) == (None, True)
    assert open_outage["duration_minutes"] == 30  # so far
    closed = [o for o in northwind["outages"] if o["start"] == "2026-11-10T10:00:00Z"]
    assert closed[0]["end"] == "2026-11-10T11:40:00Z" and closed[0]["ongoing"] is False


async def test_the_claim_deadline_reads_the_same_everywhere(seeded, browser):
    """The exact instant with its zone: a plan in UTC ends its claim window at 01:00 CET."""
    config, store, client = seeded
    shown = '<time datetime="2026-12-31T00:00:00.000Z">31 Dec 2026 01:00 CET</time>'
    public = await (await client.get("/")).text()
    private = await (await client.get(f"/customers/{NW_TOKEN}")).text()
    assert shown in public and shown in private
    for path in ("/", f"/customers/{NW_TOKEN}"):
        _, text = await rendered(browser, str(client.make_url(path)))
        assert "31 Dec 2026 01:00 CET" in text and "2026-12-31" not in text, path
    lines = await credits_report(store, config, "2026-11", ts("2026-11-20T12:00:00Z"))
    table = as_table(lines, ts("2026-11-20T12:00:00Z"), config.site.tz)
    assert "31 Dec 2026 01:00 CET" in table and "2026-12-31" not in table
    machine = as_json(lines, ts("2026-11-20T12:00:00Z"))
    assert '"claim_deadline": "2026-12-31T00:00:00Z"' in machine  # JSON keeps ISO UTC


def test_durations_are_floored_with_seconds_under_a_minute():
    from statuswatch.sla.display import budget_text, duration_text

    assert [duration_text(s) for s in (0, 1, 41, 59, 60, 139, 141, Fraction(2591, 1))] == [
        "0 min",
        "1 s",
        "41 s",
        "59 s",
        "1 min",
        "2 min",
        "2 min",
        "43 min",
    ]
    # Budget, use and overspend from the same exact seconds: never "used 5 · over by 6".
    assert budget_text(Fraction(268, 10), 330) == "budget 26 s · used 5 min · over by 5 min"
    assert budget_text(2592, 41) == "budget 43 min · used 41 s · 42 min left"


def strict_config(tmp_path):
    """One component, a 99.9999 % monthly plan: 2.6 s of budget, so 41 s misses it."""
    return make_config(
        tmp_path,
        [{"id": "shop", "kind": "http", "component": "api", "url": "http://127.0.0.1:9/"}],
        site={"title": "Strict", "admin_token_env": "TEST_ADMIN_TOKEN", "targets": [99.9999]},
        sla=[
            {
                "id": "strict",
                "name": "Strict",
                "target_percent": 99.9999,
                "credit": {"scheme": "per_excess_hour", "percent_per_hour": 5},
            }
        ],
        customers=[
            {
                "id": "acme",
                "name": "Acme",
                "plan": "strict",
                "fee": 100,
                "components": ["api"],
                "report_token_env": "ACME_TOKEN",
            }
        ],
    )


async def test_rows_and_totals_come_from_the_same_seconds(tmp_path, aiohttp_client, browser):
    config = strict_config(tmp_path)
    store = Store(config.storage.path)
    await store.start()
    store.submit(RegisterMonitors([("shop", "http", "api")], ts("2026-10-01T00:00:00Z")))
    # Two outages with fractional ends: 20.5 s and 19.5 s recorded, 21 s and 20 s in whole
    # seconds (start floored, end ceiled): 41 s in the rows and in the total alike.
    for start, end in ((1000.25, 1020.75), (5000.5, 5020)):
        base = ts("2026-11-02T00:00:00Z")
        store.submit(OutageOpened("shop", base + start, "http_status", "HTTP 503"))
        store.submit(OutageClosed("shop", base + end, "recovered"))
    await store.flush()
    now = ts("2026-11-20T12:00:00Z")
    (line,) = await credits_report(store, config, "2026-11", now)
    assert [o.seconds for o in line.outages] == [21, 20]
    assert sum(o.seconds for o in line.outages) == line.figures.unexcused == 41
    assert not line.figures.met
    table = as_table([line], now, config.site.tz)
    assert "41 s" in table.splitlines()[1]  # never "0.7m" or "0 min" beside a missed target

    client = await aiohttp_client(
        create_app(config, store=store, clock=FakeClock(now), probe=False, environ={})
    )
    public = await (await client.get("/")).text()
    credits = public[public.index('id="credits-h"') :]
    row = credits[credits.index('<th scope="row">2026-11') :].split("</tr>")[0]
    assert "41 s" in row and "missed" in row and ">0<" not in row
    targets = public[public.index('id="targets-h"') : public.index('id="credits-h"')]
    assert "used 41 s · over by 38 s" in targets  # 99.9999 % of 30 days: 2.592 s of budget
    _, text = await rendered(browser, str(client.make_url("/")))
    assert "used 41 s · over by 38 s" in text
    missed = [line for line in text.splitlines() if "missed" in line and "2026-11" in line]
    assert missed and all("41 s" in line and "\t0 min" not in line for line in missed)
    await client.close()
    await store.close()
