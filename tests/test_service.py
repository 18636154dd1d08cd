"""The running service: app factory, API auth, push, health, security headers, restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web

from statuswatch.clock import FakeClock
from statuswatch.probes.base import CheckResult
from statuswatch.store import Store
from statuswatch.web import create_app
from statuswatch.web.keys import MONITORING
from tests.helpers.config import make_config

TOKEN = "admin-secret-token-1234567890"
PUSH_TOKEN = "push-token-abcdefghijklmnop"
ENV = {"TEST_ADMIN_TOKEN": TOKEN, "JOB_TOKEN": PUSH_TOKEN}


def push_monitor(**kw) -> dict:
    return {
        "id": "job",
        "kind": "push",
        "component": "api",
        "token_env": "JOB_TOKEN",
        "interval": "1h",
        "grace": "5m",
        "confirm_failures": 1,
        **kw,
    }


@pytest.fixture
async def target(aiohttp_server):
    async def ok(_request):
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/health", ok)
    return await aiohttp_server(app)


@pytest.fixture
async def client(aiohttp_client, tmp_path, target):
    config = make_config(
        tmp_path,
        [
            {
                "id": "api-health",
                "kind": "http",
                "component": "api",
                "url": str(target.make_url("/health")),
                "interval": "1s",
                "timeout": "500ms",
            },
            push_monitor(),
        ],
    )
    return await aiohttp_client(create_app(config, environ=ENV))


async def test_index_lists_components_escaped_with_a_strict_csp(client):
    resp = await client.get("/")
    assert resp.status == 200
    html = await resp.text()
    assert "Storefront API" in html
    assert "Checkout &lt;script&gt;" in html and "<script>" not in html
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    css = await client.get("/static/style.css")
    assert css.status == 200


async def test_security_headers_on_errors_too(client):
    resp = await client.get("/no-such-page")
    assert resp.status == 404
    assert "Content-Security-Policy" in resp.headers


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer", TOKEN])
async def test_api_refuses_missing_or_wrong_tokens(client, header):
    headers = {"Authorization": header} if header else {}
    resp = await client.get("/api/v1/monitors", headers=headers)
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


async def test_api_lists_monitors_with_state_and_last_result(client):
    monitoring = client.app[MONITORING]
    for _ in range(50):  # the http monitor runs within its first 1 s interval
        if "api-health" in monitoring.snapshot().last:
            break
        await asyncio.sleep(0.05)
    resp = await client.get("/api/v1/monitors", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status == 200
    body = await resp.json()
    by_id = {m["id"]: m for m in body["monitors"]}
    api = by_id["api-health"]
    assert api["component"] == "api" and api["kind"] == "http" and api["state"] == "up"
    assert api["last_result"]["ok"] is True and api["last_result"]["status_code"] == 200
    assert api["last_result"]["time"].endswith("Z")
    assert by_id["job"]["state"] == "unknown" and by_id["job"]["last_result"] is None


async def test_push_records_results_and_unknown_tokens_change_nothing(client):
    resp = await client.get("/push/not-a-token")
    assert resp.status == 404
    resp = await client.post(f"/push/{PUSH_TOKEN}", data={"status": "down", "msg": "disk full"})
    assert resp.status == 200 and (await resp.json())["monitor"] == "job"
    monitoring = client.app[MONITORING]
    last = monitoring.snapshot().last["job"]
    assert (last.ok, last.error_class, last.message) == (False, "reported_down", "disk full")
    assert monitoring.states()["job"].value == "down"  # confirm_failures = 1
    resp = await client.get(f"/push/{PUSH_TOKEN}?msg=done")
    assert resp.status == 200
    assert monitoring.states()["job"].value == "up"
    resp = await client.get(f"/push/{PUSH_TOKEN}?status=sideways")
    assert resp.status == 400 and "status" in (await resp.json())["error"]


async def test_guessing_tokens_is_rate_limited(client):
    statuses = [(await client.get(f"/push/guess-{i}")).status for i in range(25)]
    assert statuses[:20] == [404] * 20
    assert statuses[-1] == 429
    assert (await client.get(f"/push/{PUSH_TOKEN}")).status == 429  # the right one too
    # Each route has its own bucket: the admin API still answers this address.
    resp = await client.get("/api/v1/monitors", headers={"Authorization": "Bearer nope"})
    assert resp.status == 401


async def test_healthz_reports_database_scheduler_and_monitors(client):
    resp = await client.get("/healthz")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok"
    assert body["database"]["writable"] is True
    assert body["monitors"]["total"] == 2
    assert set(body["scheduler"]) >= {"runs", "skipped", "in_flight", "lag_p99_seconds"}


async def test_admin_api_closed_when_no_token_is_configured(aiohttp_client, tmp_path):
    config = make_config(tmp_path, [push_monitor()])
    client = await aiohttp_client(create_app(config, environ={"JOB_TOKEN": PUSH_TOKEN}))
    resp = await client.get("/api/v1/monitors", headers={"Authorization": "Bearer "})
    assert resp.status == 401


async def test_silent_push_monitor_fails_after_interval_plus_grace(aiohttp_client, tmp_path):
    clock = FakeClock()
    config = make_config(tmp_path, [push_monitor()])
    client = await aiohttp_client(create_app(config, environ=ENV, clock=clock, probe=False))
    monitoring = client.app[MONITORING]
    job = monitoring.monitors["job"]
    clock.advance(3600 + 299)
    await monitoring.run_one(job)
    assert "job" not in monitoring.snapshot().last  # within interval + grace: nothing recorded
    clock.advance(2)
    await monitoring.run_one(job)
    assert monitoring.snapshot().last["job"].error_class == "missed_push"
    assert monitoring.states()["job"].value == "down"


async def test_restart_records_one_gap_and_no_duplicate_outage(aiohttp_client, tmp_path: Path):
    """Run, stop, wait, run again on the same database, with an injected clock."""
    clock = FakeClock()
    config = make_config(tmp_path, [push_monitor(interval="60s", grace="0s", timeout="5s")])

    async def run_once(outcomes: list[bool], step: float = 60) -> None:
        store = Store(config.storage.path, clock=clock)
        await store.start()
        client = await aiohttp_client(
            create_app(config, store=store, clock=clock, probe=False, environ=ENV)
        )
        monitoring = client.app[MONITORING]
        for ok in outcomes:
            clock.advance(step)
            monitoring.handle_result(
                monitoring.monitors["job"],
                CheckResult("job", clock.time(), ok, None, None, None if ok else "connect", "x"),
            )
        await client.close()  # runs the app's cleanup: stop, flush
        await store.close()

    await run_once([True, False, False])  # down, outage open at shutdown
    stopped_at = clock.time()
    clock.advance(3600)  # statuswatch is off for an hour
    restart_at = clock.time()
    await run_once([False, True])

    store = Store(config.storage.path, clock=clock)
    await store.start()
    try:
        gaps = await store.gaps("job")
        outages = await store.outages("job")
    finally:
        await store.close()
    assert [(g.start, g.end, g.reason) for g in gaps] == [(stopped_at, restart_at, "stopped")]
    assert [(o.start, o.end, o.end_reason) for o in outages] == [
        (stopped_at - 60, stopped_at, "stopped"),  # closed at the last evidence (the stop)
        (restart_at + 60, restart_at + 120, "recovered"),  # observed again after the restart
    ]


async def test_steady_passing_checks_write_no_snapshots_but_restart_knows_the_last_one(
    aiohttp_client, tmp_path
):
    """Only results are written while nothing changes; the gap after a crash still starts at
    the last stored result, not at the last snapshot."""
    clock = FakeClock()
    config = make_config(tmp_path, [push_monitor(interval="60s", grace="0s", timeout="5s")])
    store = Store(config.storage.path, clock=clock)
    await store.start()
    client = await aiohttp_client(
        create_app(config, store=store, clock=clock, probe=False, environ=ENV)
    )
    monitoring = client.app[MONITORING]
    job = monitoring.monitors["job"]
    submitted = []
    real_submit = store.submit
    store.submit = lambda item: (submitted.append(type(item).__name__), real_submit(item))[1]
    for _ in range(5):
        clock.advance(60)
        monitoring.handle_result(job, CheckResult("job", clock.time(), True))
    assert submitted.count("MonitorSnapshot") == 1  # the first result: unknown -> up
    assert submitted.count("CheckResult") == 5
    last_check = clock.time()
    await store.flush()
    del store.submit
    # A crash: no clean stop. The next start must see evidence up to the last result.
    snapshots = await store.monitor_snapshots()
    assert snapshots["job"].last_evidence < last_check
    clock.advance(3600)
    app = create_app(config, store=store, clock=clock, probe=False, environ=ENV)
    client2 = await aiohttp_client(app)
    await store.flush()
    gaps = await store.gaps("job")
    assert [(g.start, g.end) for g in gaps] == [(last_check, clock.time())]
    await client2.close()
    await client.close()
    await store.close()
