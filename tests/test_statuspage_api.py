"""/api/v2/*.json: Atlassian Statuspage's public format, field for field, from a real app.

The key sets below are the issue's field lists: a key too many or too few fails, so strict
Statuspage clients keep working. Time is a fake clock; state changes go through the real paths
(a monitor transition reaching the board, the admin incidents API, configured windows).
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import OutageClosed, OutageOpened, State, Transition
from statuswatch.probes.base import CheckResult
from statuswatch.store import RegisterMonitors, Store
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD, MONITORING
from tests.helpers.config import make_config
from tests.helpers.openapi import CheckedClient

TOKEN = "statuspage-admin-token-0123456789"
PAGE = {"id", "name", "url", "time_zone", "updated_at"}
STATUS = {"indicator", "description"}
COMPONENT = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "group",
    "page_id",
    "only_show_if_degraded",
}
GROUP = COMPONENT | {"components"}
INCIDENT = {
    "id",
    "name",
    "status",
    "impact",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "started_at",
    "shortlink",
    "page_id",
    "components",
    "incident_updates",
}
MAINTENANCE = INCIDENT | {"scheduled_for", "scheduled_until"}
UPDATE = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
}
AFFECTED = {"code", "name", "old_status", "new_status"}
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INDICATORS = {"none", "minor", "major", "critical", "maintenance"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
# Statuspage writes local time with its offset, to the millisecond.
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
ENDPOINTS = (
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
)


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


NOW = ts("2026-11-05T12:00:00Z")
MONITORS = [
    {"id": f"{cid}-check", "kind": "http", "component": cid, "url": "http://127.0.0.1:9/"}
    for cid in ("api", "checkout", "search", "docs")
]
SECTIONS = {
    "site": {
        "title": "Acme <Status>",
        "admin_token_env": "TEST_ADMIN_TOKEN",
        "base_url": "https://status.example.com",
        "timezone": "America/New_York",
    },
    "groups": [
        {"id": "core", "name": "Core platform"},
        {"id": "edge", "name": "Edge"},
        {"id": "empty", "name": "Nothing yet"},
    ],
    "components": [
        {"id": "api", "name": "Storefront API", "group": "core"},
        {"id": "docs", "name": "Docs", "description": "Developer documentation"},
        {"id": "checkout", "name": "Checkout", "group": "core"},
        {"id": "search", "name": "Search", "group": "edge"},
    ],
    "maintenance": [
        {
            "id": "db-upgrade",
            "title": "Database upgrade",
            "components": ["checkout"],
            "start": "2026-11-07T02:00:00Z",
            "duration": "2h",
        },
        {
            "id": "reindex",
            "title": "Nightly reindex",
            "components": ["search"],
            "description": "Search may be slow.",
            "start": "2026-08-01T11:30:00Z",
            "duration": "1h",
            "rrule": "FREQ=DAILY",
        },
        {
            "id": "called-off",
            "title": "Called off",
            "components": ["api"],
            "start": "2026-11-06T02:00:00Z",
            "duration": "1h",
            "cancelled": True,
        },
    ],
}


@pytest.fixture
async def site(tmp_path, aiohttp_client):
    """A running app over a store with a registered history; the clock at NOW."""
    config = make_config(tmp_path, MONITORS, **SECTIONS)
    clock = FakeClock(NOW)
    store = Store(config.storage.path, clock=clock)
    await store.start()
    store.submit(
        RegisterMonitors(
            [(m["id"], "http", m["component"]) for m in MONITORS], ts("2026-06-01T00:00:00Z")
        )
    )
    # api was down for an hour three days ago: that is when it last changed.
    store.submit(OutageOpened("api-check", ts("2026-11-02T09:00:00Z"), "connect", "refused"))
    store.submit(OutageClosed("api-check", ts("2026-11-02T10:00:00Z"), "recovered"))
    for m in MONITORS:  # every monitor was checked a minute ago
        store.submit(CheckResult(m["id"], NOW - 60, True, 0.05, 200))
    await store.flush()
    app = create_app(
        config, store=store, clock=clock, probe=False, environ={"TEST_ADMIN_TOKEN": TOKEN}
    )
    client = await aiohttp_client(app)
    yield client, clock
    await client.close()
    await store.close()


async def get(client, path: str, **headers: str) -> dict:
    resp = await client.get(f"/api/v2/{path}", headers=headers)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "application/json"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    return await resp.json()


def check_component(item: dict) -> None:
    assert set(item) == (GROUP if item["group"] else COMPONENT), item
    assert item["status"] in COMPONENT_STATUSES
    assert TIME.match(item["created_at"]) and TIME.match(item["updated_at"])


def check_incident(item: dict, keys: set[str], statuses: set[str]) -> None:
    assert set(item) == keys, item
    assert item["status"] in statuses
    for comp in item["components"]:
        check_component(comp)
    for update in item["incident_updates"]:
        assert set(update) == UPDATE
        assert update["incident_id"] == item["id"]
        for affected in update["affected_components"]:
            assert set(affected) == AFFECTED
        assert (update["deliver_notifications"], update["custom_tweet"], update["tweet_id"]) == (
            True,
            None,
            None,
        )
    for key in ("created_at", "updated_at", "started_at"):
        if key == "started_at" and item["status"] == "scheduled":
            assert item[key] is None  # an occurrence that has not started
        else:
            assert TIME.match(item[key]), (key, item[key])


async def test_every_document_has_exactly_statuspage_fields(site):
    client, _ = site
    summary = await get(client, "summary.json")
    assert set(summary) == {
        "page",
        "components",
        "incidents",
        "scheduled_maintenances",
        "status",
        "x_statuswatch",
    }
    page = summary["page"]
    assert set(page) == PAGE
    assert page["name"] == "Acme <Status>" and page["url"] == "https://status.example.com"
    assert page["time_zone"] == "America/New_York" and re.fullmatch(r"[0-9a-f]{12}", page["id"])
    assert set(summary["status"]) == STATUS and summary["status"]["indicator"] in INDICATORS
    for item in summary["components"]:
        check_component(item)
        assert item["page_id"] == page["id"]
    shapes = {
        "status.json": {"page", "status"},
        "components.json": {"page", "components", "x_statuswatch"},
        "incidents.json": {"page", "incidents"},
        "incidents/unresolved.json": {"page", "incidents"},
        "scheduled-maintenances.json": {"page", "scheduled_maintenances"},
        "scheduled-maintenances/upcoming.json": {"page", "scheduled_maintenances"},
        "scheduled-maintenances/active.json": {"page", "scheduled_maintenances"},
    }
    for path, keys in shapes.items():
        doc = await get(client, path)
        assert set(doc) == keys, path
        assert doc["page"] == page, path  # one page, however it is asked for
    assert set(shapes) | {"summary.json"} == set(ENDPOINTS)


async def test_components_groups_positions_and_times(site):
    client, _ = site
    components = (await get(client, "components.json"))["components"]
    assert [(c["id"], c["group"]) for c in components] == [
        ("core", True),
        ("api", False),
        ("docs", False),
        ("checkout", False),
        ("edge", True),
        ("search", False),
        ("empty", True),
    ]
    assert [c["position"] for c in components] == list(range(1, 8))
    by_id = {c["id"]: c for c in components}
    assert by_id["core"]["components"] == ["api", "checkout"]
    assert by_id["edge"]["components"] == ["search"] and by_id["empty"]["components"] == []
    assert by_id["api"]["group_id"] == "core" and by_id["docs"]["group_id"] is None
    assert by_id["core"]["group_id"] is None and by_id["core"]["showcase"] is False
    assert by_id["docs"]["description"] == "Developer documentation"
    assert by_id["api"]["description"] is None and by_id["api"]["showcase"] is True
    # In New York time, with its offset; created when the monitors were registered.
    assert by_id["api"]["created_at"] == "2026-05-31T20:00:00.000-04:00"
    assert by_id["api"]["start_date"] == "2026-05-31" and by_id["core"]["start_date"] is None
    assert by_id["api"]["updated_at"] == "2026-11-02T05:00:00.000-05:00"  # the outage's end
    assert by_id["docs"]["updated_at"] == by_id["docs"]["created_at"]  # never changed
    # The nightly reindex (11:30-12:30 UTC) is in progress: search and its group show it.
    assert by_id["search"]["status"] == "under_maintenance"
    assert by_id["edge"]["status"] == "under_maintenance"
    assert by_id["api"]["status"] == "operational"


async def test_x_statuswatch_holds_truncated_availability(site):
    client, _ = site
    extra = (await get(client, "summary.json"))["x_statuswatch"]
    # One hour down in 30 days of 43,200 minutes: 99.8611... truncated, never rounded.
    assert extra["components"]["api"] == {
        "availability_30d": "99.861",
        "coverage_30d": "100.000",
        "availability_90d": "99.953",
        "coverage_90d": "100.000",
        "no_data": False,
        "regional_locations": [],
    }
    assert extra["components"]["docs"] == {
        "availability_30d": "100.000",
        "coverage_30d": "100.000",
        "availability_90d": "100.000",
        "coverage_90d": "100.000",
        "no_data": False,
        "regional_locations": [],
    }


async def test_an_outage_and_an_incident_with_updates_and_affected_components(site):
    client, clock = site
    app = client.app
    monitoring = app[MONITORING]
    monitor = monitoring.monitors["checkout-check"]
    app[BOARD].on_events(
        monitor,
        None,
        [
            Transition(
                "checkout-check", clock.time(), State.UP, State.DOWN, "2 consecutive failures"
            )
        ],
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    resp = await client.post(
        "/api/v1/incidents",
        headers=auth,
        json={
            "title": "Slow searches",
            "body": "We are looking into it.",
            "impact": "minor",
            "components": {"docs": "degraded_performance"},
        },
    )
    assert resp.status == 201
    incident_id = (await resp.json())["id"]
    clock.advance(600)
    resp = await client.post(
        f"/api/v1/incidents/{incident_id}/updates",
        headers=auth,
        json={"body": "Found it.", "status": "identified", "components": {"docs": "operational"}},
    )
    assert resp.status == 201
    clock.advance(5)  # past cache_ttl: the next reads render again

    summary = await get(client, "summary.json")
    assert summary["status"] == {"indicator": "critical", "description": "Major System Outage"}
    by_id = {c["id"]: c for c in summary["components"]}
    assert by_id["checkout"]["status"] == "major_outage"
    assert by_id["core"]["status"] == "major_outage"  # a group shows its worst member
    assert len(summary["incidents"]) == 2  # the automatic one and the operator's
    for item in summary["incidents"]:
        check_incident(item, INCIDENT, INCIDENT_STATUSES)
    manual = next(i for i in summary["incidents"] if i["id"] == incident_id)
    assert manual["name"] == "Slow searches" and manual["impact"] == "minor"
    assert manual["status"] == "identified"
    assert manual["shortlink"] == f"https://status.example.com/incidents/{incident_id}"
    assert [c["id"] for c in manual["components"]] == ["docs"]
    newest, first = manual["incident_updates"]  # newest first, as Statuspage lists them
    assert (newest["status"], newest["body"]) == ("identified", "Found it.")
    assert newest["affected_components"] == [
        {
            "code": "docs",
            "name": "Docs",
            "old_status": "degraded_performance",
            "new_status": "operational",
        }
    ]
    assert first["affected_components"][0]["new_status"] == "degraded_performance"
    assert first["created_at"] == "2026-11-05T07:00:00.000-05:00"
    auto = next(i for i in summary["incidents"] if i["id"] != incident_id)
    assert auto["impact"] == "major" and [c["id"] for c in auto["components"]] == ["checkout"]
    assert auto["incident_updates"][-1]["affected_components"][0]["new_status"] == "major_outage"
    assert (await get(client, "incidents/unresolved.json"))["incidents"] == summary["incidents"]


async def test_resolved_incidents_leave_unresolved_but_stay_in_incidents(site):
    client, clock = site
    auth = {"Authorization": f"Bearer {TOKEN}"}
    resp = await client.post(
        "/api/v1/incidents", headers=auth, json={"title": "Blip", "body": "Investigating."}
    )
    incident_id = (await resp.json())["id"]
    clock.advance(60)
    await client.post(
        f"/api/v1/incidents/{incident_id}/updates",
        headers=auth,
        json={"body": "Fine now.", "status": "resolved"},
    )
    clock.advance(5)
    listed = (await get(client, "incidents.json"))["incidents"]
    assert [i["id"] for i in listed] == [incident_id]
    check_incident(listed[0], INCIDENT, INCIDENT_STATUSES)
    assert listed[0]["status"] == "resolved"
    assert listed[0]["resolved_at"] == "2026-11-05T07:01:00.000-05:00"
    assert (await get(client, "incidents/unresolved.json"))["incidents"] == []
    status = (await get(client, "status.json"))["status"]
    assert status == {"indicator": "maintenance", "description": "Service Under Maintenance"}


async def test_maintenance_active_versus_upcoming_follows_the_clock(site):
    client, clock = site
    active = (await get(client, "scheduled-maintenances/active.json"))["scheduled_maintenances"]
    assert [m["id"] for m in active] == ["reindex-20261105T1130Z"]
    (reindex,) = active
    check_incident(reindex, MAINTENANCE, MAINTENANCE_STATUSES)
    assert reindex["status"] == "in_progress" and reindex["impact"] == "maintenance"
    assert reindex["scheduled_for"] == "2026-11-05T06:30:00.000-05:00"
    assert reindex["scheduled_until"] == "2026-11-05T07:30:00.000-05:00"
    assert [u["status"] for u in reindex["incident_updates"]] == ["in_progress", "scheduled"]
    assert reindex["incident_updates"][-1]["body"] == "Search may be slow."
    assert [c["id"] for c in reindex["components"]] == ["search"]
    upcoming = (await get(client, "scheduled-maintenances/upcoming.json"))["scheduled_maintenances"]
    # The one-off upgrade; the cancelled window is not shown; the reindex is running.
    assert [(m["id"], m["status"]) for m in upcoming] == [("db-upgrade", "scheduled")]
    check_incident(upcoming[0], MAINTENANCE, MAINTENANCE_STATUSES)
    summary = await get(client, "summary.json")
    assert [m["id"] for m in summary["scheduled_maintenances"]] == [
        "reindex-20261105T1130Z",
        "db-upgrade",
    ]

    clock.advance(3600)  # 13:00 UTC: tonight's reindex is over, tomorrow's is next
    assert (await get(client, "scheduled-maintenances/active.json"))["scheduled_maintenances"] == []
    upcoming = (await get(client, "scheduled-maintenances/upcoming.json"))["scheduled_maintenances"]
    assert [m["id"] for m in upcoming] == ["reindex-20261106T1130Z", "db-upgrade"]
    everything = (await get(client, "scheduled-maintenances.json"))["scheduled_maintenances"]
    assert everything[0]["id"] == "db-upgrade"  # newest scheduled_for first
    assert len(everything) == 50  # daily occurrences of the last 90 days, capped like Statuspage
    done = next(m for m in everything if m["id"] == "reindex-20261105T1130Z")
    assert done["status"] == "completed"
    assert done["resolved_at"] == "2026-11-05T07:30:00.000-05:00"
    assert [u["status"] for u in done["incident_updates"]] == [
        "completed",
        "in_progress",
        "scheduled",
    ]
    assert {m["status"] for m in everything} <= MAINTENANCE_STATUSES
    client.app[BOARD].tick()  # what housekeeping does each minute: the window's end shows
    by_id = {c["id"]: c for c in (await get(client, "components.json"))["components"]}
    assert by_id["search"]["status"] == "operational"
    assert by_id["search"]["updated_at"] == "2026-11-05T07:30:00.000-05:00"


async def test_cached_with_etag_and_304_and_cors_on_both(site):
    client, _ = site
    first = await client.get("/api/v2/summary.json")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=2"
    body = await first.read()
    again = await client.get("/api/v2/summary.json", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    assert again.headers["ETag"] == etag
    assert await (await client.get("/api/v2/summary.json")).read() == body


async def test_a_stampede_renders_once(site, monkeypatch):
    import asyncio

    from statuswatch.web import statuspage_api

    client, _ = site
    calls = 0
    real = statuspage_api.page_state

    async def counted(app):
        nonlocal calls
        calls += 1
        return await real(app)

    monkeypatch.setattr(statuspage_api, "page_state", counted)
    bodies = await asyncio.gather(*(get(client, "components.json") for _ in range(20)))
    assert calls == 1 and all(b == bodies[0] for b in bodies)


async def test_preflight_allows_any_origin(site):
    client, _ = site
    resp = await client.options(
        "/api/v2/summary.json",
        headers={"Origin": "https://widget.example", "Access-Control-Request-Method": "GET"},
    )
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["Access-Control-Allow-Methods"] == "GET"


async def test_every_document_matches_the_openapi_document(site):
    client, clock = site
    auth = {"Authorization": f"Bearer {TOKEN}"}
    resp = await client.post(
        "/api/v1/incidents",
        headers=auth,
        json={"title": "Slow", "body": "Looking.", "components": {"api": "partial_outage"}},
    )
    assert resp.status == 201
    clock.advance(3600)  # the reindex is over: completed, upcoming and active all occur
    api = CheckedClient(client, None)
    for path in ENDPOINTS:
        status, body = await api.get(f"/api/v2/{path}")
        assert status == 200 and body["page"]["name"] == "Acme <Status>"
    assert api.exchanges == len(ENDPOINTS)


async def test_an_upcoming_maintenance_was_created_before_and_has_not_started(site):
    client, clock = site
    # A config window: created when this statuswatch loaded the config (the app's start).
    (db,) = [m for m in await _upcoming(client) if m["id"] == "db-upgrade"]
    assert db["created_at"] == "2026-11-05T07:00:00.000-05:00"
    assert db["started_at"] is None
    assert db["incident_updates"][-1]["created_at"] == db["created_at"]  # the announcement
    # A window from the API: created when it was stored; a later change keeps that.
    auth = {"Authorization": f"Bearer {TOKEN}"}
    clock.advance(600)
    body = {"id": "cdn", "title": "CDN move", "components": ["api"], "duration": "1h"}
    start = "2026-11-06T02:00:00Z"
    resp = await client.post("/api/v1/maintenance", headers=auth, json={**body, "start": start})
    assert resp.status == 201
    clock.advance(600)
    patch = {"start": "2026-11-06T03:00:00Z"}
    assert (await client.patch("/api/v1/maintenance/cdn", headers=auth, json=patch)).status == 200
    (cdn,) = [m for m in await _upcoming(client) if m["id"] == "cdn"]
    assert (cdn["created_at"], cdn["started_at"]) == ("2026-11-05T07:10:00.000-05:00", None)
    assert cdn["scheduled_for"] == "2026-11-05T22:00:00.000-05:00"
    # Once it starts: started_at is its start, created_at unchanged.
    clock.advance(ts("2026-11-06T03:30:00Z") - clock.time())
    active = (await get(client, "scheduled-maintenances/active.json"))["scheduled_maintenances"]
    (cdn,) = [m for m in active if m["id"] == "cdn"]
    assert (cdn["created_at"], cdn["started_at"]) == (
        "2026-11-05T07:10:00.000-05:00",
        "2026-11-05T22:00:00.000-05:00",
    )


async def _upcoming(client) -> list[dict]:
    return (await get(client, "scheduled-maintenances/upcoming.json"))["scheduled_maintenances"]
