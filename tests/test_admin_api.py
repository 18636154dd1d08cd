"""The admin API over real HTTP: incidents, maintenance, validation, auth, and the board.

Every exchange goes through CheckedClient, so it is also checked against the OpenAPI document.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from aiohttp import web

from statuswatch.clock import FakeClock, iso
from statuswatch.sla.periods import iso_z
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD, MONITORING, STORE
from tests.helpers.config import make_config
from tests.helpers.openapi import CheckedClient, request_errors

TOKEN = "admin-api-token-0123456789abcdef"
START = 1_793_000_000.0  # 2026-10-26T07:33:20Z


def at(seconds: float) -> str:
    """START + seconds as the API writes incident times."""
    return iso(START + seconds)


async def make_api(aiohttp_client, tmp_path, clock, monitors=(), **sections) -> CheckedClient:
    config = make_config(tmp_path, list(monitors), **sections)
    app = create_app(config, clock=clock, probe=False, environ={"TEST_ADMIN_TOKEN": TOKEN})
    return CheckedClient(await aiohttp_client(app), TOKEN)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def api(aiohttp_client, tmp_path, clock) -> CheckedClient:
    return await make_api(aiohttp_client, tmp_path, clock)


NEW = {
    "title": "Checkout errors",
    "impact": "major",
    "components": {"checkout": "major_outage"},
    "body": "We are **looking** into it.",
    "severity": "S1",
}


async def test_open_read_and_list_an_incident(api):
    status, inc = await api.post("/api/v1/incidents", NEW)
    assert status == 201
    assert (inc["title"], inc["impact"], inc["status"]) == (
        "Checkout errors",
        "major",
        "investigating",
    )
    assert inc["components"] == {"checkout": "major_outage"}
    assert inc["created_at"] == inc["updated_at"] == at(0)
    # S1: the opening text is the first human response; then an update every 30 minutes.
    assert inc["next_update_due"] == at(30 * 60)
    assert (inc["auto"], inc["taken_over"], inc["resolved_at"]) == (False, False, None)
    (update,) = inc["updates"]
    assert update["body_html"] == "<p>We are <strong>looking</strong> into it.</p>\n"
    assert (update["author"], update["status"]) == ("operator", "investigating")
    assert update["affected_components"] == [
        {"code": "checkout", "old_status": "operational", "new_status": "major_outage"}
    ]
    assert (await api.get(f"/api/v1/incidents/{inc['id']}")) == (200, inc)
    assert (await api.get("/api/v1/incidents")) == (200, {"incidents": [inc]})


async def test_impact_defaults_from_the_components(api):
    _, inc = await api.post(
        "/api/v1/incidents",
        {"title": "Slow API", "body": "Slow.", "components": {"api": "degraded_performance"}},
    )
    assert (inc["impact"], inc["severity"], inc["next_update_due"]) == ("minor", None, None)


async def test_updates_move_the_incident_through_its_statuses(api, clock):
    _, inc = await api.post("/api/v1/incidents", NEW)
    url = f"/api/v1/incidents/{inc['id']}"
    clock.advance(300)
    status, inc = await api.post(
        url + "/updates", {"status": "identified", "body": "Found it.", "author": "alice"}
    )
    assert status == 201 and inc["status"] == "identified" and len(inc["updates"]) == 2
    assert inc["next_update_due"] == at(300 + 30 * 60)  # then every 30 minutes
    clock.advance(300)
    _, inc = await api.post(
        url + "/updates",
        {"status": "resolved", "body": "Fixed.", "components": {"checkout": "operational"}},
    )
    assert inc["status"] == "resolved" and inc["resolved_at"] == at(600)
    assert inc["components"] == {"checkout": "operational"}
    assert inc["next_update_due"] is None
    assert (await api.get("/api/v1/incidents?open=true")) == (200, {"incidents": []})
    _, listed = await api.get("/api/v1/incidents?limit=1")
    assert [i["id"] for i in listed["incidents"]] == [inc["id"]]


async def test_patch_title_impact_and_severity(api):
    _, inc = await api.post("/api/v1/incidents", NEW)
    url = f"/api/v1/incidents/{inc['id']}"
    status, inc = await api.patch(
        url, {"title": "Checkout payments failing", "impact": "critical", "severity": "S2"}
    )
    assert status == 200
    assert (inc["title"], inc["impact"], inc["severity"]) == (
        "Checkout payments failing",
        "critical",
        "S2",
    )
    _, inc = await api.patch(url, {"severity": None})
    assert inc["severity"] is None and len(inc["updates"]) == 1


async def test_postmortem_only_once_resolved(api):
    _, inc = await api.post("/api/v1/incidents", NEW)
    url = f"/api/v1/incidents/{inc['id']}"
    status, body = await api.patch(url, {"postmortem": "## What happened\n\nA bad deploy."})
    assert status == 422
    assert body["errors"][0]["field"] == "postmortem"
    assert "resolved" in body["errors"][0]["message"]
    await api.post(url + "/updates", {"status": "resolved", "body": "Fixed."})
    status, inc = await api.patch(url, {"postmortem": "## What happened\n\nA bad deploy."})
    assert status == 200 and inc["status"] == "postmortem"
    assert inc["updates"][-1]["status"] == "postmortem"
    assert "<p>A bad deploy.</p>" in inc["updates"][-1]["body_html"]


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"colour": "red"}, ["colour"]),
        ({"impact": "huge"}, ["impact"]),
        ({"status": "postmortem"}, ["status"]),
        ({"components": {"nope": "major_outage"}}, ["components.nope"]),
        ({"components": {"checkout": "operational"}}, ["components.checkout"]),
        ({"title": ""}, ["title"]),
        ({"title": "x" * 201}, ["title"]),
        ({"body": "y" * 10_001}, ["body"]),
        ({"body": "   "}, ["body"]),
        ({"severity": "S9"}, ["severity"]),
        ({"author": "statuswatch"}, ["author"]),
        ({"title": 5}, ["title"]),
        (
            {"title": "", "impact": "huge", "components": {"nope": "down"}, "body": ""},
            ["title", "impact", "components.nope", "body"],
        ),
    ],
)
async def test_invalid_incidents_are_422_naming_each_field(api, change, fields):
    status, body = await api.post("/api/v1/incidents", {**NEW, **change})
    assert status == 422
    assert [e["field"] for e in body["errors"]] == fields
    assert all(e["message"] for e in body["errors"])
    assert (await api.get("/api/v1/incidents")) == (200, {"incidents": []})


@pytest.mark.parametrize(
    ("method", "url", "body", "fields"),
    [
        (
            "POST",
            "/api/v1/incidents",
            {**NEW, "bogus": 1, "colour": "red", "severity": 5, "impact": "huge", "body": ""},
            ["bogus", "colour", "severity", "impact", "body"],
        ),
        (
            "POST",
            "/api/v1/incidents",
            {"bogus": 1, "title": 5, "components": {"checkout": 3}},
            ["bogus", "title", "body", "components.checkout"],
        ),
        (
            "POST",
            "/api/v1/maintenance",
            {"bogus": 1, "title": "", "components": ["nope"], "kind": 3, "duration": "soon"},
            ["bogus", "kind", "duration", "title", "components[0]"],
        ),
    ],
)
async def test_one_422_names_every_bad_field_not_only_the_first(api, method, url, body, fields):
    status, answer = await api.call(method, url, body)
    assert status == 422, answer
    assert [e["field"] for e in answer["errors"]] == fields, answer
    assert (await api.get("/api/v1/incidents")) == (200, {"incidents": []})


async def test_an_edit_names_every_bad_field_too(api):
    _, inc = await api.post("/api/v1/incidents", NEW)
    url = f"/api/v1/incidents/{inc['id']}"
    status, answer = await api.patch(url, {"bogus": 1, "impact": 5, "postmortem": "Done."})
    assert status == 422
    assert [e["field"] for e in answer["errors"]] == ["bogus", "impact", "postmortem"]
    body = {"body": "x", "bogus": 1, "status": "nope", "components": {"nope": "major_outage"}}
    status, answer = await api.post(url + "/updates", body)
    assert status == 422
    assert [e["field"] for e in answer["errors"]] == ["bogus", "status", "components.nope"]
    assert (await api.get(url)) == (200, inc)


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"title": "Checkout\x00errors"}, ["title"]),
        ({"title": "\x1b[31mred\x07"}, ["title"]),
        ({"title": "Checkout\r\nBcc: x@example.com"}, ["title"]),
        ({"author": "ops\nroot"}, ["author"]),
        ({"body": "Looking\x00 into it."}, ["body"]),
        ({"title": "a\tb", "body": "\x1b"}, ["title", "body"]),
    ],
)
async def test_control_characters_are_422_naming_the_field(api, change, fields):
    status, body = await api.post("/api/v1/incidents", {**NEW, **change})
    assert status == 422
    assert [e["field"] for e in body["errors"]] == fields
    assert all("control characters" in e["message"] for e in body["errors"])


async def test_feeds_stay_well_formed_and_bodies_keep_their_line_breaks(api):
    body = "Line one.\r\n\n    indented\tcode"
    status, inc = await api.post("/api/v1/incidents", {**NEW, "body": body})
    assert status == 201 and inc["updates"][0]["body"] == body.strip()
    for bad in ("\x00", "\x1b", "\x07", "\ufffe"):
        status, _ = await api.patch(f"/api/v1/incidents/{inc['id']}", {"title": f"t{bad}"})
        assert status == 422
        status, _ = await api.post(f"/api/v1/incidents/{inc['id']}/updates", {"body": bad})
        assert status == 422
    for feed in ("/history.atom", "/history.rss"):
        async with api.client.get(feed) as resp:
            assert resp.status == 200
            ET.fromstring(await resp.read())  # raises on ill-formed XML


async def test_maintenance_titles_are_one_line(api):
    body = {"title": "DB\nupgrade", "components": ["api"], "duration": "1h"}
    status, answer = await api.post("/api/v1/maintenance", {**body, "description": "a\x07"})
    assert status == 422
    assert [e["field"] for e in answer["errors"]] == ["title", "description"]
    status, _ = await api.post(
        "/api/v1/maintenance", {**body, "title": "DB", "description": "a\nb"}
    )
    assert status == 201


async def test_what_the_schema_rejects_the_server_rejects_too(api):
    for change in ({"colour": "red"}, {"impact": "huge"}, {"title": ""}, {"body": "y" * 10_001}):
        assert request_errors("POST", "/api/v1/incidents", {**NEW, **change})
        assert (await api.post("/api/v1/incidents", {**NEW, **change}))[0] == 422


async def test_bad_json_and_bad_queries_are_422(api):
    async with api.client.post(
        "/api/v1/incidents", data=b"{nope", headers={"Authorization": f"Bearer {TOKEN}"}
    ) as resp:
        assert resp.status == 422
        assert (await resp.json())["errors"][0]["field"] == "$"
    status, body = await api.get("/api/v1/incidents?open=maybe&limit=0")
    assert status == 422 and [e["field"] for e in body["errors"]] == ["open", "limit"]


async def test_unknown_ids_are_404(api):
    for status, body in (
        await api.get("/api/v1/incidents/nope"),
        await api.patch("/api/v1/incidents/nope", {"title": "x"}),
        await api.post("/api/v1/incidents/nope/updates", {"body": "x"}),
        await api.get("/api/v1/maintenance/nope"),
        await api.patch("/api/v1/maintenance/nope", {"cancelled": True}),
    ):
        assert status == 404 and body["error"].endswith("not found")


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_without_the_token_nothing_changes(api, token):
    _, inc = await api.post("/api/v1/incidents", NEW)
    window = {"title": "DB", "components": ["api"], "duration": "1h"}
    _, win = await api.post("/api/v1/maintenance", window)
    before = [await api.get("/api/v1/incidents"), await api.get("/api/v1/maintenance")]
    url = f"/api/v1/incidents/{inc['id']}"
    for status, body in (
        await api.post("/api/v1/incidents", NEW, token=token),
        await api.patch(url, {"title": "hijacked"}, token=token),
        await api.post(url + "/updates", {"body": "hijacked"}, token=token),
        await api.get("/api/v1/incidents", token=token),
        await api.post("/api/v1/maintenance", window, token=token),
        await api.patch(f"/api/v1/maintenance/{win['id']}", {"cancelled": True}, token=token),
    ):
        assert status == 401 and body == {"error": "missing or invalid bearer token"}
    assert [await api.get("/api/v1/incidents"), await api.get("/api/v1/maintenance")] == before


@pytest.fixture
async def target(aiohttp_server):
    """A health endpoint that can be switched between 200 and 503."""
    state = {"ok": True}

    async def health(_request):
        return web.Response(status=200 if state["ok"] else 503)

    app = web.Application()
    app.router.add_get("/health", health)
    server = await aiohttp_server(app)
    server.state = state
    return server


async def test_an_operator_takes_over_the_automatic_incident(
    aiohttp_client, tmp_path, clock, target
):
    monitor = {
        "id": "checkout-health",
        "kind": "http",
        "component": "checkout",
        "url": str(target.make_url("/health")),
        "timeout": "2s",
    }
    api = await make_api(
        aiohttp_client, tmp_path, clock, [monitor], incidents={"quiet_period": "15m"}
    )
    monitoring, board = api.app[MONITORING], api.app[BOARD]

    async def step():
        clock.advance(60)
        await monitoring.run_one(monitoring.monitors["checkout-health"])
        board.tick()

    await step()
    target.state["ok"] = False
    await step()
    await step()
    auto = board.auto.current
    assert auto is not None and auto.auto
    status, inc = await api.post(
        f"/api/v1/incidents/{auto.id}/updates",
        {"status": "identified", "body": "A bad deploy; rolling back."},
    )
    assert status == 201 and inc["taken_over"] and inc["status"] == "identified"
    assert board.auto.current is auto and auto.taken_over  # the board's own object was edited
    target.state["ok"] = True
    for _ in range(30):  # recovered, and quiet far past the quiet period
        await step()
    _, inc = await api.get(f"/api/v1/incidents/{auto.id}")
    assert inc["status"] == "identified"  # statuswatch no longer resolves it on its own
    assert [u["author"] for u in inc["updates"]] == ["statuswatch", "operator", "statuswatch"]
    await api.post(f"/api/v1/incidents/{auto.id}/updates", {"status": "resolved", "body": "Ok."})
    assert board.auto.current is None
    await step()
    stored = await api.app[STORE].incident(auto.id)
    assert stored is not None and stored.status.value == "resolved" and stored.taken_over


def utc(seconds: float) -> str:
    """START + seconds as maintenance times are written (whole seconds)."""
    return iso_z(int(START + seconds))


async def test_a_window_follows_its_states_and_the_board(api, clock):
    board = api.app[BOARD]
    status, win = await api.post(
        "/api/v1/maintenance",
        {
            "title": "DB upgrade",
            "components": ["checkout"],
            "start": utc(3600),
            "duration": "2h",
            "description": "Primary failover.",
        },
    )
    assert status == 201
    assert (win["source"], win["kind"], win["state"], win["cancelled"]) == (
        "api",
        "scheduled",
        "scheduled",
        False,
    )
    assert (win["start"], win["end"], win["duration"]) == (utc(3600), None, "2h")
    assert win["occurrence"] == {"start": utc(3600), "end": utc(3 * 3600), "state": "scheduled"}
    assert board.status["checkout"].value == "operational"
    clock.advance(3600)
    board.tick()
    assert board.status["checkout"].value == "under_maintenance"
    _, listed = await api.get("/api/v1/maintenance")
    assert [(w["id"], w["state"]) for w in listed["maintenance"]] == [(win["id"], "in_progress")]
    assert [w.id for w in await api.app[STORE].maintenance()] == [win["id"]]


async def test_reschedule_extend_and_cancel(api, clock):
    board = api.app[BOARD]
    _, win = await api.post(
        "/api/v1/maintenance",
        {
            "id": "cdn-swap",
            "title": "CDN swap",
            "components": ["api"],
            "start": utc(600),
            "end": utc(1200),
        },
    )
    url = "/api/v1/maintenance/cdn-swap"
    status, win = await api.patch(url, {"start": utc(-60)})  # moved earlier: running now
    assert status == 200 and (win["start"], win["end"]) == (utc(-60), utc(540))  # same length
    assert win["state"] == "in_progress" and board.status["api"].value == "under_maintenance"
    _, win = await api.patch(url, {"end": utc(1800)})
    assert win["occurrence"]["end"] == utc(1800)
    _, win = await api.patch(url, {"duration": "1h"})
    assert (win["end"], win["duration"], win["occurrence"]["end"]) == (None, "1h", utc(3540))
    _, win = await api.patch(url, {"cancelled": True})
    assert (win["state"], win["occurrence"]["state"], win["cancelled"]) == (
        "cancelled",
        "cancelled",
        True,
    )
    assert board.status["api"].value == "operational"  # a cancelled window excuses nothing


async def test_an_emergency_window_opened_now_and_extended(api, clock):
    status, win = await api.post(
        "/api/v1/maintenance",
        {
            "title": "Emergency DB restart",
            "components": ["checkout", "api"],
            "kind": "emergency",
            "end": utc(1800),
        },
    )
    assert status == 201
    assert (win["kind"], win["start"], win["state"]) == ("emergency", utc(0), "in_progress")
    assert api.app[BOARD].status["checkout"].value == "under_maintenance"
    clock.advance(1700)
    _, win = await api.patch(f"/api/v1/maintenance/{win['id']}", {"end": utc(3600)})
    clock.advance(200)  # past the first end, inside the extension
    api.app[BOARD].tick()
    assert api.app[BOARD].status["checkout"].value == "under_maintenance"
    _, again = await api.get(f"/api/v1/maintenance/{win['id']}")
    assert again["state"] == "in_progress" and again["end"] == utc(3600)


async def test_changing_a_config_window_stores_an_override(aiohttp_client, tmp_path, clock):
    from datetime import UTC, datetime

    config_window = {
        "id": "weekly-db",
        "title": "Weekly DB",
        "components": ["checkout"],
        "start": datetime(2026, 1, 4, 2, 0),
        "duration": "2h",
        "rrule": "FREQ=WEEKLY;BYDAY=SU",
        "timezone": "America/New_York",
    }
    api = await make_api(aiohttp_client, tmp_path, clock, maintenance=[config_window])
    _, win = await api.get("/api/v1/maintenance/weekly-db")
    assert (win["source"], win["state"], win["rrule"]) == (
        "config",
        "scheduled",
        "FREQ=WEEKLY;BYDAY=SU",
    )
    # The next Sunday after 2026-10-26, 02:00 New York (EST from 1 November) is 07:00Z.
    assert win["occurrence"]["start"] == "2026-11-01T07:00:00Z"
    assert win["start"] == iso_z(int(datetime(2026, 1, 4, 7, 0, tzinfo=UTC).timestamp()))
    status, win = await api.patch("/api/v1/maintenance/weekly-db", {"duration": "3h"})
    assert status == 200 and win["source"] == "api" and win["duration"] == "3h"
    assert win["occurrence"] == {
        "start": "2026-11-01T07:00:00Z",
        "end": "2026-11-01T10:00:00Z",
        "state": "scheduled",
    }
    (stored,) = await api.app[STORE].maintenance()
    assert (stored.id, stored.duration, stored.rrule) == (
        "weekly-db",
        3 * 3600,
        "FREQ=WEEKLY;BYDAY=SU",
    )
    _, listed = await api.get("/api/v1/maintenance")
    assert [w["id"] for w in listed["maintenance"]] == ["weekly-db"]  # one window, overridden
    status, body = await api.patch("/api/v1/maintenance/weekly-db", {"end": utc(7200)})
    assert status == 422 and body["errors"][0]["field"] == "end"  # recurring: duration only


@pytest.mark.parametrize(
    ("window", "fields"),
    [
        ({"components": ["nope"]}, ["components[0]"]),
        ({"components": []}, ["components"]),
        ({"end": utc(-3600), "duration": None}, ["end"]),
        ({"start": "2026-11-01T02:00:00"}, ["start"]),
        ({"duration": "soon"}, ["duration"]),
        ({"duration": None}, ["duration"]),
        ({"timezone": "Mars/Olympus"}, ["timezone"]),
        ({"rrule": "FREQ=MINUTELY", "end": None}, ["rrule"]),
        ({"kind": "surprise"}, ["kind"]),
        ({"id": "Not An Id"}, ["id"]),
        ({"colour": "red"}, ["colour"]),
    ],
)
async def test_invalid_windows_are_422_naming_each_field(api, window, fields):
    body = {"title": "Upgrade", "components": ["api"], "start": utc(60), "duration": "1h", **window}
    status, answer = await api.post("/api/v1/maintenance", body)
    assert status == 422
    assert [e["field"] for e in answer["errors"]] == fields
    assert (await api.get("/api/v1/maintenance")) == (200, {"maintenance": []})


async def test_window_ids_are_unique_and_patches_are_checked(api):
    body = {"id": "upgrade", "title": "Upgrade", "components": ["api"], "duration": "1h"}
    assert (await api.post("/api/v1/maintenance", body))[0] == 201
    status, answer = await api.post("/api/v1/maintenance", body)
    assert status == 422 and answer["errors"][0]["field"] == "id"
    for patch, field in (
        ({}, "$"),
        ({"duration": "0s"}, "duration"),
        ({"end": "tomorrow"}, "end"),
        ({"title": "renamed"}, "title"),
    ):
        status, answer = await api.patch("/api/v1/maintenance/upgrade", patch)
        assert status == 422 and answer["errors"][0]["field"] == field, answer


async def test_a_bad_credits_period_is_400_even_without_customers(api):
    # The api fixture has no [[customers]]: the period is still checked, before anything else.
    for period in ("2026-13", "2026-00", "nope", ""):
        status, body = await api.get(f"/api/v1/credits?period={period}")
        assert status == 400 and body["field"] == "period", (period, body)
    assert (await api.get("/api/v1/credits?period=2026-10"))[0] == 200
