"""The agents' API in process (injected clock): shares, take-over, lag and skew, the document.

The process tests (test_agent.py) run real agents; these pin the rules exactly, with time
moved by hand: who probes what, when a silent agent loses its share, what lag and skew say.
"""

from __future__ import annotations

import sqlite3

import pytest

from statuswatch.agent.registry import AgentRegistry, owner
from statuswatch.clock import FakeClock
from statuswatch.probes.base import CheckResult
from statuswatch.store import Store
from statuswatch.web import create_app
from tests.helpers.config import lab_config
from tests.helpers.openapi import CheckedClient

ADMIN = "agent-api-admin-token-0123456789"
LAB = "agent-api-lab-token-0123456789ab"
MONITORS = [
    {"id": f"m{i}", "kind": "http", "component": "api", "url": f"http://127.0.0.1:9/{i}"}
    for i in range(12)
] + [{"id": "pushed", "kind": "push", "component": "api", "token_env": "NONE"}]


@pytest.fixture
async def api(aiohttp_client, tmp_path):
    config = lab_config(tmp_path, MONITORS)
    clock = FakeClock()
    app = create_app(
        config, clock=clock, probe=False, environ={"TEST_ADMIN_TOKEN": ADMIN, "LAB_TOKEN": LAB}
    )
    client = CheckedClient(await aiohttp_client(app), LAB)
    client.clock = clock  # type: ignore[attr-defined]
    return client


async def poll(api: CheckedClient, agent: str) -> set[str]:
    status, body = await api.get(f"/api/v1/agent/monitors?agent={agent}&poll=1")
    assert status == 200 and body["location"] == "lab" and body["agent"] == agent
    return {m["id"] for m in body["monitors"]}


async def test_agents_of_a_location_share_it_and_a_silent_one_loses_its_share(api):
    alone = await poll(api, "a1")
    assert alone == {f"m{i}" for i in range(12)}  # push monitors are never handed out
    two = await poll(api, "a2")
    one = await poll(api, "a1")
    assert one and two and not one & two and one | two == alone
    api.clock.advance(2.0)  # within a2's 2.5 polls of 1 s: it still has its share
    assert await poll(api, "a1") == one
    api.clock.advance(0.6)
    assert await poll(api, "a1") == alone  # a2 silent past its TTL: a1 takes everything
    assert (await api.get("/api/v1/agent/monitors?agent=a1", token="wrong"))[0] == 401


def test_a_third_agent_takes_only_its_own_share():
    clock = FakeClock()
    registry = AgentRegistry(clock)
    ids = [f"m{i}" for i in range(200)]
    for agent in ("a", "b"):
        registry.heard("lab", agent)
    before = {m: owner(["a", "b"], m) for m in ids}
    registry.heard("lab", "c")
    moved = {m for m in ids if owner(registry.live("lab"), m) != before[m]}
    assert moved and all(owner(["a", "b", "c"], m) == "c" for m in moved)
    assert set(registry.share("lab", "c", ids)) == moved


async def test_uploads_count_duplicates_and_locations_show_lag_and_skew(api):
    now = api.clock.time()
    results = [
        {"monitor": "m1", "time": now - 10, "ok": True, "latency": 0.01, "phases": {"tls": 0.1}},
        {"monitor": "m2", "time": now - 12, "ok": False, "error_class": "connect"},
    ]
    body = {"location": "lab", "agent": "a1", "sent_at": now - 2, "results": results}
    assert await api.post("/api/v1/agent/results", body) == (
        200,
        {"accepted": 2, "duplicates": 0},
    )
    assert await api.post("/api/v1/agent/results", body) == (
        200,
        {"accepted": 0, "duplicates": 2},
    )
    twice = {**body, "results": [results[0], results[0]]}  # one batch holding one result twice
    assert (await api.post("/api/v1/agent/results", twice))[1] == {"accepted": 0, "duplicates": 2}
    status, listed = await api.get("/api/v1/locations", token=ADMIN)
    assert status == 200
    (lab,) = listed["locations"]
    assert lab["id"] == "lab" and lab["name"] == "Lab"
    (agent,) = lab["agents"]
    assert agent["id"] == "a1" and agent["lag_seconds"] == 10 and agent["skew_seconds"] == 2
    assert (await api.get("/api/v1/locations", token=LAB))[0] == 401
    status, errors = await api.post(
        "/api/v1/agent/results", {**body, "results": [{**results[0], "monitor": "pushed"}]}
    )
    assert status == 422 and errors["errors"][0]["field"] == "results[0].monitor"
    assert "not probed" in errors["errors"][0]["message"]


async def test_the_store_keeps_one_check_per_monitor_location_and_time(tmp_path):
    store = Store(tmp_path / "sw.db")
    await store.start()
    try:
        for location in ("local", "lab", "lab"):
            store.submit(CheckResult("m", 100.0, True, 0.1, location=location))
        await store.flush()
        assert await store.stored_checks("lab", [("m", 100.0), ("m", 101.0)]) == {("m", 100.0)}
    finally:
        await store.close()
    db = sqlite3.connect(tmp_path / "sw.db")
    rows = db.execute("SELECT location, time FROM checks ORDER BY location").fetchall()
    assert rows == [("lab", 100.0), ("local", 100.0)]


def test_the_migration_keeps_existing_checks_as_local_and_once(tmp_path):
    from statuswatch.store.schema import MIGRATIONS, connect, migrate

    db = connect(tmp_path / "old.db", busy_timeout=1.0)
    migrate(db, MIGRATIONS[:8])  # the schema before checks had a location
    db.execute("INSERT INTO monitors (key, id) VALUES (1, 'm')")
    for _ in range(2):  # the same check twice (nothing stopped it then)
        db.execute("INSERT INTO checks (monitor, time, ok) VALUES (1, 100.0, 1)")
    migrate(db)
    assert db.execute("SELECT location, time FROM checks").fetchall() == [("local", 100.0)]
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO checks (monitor, time, ok) VALUES (1, 100.0, 1)")
    db.close()
