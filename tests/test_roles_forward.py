"""The web role hands every write to the monitor role over its real Unix socket, and the
answers keep their guarantees: committed when answered, identical for every address's state,
rate limits per stranger's address (never the one a stranger claims), 503 when nobody listens."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import pytest

from statuswatch.clock import FakeClock
from statuswatch.roles import forward
from statuswatch.roles.forward import CLIENT_HEADER, monitor_socket
from statuswatch.web.keys import MONITOR_LINK, NOTIFICATIONS, STORE
from tests.helpers.config import make_config
from tests.helpers.notify import ADMIN, CSRF, ENV, email_config, link_in
from tests.helpers.roles import Roles, short_dir, start_roles

AUTH = {"Authorization": f"Bearer {ADMIN}"}
BAD = {"Authorization": "Bearer not-the-token"}
ADMIN_BURST = 20  # the admin API's failed-token burst (web/app.py's AUTH_LIMITER)


@pytest.fixture
async def roles(aiohttp_client) -> AsyncIterator[Roles]:
    with short_dir() as where:
        running = await start_roles(aiohttp_client, make_config(where, []), FakeClock(), ENV)
        yield running
        await running.stop_monitor()


@pytest.fixture
async def mail_roles(aiohttp_client, smtp) -> AsyncIterator[Roles]:
    """Both roles with email subscriptions on; the test runs the monitor's sender itself."""
    with short_dir() as where:
        running = await start_roles(
            aiohttp_client, email_config(where, smtp.port), FakeClock(), ENV
        )
        notifications = running.monitor[NOTIFICATIONS]
        notifications.sender.random = lambda: 0.0
        notifications.task.cancel()
        yield running
        with contextlib.suppress(asyncio.CancelledError):
            await notifications.task
        await running.stop_monitor()


async def deliver(roles: Roles) -> None:
    """The monitor's sender rounds until nothing is due (what its task would do)."""
    await roles.monitor[STORE].flush()
    sender = roles.monitor[NOTIFICATIONS].sender
    while await sender.run_once():
        pass


async def test_an_admin_incident_through_a_web_worker_is_committed_when_it_answers(roles):
    web, store = roles.web, roles.web.app[STORE]
    created = await web.post(
        "/api/v1/incidents",
        json={
            "title": "Checkout errors",
            "body": "Looking.",
            "components": {"api": "major_outage"},
        },
        headers=AUTH,
    )
    assert created.status == 201, await created.text()
    incident_id = (await created.json())["id"]
    # Read at once from the web worker's own read-only connection: no flush, no wait.
    stored = await store.incident(incident_id)
    assert stored is not None and stored.title == "Checkout errors"

    patched = await web.patch(
        f"/api/v1/incidents/{incident_id}", json={"title": "Checkout slow"}, headers=AUTH
    )
    assert patched.status == 200, await patched.text()
    assert (await store.incident(incident_id)).title == "Checkout slow"

    update = await web.post(
        f"/api/v1/incidents/{incident_id}/updates",
        json={"body": "Fixed.", "status": "resolved"},
        headers=AUTH,
    )
    assert update.status == 201, await update.text()
    stored = await store.incident(incident_id)
    assert stored.status.value == "resolved" and stored.updates[-1].body == "Fixed."


async def test_subscribe_answers_are_byte_identical_through_a_web_worker(mail_roles, smtp):
    web = mail_roles.web

    async def api(address: str) -> tuple[int, str, bytes]:
        resp = await web.post("/api/v1/subscribers", json={"email": address})
        return resp.status, resp.content_type, await resp.read()

    await api("known@example.com")
    await deliver(mail_roles)
    (confirmation,) = smtp.mailbox.to("known@example.com")
    path = urlsplit(link_in(confirmation, "/subscriptions/confirm/")).path
    page = await web.get(path)
    assert page.status == 200
    done = await web.post(
        path, data={"csrf": CSRF.search(await page.text()).group(1), "action": "confirm"}
    )
    assert "You are subscribed" in await done.text()
    await api("pending@example.com")

    new, pending, confirmed = [
        await api(a) for a in ("new@example.com", "pending@example.com", "known@example.com")
    ]
    assert new == pending == confirmed
    assert new[0] == 202 and b"confirmation email is on its way" in new[2]


