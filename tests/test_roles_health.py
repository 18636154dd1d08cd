"""/healthz in each role, and /metrics of a web worker relaying the monitor's exposition.

The monitor role here publishes once at its start and then stays quiet (its look-every is an
hour): a monitor that stopped beating, while the injected clock runs on."""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator

import aiohttp
import pytest

from statuswatch.clock import FakeClock, iso
from statuswatch.roles import publisher
from statuswatch.roles.forward import monitor_socket
from statuswatch.roles.published import STALE_AFTER
from statuswatch.web import create_app
from tests.helpers.config import make_config
from tests.helpers.notify import ENV
from tests.helpers.openapi import check_exchange
from tests.helpers.roles import Roles, short_dir, start_roles
from tests.helpers.system import require_tool

METRICS_TOKEN = "metrics-token-for-tests-0123456789"
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
async def roles(aiohttp_client, monkeypatch) -> AsyncIterator[Roles]:
    monkeypatch.setattr(publisher, "LOOK_EVERY", 3600.0)  # one publication, at the start
    with short_dir() as where:
        config = make_config(where, [], metrics={"token_env": "TEST_METRICS_TOKEN"})
        env = {**ENV, "TEST_METRICS_TOKEN": METRICS_TOKEN}
        running = await start_roles(aiohttp_client, config, FakeClock(), env)
        await running.follow()
        yield running
        await running.stop_monitor()


async def health(client, query: str = "") -> tuple[int, dict]:
    """GET /healthz (its answer checked against the OpenAPI document)."""
    resp = await client.get("/healthz" + query)
    body = await resp.json()
    check_exchange("GET", "/healthz", None, resp.status, body)
    return resp.status, body


async def test_one_process_reports_both_roles(aiohttp_client, tmp_path):
    app = create_app(make_config(tmp_path, []), clock=FakeClock(), probe=False, environ={})
    status, body = await health(await aiohttp_client(app))
    assert status == 200, body
    assert set(body["roles"]) == {"monitor", "web"}
    assert body["roles"]["monitor"]["status"] == "ok"


async def test_the_monitor_role_reports_itself_on_its_socket(roles):
    connector = aiohttp.UnixConnector(str(monitor_socket(roles.config)))
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get("http://monitor/healthz") as resp:
            status, body = resp.status, await resp.json()
    assert status == 200, body
    assert set(body["roles"]) == {"monitor"}


async def test_a_web_worker_reports_the_monitors_heartbeat_and_its_age(roles):
    started = roles.clock.time()
    status, body = await health(roles.web)
    assert status == 200, body
    monitor = body["roles"]["monitor"]
    assert monitor["status"] == "ok"
    assert monitor["as_of"] == iso(started) and monitor["age_seconds"] == 0.0
    assert body["roles"]["web"]["status"] == "ok"
    assert body["monitors"] == {"total": 0}  # the monitor's own figures, as it published them
    roles.clock.advance(2.5)
    status, body = await health(roles.web)
    assert status == 200 and body["roles"]["monitor"]["age_seconds"] == 2.5, body
    assert body["roles"]["monitor"]["as_of"] == iso(started)


async def test_a_quiet_monitor_is_not_reporting_and_the_worker_still_healthy(roles):
    roles.clock.advance(STALE_AFTER + 0.5)
    await roles.follow()
    status, body = await health(roles.web)
    assert status == 503, body
    assert body["status"] == "failing"
    assert body["roles"]["monitor"]["status"] == "not reporting"
    assert body["roles"]["monitor"]["age_seconds"] == STALE_AFTER + 0.5
    status, body = await health(roles.web, "?role=web")
    assert status == 200, body
    assert set(body["roles"]) == {"web"} and body["roles"]["web"]["status"] == "ok"


async def test_a_stopped_monitor_is_stopped_at_once(roles):
    await roles.stop_monitor()  # it publishes that it is stopping as it goes
    await roles.follow()
    status, body = await health(roles.web)
    assert status == 503, body
    assert body["roles"]["monitor"]["status"] == "stopped"
    assert body["roles"]["monitor"]["age_seconds"] == 0.0
    assert (await health(roles.web, "?role=web"))[0] == 200


def promtool_check(text: str) -> None:
    out = subprocess.run(
        [require_tool("promtool"), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (out.returncode, out.stdout + out.stderr) == (0, "")


@pytest.mark.system
async def test_a_workers_metrics_are_the_monitors_behind_the_workers_token_check(roles):
    web = roles.web
    refused = await web.get("/metrics")
    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    resp = await web.get("/metrics", headers={**METRICS_AUTH, "Accept-Encoding": "identity"})
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "text/plain"
    text = await resp.text()
    # The monitor's figures (its writer), not the worker's read-only store's.
    assert re.search(r"^statuswatch_db_writable 1\.0$", text, re.M), text[:2000]
    promtool_check(text)
    # One fetch a second is shared: within it the worker answers from what it fetched, even
    # with the monitor gone; after it, the monitor is asked again (and is not there).
    await roles.stop_monitor()
    again = await web.get("/metrics", headers={**METRICS_AUTH, "Accept-Encoding": "identity"})
    assert again.status == 200 and await again.text() == text
    assert (await web.get("/metrics")).status == 401  # the token is checked in the worker
    roles.clock.advance(1.1)
    gone = await web.get("/metrics", headers={**METRICS_AUTH, "Accept-Encoding": "identity"})
    assert gone.status == 503 and gone.headers["Retry-After"] == "5"
