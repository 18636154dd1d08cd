"""Webhook subscribers: signed Statuspage-style JSON to a real HTTP receiver, same outbox."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from datetime import UTC, datetime

from aiohttp import web

from statuswatch.clock import FakeClock
from statuswatch.notify.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER
from statuswatch.store.outbox_reads import attempts
from statuswatch.web.keys import BOARD
from tests.helpers.config import make_config
from tests.helpers.notify import ENV, start_rig

START = 1_793_000_000.0


async def receiver(aiohttp_server, statuses: list[int]):
    """A webhook endpoint answering the scripted statuses (then 200), keeping what it got."""
    got: list[tuple[dict, bytes]] = []
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        got.append((dict(request.headers), await request.read()))
        arrived.set()
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = await aiohttp_server(app)
    server.arrived = arrived
    return server, got


def hook_config(tmp_path, url: str, **hook):
    return make_config(
        tmp_path,
        [],
        site={"base_url": "http://status.test", "admin_token_env": "TEST_ADMIN_TOKEN"},
        email={"poll_interval": "1h", "retry_base": "30s"},
        webhooks=[{"id": "sre-slack", "url": url, "secret_env": "HOOK_SECRET", **hook}],
    )


async def test_webhook_gets_signed_payload_and_is_retried(aiohttp_client, aiohttp_server, tmp_path):
    server, got = await receiver(aiohttp_server, [503])
    clock = FakeClock()
    config = hook_config(tmp_path, str(server.make_url("/hook")))
    rig = await start_rig(aiohttp_client, config, clock)
    incident = await rig.open_incident("Checkout errors")
    await rig.deliver()
    assert len(got) == 1  # answered 503: retried later
    clock.advance(15)
    await rig.deliver()
    assert len(got) == 2
    headers, body = got[1]
    assert headers["Idempotency-Key"] == got[0][0]["Idempotency-Key"]  # same message, again
    expected = hmac.new(
        ENV["HOOK_SECRET"].encode(),
        headers[TIMESTAMP_HEADER].encode() + b"." + body,
        hashlib.sha256,
    ).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert headers[TIMESTAMP_HEADER] == str(int(clock.time()))
    payload = json.loads(body)
    assert payload["incident"]["id"] == incident
    assert payload["incident"]["name"] == "Checkout errors"
    assert payload["incident"]["status"] == "investigating"
    assert payload["incident"]["components"] == [
        {"id": "checkout", "name": "Checkout <script>", "status": "major_outage"}
    ]
    assert payload["incident"]["incident_updates"][0]["body"].startswith("Checkout errors")
    outcomes = [(a.outcome, a.detail) for a in await rig.store.read_outbox(attempts)]
    assert outcomes == [("retry", "HTTP 503"), ("sent", "HTTP 200")]
    await rig.settle()


async def test_webhook_component_filter_and_permanent_refusal(
    aiohttp_client, aiohttp_server, tmp_path
):
    server, got = await receiver(aiohttp_server, [410])
    clock = FakeClock()
    config = hook_config(tmp_path, str(server.make_url("/hook")), components=["api"])
    rig = await start_rig(aiohttp_client, config, clock)
    await rig.open_incident("Checkout only")  # not the hook's component: nothing
    await rig.open_incident("API down", component="api")
    await rig.deliver()
    clock.advance(3600)
    await rig.deliver()
    assert len(got) == 1  # 410: given up, not retried
    assert json.loads(got[0][1])["incident"]["name"] == "API down"
    assert [a.outcome for a in await rig.store.read_outbox(attempts)] == ["failed"]
    await rig.settle()


async def test_sender_loop_runs_rounds_with_injected_sleep(
    aiohttp_client, aiohttp_server, tmp_path
):
    """run(): a round, then the injected sleep (no real waiting), then the next round."""
    server, got = await receiver(aiohttp_server, [])
    clock = FakeClock()
    rig = await start_rig(
        aiohttp_client, hook_config(tmp_path, str(server.make_url("/hook"))), clock
    )
    await rig.settle()
    naps: list[float] = []
    napping, resume = asyncio.Event(), asyncio.Event()

    async def sleep(seconds: float) -> None:
        naps.append(seconds)
        napping.set()
        await resume.wait()

    rig.sender.sleep = sleep
    loop_task = asyncio.create_task(rig.sender.run())
    await asyncio.wait_for(napping.wait(), 10)  # the first round found nothing and naps
    await rig.open_incident("Looped")
    assert got == []
    resume.set()  # the nap ends: the next round delivers
    await asyncio.wait_for(server.arrived.wait(), 10)
    loop_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loop_task
    assert naps and naps[0] == 3600  # the configured poll interval
    assert [json.loads(b)["incident"]["name"] for _, b in got] == ["Looped"]


async def test_webhook_without_its_secret_waits(aiohttp_client, aiohttp_server, tmp_path):
    server, got = await receiver(aiohttp_server, [])
    clock = FakeClock()
    config = hook_config(tmp_path, str(server.make_url("/hook")), secret_env="UNSET_SECRET")
    rig = await start_rig(aiohttp_client, config, clock)
    await rig.open_incident("Unsigned never")
    await rig.deliver()
    assert got == []  # never sent unsigned
    ((outcome, detail),) = [(a.outcome, a.detail) for a in await rig.store.read_outbox(attempts)]
    assert outcome == "retry" and "UNSET_SECRET" not in detail and "secret" in detail
    await rig.settle()


def same_instant(utc: str, local: str) -> bool:
    return datetime.fromisoformat(utc) == datetime.fromisoformat(local)


async def test_webhook_carries_the_v2_incident_object_in_utc(
    aiohttp_client, aiohttp_server, tmp_path
):
    """The payload is /api/v2's incident object: same keys and updates, times in UTC, and the
    components with the status the incident gave them."""
    server, got = await receiver(aiohttp_server, [])
    clock = FakeClock(START)
    config = hook_config(tmp_path, str(server.make_url("/hook")))
    rig = await start_rig(aiohttp_client, config, clock)
    incident = await rig.open_incident("Checkout errors")
    clock.advance(60)
    await rig.update_incident(incident, "Fixed.", "resolved")
    await rig.deliver()
    sent = json.loads(got[-1][1])["incident"]
    (listed,) = (await (await rig.client.get("/api/v2/incidents.json")).json())["incidents"]
    assert set(sent) == set(listed)
    assert [u["body"] for u in sent["incident_updates"]] == [
        "Fixed.",
        "Checkout errors: we are looking into it.",
    ]  # newest first, as Statuspage lists them
    times = ("created_at", "updated_at", "resolved_at", "started_at")
    for key in times:
        assert sent[key].endswith("Z") and same_instant(sent[key], listed[key])
    apart = {"components", "incident_updates", *times}
    assert {k: v for k, v in sent.items() if k not in apart} == {
        k: v for k, v in listed.items() if k not in apart
    }
    assert sent["components"] == [
        {"id": "checkout", "name": "Checkout <script>", "status": "major_outage"}
    ]
    await rig.settle()


async def test_maintenance_webhooks_use_the_v2_wording(aiohttp_client, aiohttp_server, tmp_path):
    """Scheduled, started, completed: the same update bodies /api/v2 lists for the occurrence."""
    server, got = await receiver(aiohttp_server, [])
    clock = FakeClock(START)
    config = hook_config(tmp_path, str(server.make_url("/hook")))
    rig = await start_rig(aiohttp_client, config, clock)
    window = {
        "id": "db",
        "title": "Database upgrade",
        "components": ["checkout"],
        "start": datetime.fromtimestamp(START + 3600, UTC).isoformat(),
        "duration": "30m",
        "description": "Checkout may be slow.",
    }
    resp = await rig.admin("POST", "/api/v1/maintenance", json=window)
    assert resp.status == 201, await resp.text()
    await rig.deliver()
    board = rig.client.app[BOARD]
    for seconds in (3600, 1800):
        clock.advance(seconds)
        board.tick()
        clock.advance(120)
        await rig.deliver()
    sent = [json.loads(body)["incident"] for _, body in got]
    assert [(m["status"], m["incident_updates"][0]["body"]) for m in sent] == [
        ("scheduled", "Checkout may be slow."),
        ("in_progress", "Maintenance is in progress."),
        ("completed", "Maintenance has completed."),
    ]
    assert sent[0]["scheduled_for"] == "2026-10-26T08:33:20.000Z"  # UTC, as before
    v2 = await (await rig.client.get("/api/v2/scheduled-maintenances.json")).json()
    (listed,) = v2["scheduled_maintenances"]
    assert set(sent[-1]) == set(listed)
    assert [u["body"] for u in listed["incident_updates"]] == [
        m["incident_updates"][0]["body"] for m in reversed(sent)
    ]
    await rig.settle()