async def test_the_subscribe_form_is_served_by_the_worker_and_its_post_accepted(mail_roles, smtp):
    web = mail_roles.web
    await mail_roles.stop_monitor()
    form = await web.get("/subscribe")  # the page is the worker's own: no monitor needed
    assert form.status == 200, await form.text()
    csrf = CSRF.search(await form.text()).group(1)
    await mail_roles.start_monitor()
    mail_roles.monitor[NOTIFICATIONS].task.cancel()
    # The token the worker signed is one the monitor accepts (one form key, kept in the store).
    sent = await web.post("/subscribe", data={"csrf": csrf, "email": "form@example.com"})
    assert sent.status == 200, await sent.text()
    assert "confirmation email is on its way" in await sent.text()


async def test_failed_admin_tokens_are_limited_per_strangers_address(roles):
    web = roles.web
    for n in range(ADMIN_BURST):
        # Each claims to come from somewhere else: the worker replaces what a client says.
        spoof = {**BAD, CLIENT_HEADER.lower(): f"198.51.100.{n}"}
        resp = await web.post("/api/v1/incidents", json={}, headers=spoof)
        assert resp.status in (401, 429), await resp.text()
    limited = await web.post("/api/v1/incidents", json={}, headers=BAD)
    assert limited.status == 429, await limited.text()
    assert int(limited.headers["Retry-After"]) >= 1
    # Another stranger's address is not limited by the first one's misses.
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as other:
        url = web.make_url("/api/v1/incidents")
        async with other.post(url, json={}, headers=BAD) as resp:
            assert resp.status == 401, await resp.text()
        async with other.post(
            url,
            json={"title": "t", "body": "b", "components": {}},
            headers={**AUTH, CLIENT_HEADER: "127.0.0.1"},  # claiming the limited address
        ) as resp:
            assert resp.status == 201, await resp.text()


async def test_with_no_monitor_a_write_gets_503_and_retry_after(roles):
    await roles.stop_monitor()
    api = await roles.web.post("/api/v1/incidents", json={}, headers=AUTH)
    assert api.status == 503
    assert api.headers["Retry-After"] == "5"
    assert api.content_type == "application/json"
    assert "restarting" in (await api.json())["error"]
    page = await roles.web.post("/subscribe", data={"email": "x@example.com"})
    assert page.status == 503 and page.headers["Retry-After"] == "5"
    assert page.content_type == "text/plain"
    # Reads are the worker's own.
    assert (await roles.web.get("/")).status == 200


async def test_without_email_the_workers_subscribe_form_is_a_404_as_elsewhere(roles):
    assert (await roles.web.get("/subscribe")).status == 404


@contextlib.asynccontextmanager
async def hanging_monitor(roles: Roles) -> AsyncIterator[asyncio.Event]:
    """A monitor that accepts and does not answer until the event is set (then 200 "ok")."""
    release = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            await release.wait()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        writer.close()

    await roles.stop_monitor()
    server = await asyncio.start_unix_server(serve, str(monitor_socket(roles.config)))
    try:
        yield release
    finally:
        release.set()
        server.close()
        await server.wait_closed()


async def test_the_forwarders_bounds_answer_503_beyond_them(aiohttp_client, monkeypatch):
    monkeypatch.setattr(forward, "IN_FLIGHT", 1)
    monkeypatch.setattr(forward, "WAITING", 2)
    with short_dir() as where:
        roles = await start_roles(aiohttp_client, make_config(where, []), FakeClock(), ENV)
        async with hanging_monitor(roles) as release:
            calls = [
                asyncio.create_task(roles.web.post("/api/v1/incidents", json={}, headers=AUTH))
                for _ in range(2)
            ]
            link = roles.web.app[MONITOR_LINK]
            while link._waiting < 2:  # both reached the worker's forwarder (one in flight)
                await asyncio.sleep(0)
            third = await roles.web.post("/api/v1/incidents", json={}, headers=AUTH)
            assert third.status == 503, await third.text()
            assert third.headers["Retry-After"] == "5"
            assert "too many requests are waiting" in (await third.json())["error"]
            release.set()
            assert [r.status for r in await asyncio.gather(*calls)] == [200, 200]


async def test_a_monitor_that_does_not_answer_in_time_is_a_504(aiohttp_client, monkeypatch):
    monkeypatch.setattr(forward, "TIMEOUT", 0.2)
    with short_dir() as where:
        roles = await start_roles(aiohttp_client, make_config(where, []), FakeClock(), ENV)
        async with hanging_monitor(roles):
            resp = await roles.web.post("/api/v1/incidents", json={}, headers=AUTH)
            assert resp.status == 504
            assert "Retry-After" not in resp.headers  # it may have been done: check first
            assert "check before retrying" in (await resp.json())["error"]
