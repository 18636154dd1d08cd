"""Subscription bombing, enumeration, honeypot, and the admin API, against a real SMTP server."""

from __future__ import annotations

import asyncio
import csv
import io
from urllib.parse import urlsplit

from statuswatch.clock import FakeClock
from statuswatch.store.outbox_reads import subscribers
from tests.helpers.notify import CSRF, email_config, link_in, start_rig
from tests.helpers.openapi import check_exchange


async def _answers(rig, bodies: list[dict]) -> set[tuple[int, bytes]]:
    """POST each body (in concurrent chunks); return the distinct (status, body) answers."""
    seen: set[tuple[int, bytes]] = set()

    async def one(body: dict) -> None:
        resp = await rig.client.post("/api/v1/subscribers", json=body)
        seen.add((resp.status, await resp.read()))

    for start in range(0, len(bodies), 50):
        await asyncio.gather(*(one(b) for b in bodies[start : start + 50]))
    return seen


async def test_a_thousand_posts_for_one_address_send_one_confirmation(
    aiohttp_client, tmp_path, smtp
):
    clock = FakeClock()
    # A generous per-client limit, so this exercises the per-address one (1 per hour).
    config = email_config(tmp_path, smtp.port, ip_burst=5000)
    rig = await start_rig(aiohttp_client, config, clock)
    answers = await _answers(rig, [{"email": "victim@example.com"}] * 1000)
    assert len(answers) == 1
    ((status, body),) = answers
    assert status == 202 and b"confirmation email is on its way" in body
    await rig.deliver()
    assert len(smtp.mailbox.to("victim@example.com")) == 1
    # Within the hour: still one. After it: one more (the configured rate, not a lockout).
    clock.advance(3599)
    await _answers(rig, [{"email": "victim@example.com"}] * 10)
    await rig.deliver()
    assert len(smtp.mailbox.to("victim@example.com")) == 1
    clock.advance(1)
    await _answers(rig, [{"email": "Victim@Example.com"}])
    await rig.deliver()
    assert len(smtp.mailbox.to("victim@example.com")) == 2
    await rig.settle()


async def test_a_thousand_addresses_from_one_client_send_at_most_the_burst(
    aiohttp_client, tmp_path, smtp
):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port, ip_burst=10), clock)
    bodies = [{"email": f"user{n}@example.com"} for n in range(1000)]
    answers = await _answers(rig, bodies)
    assert len(answers) == 1 and next(iter(answers))[0] == 202
    await rig.deliver(rounds=50)
    assert len(smtp.mailbox.messages) == 10
    assert len(await rig.store.read_outbox(subscribers)) == 10
    await rig.settle()


async def test_answers_are_byte_identical_for_new_pending_and_confirmed(
    aiohttp_client, tmp_path, smtp
):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    await rig.confirmed(smtp.mailbox, "known@example.com")
    await rig.subscribe("pending@example.com")

    async def api(address: str) -> tuple[int, dict, bytes]:
        resp = await rig.client.post("/api/v1/subscribers", json={"email": address})
        return resp.status, resp.content_type, await resp.read()

    new, pending, confirmed = [
        await api(a) for a in ("new@example.com", "pending@example.com", "known@example.com")
    ]
    assert new == pending == confirmed

    async def form(address: str) -> tuple[int, bytes]:
        page = await (await rig.client.get("/subscribe")).text()
        data = {"csrf": CSRF.search(page).group(1), "email": address}
        resp = await rig.client.post("/subscribe", data=data)
        return resp.status, await resp.read()

    pages = {
        await form(a) for a in ("new2@example.com", "pending@example.com", "known@example.com")
    }
    assert len(pages) == 1
    # The confirmed subscriber got nothing from all this.
    await rig.deliver()
    assert smtp.mailbox.to("known@example.com") == []
    await rig.settle()


async def test_honeypot_gets_the_same_answer_and_nothing_else(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    page = await (await rig.client.get("/subscribe")).text()
    csrf = CSRF.search(page).group(1)
    human = await rig.client.post("/subscribe", data={"csrf": csrf, "email": "a@example.com"})
    bot = await rig.client.post(
        "/subscribe", data={"csrf": csrf, "email": "b@example.com", "website": "http://spam"}
    )
    assert (human.status, await human.read()) == (bot.status, await bot.read())
    await rig.deliver()
    assert [m["To"] for m in smtp.mailbox.messages] == ["a@example.com"]
    await rig.settle()


async def test_admin_lists_exports_and_removes(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    await rig.confirmed(smtp.mailbox, "ann@example.com", components=["api"])
    await rig.subscribe("=cmd@example.com")
    assert (await rig.client.get("/api/v1/subscribers")).status == 401
    assert (await rig.client.get("/api/v1/subscribers.csv")).status == 401
    listing = await rig.admin("GET", "/api/v1/subscribers")
    body = await listing.json()
    check_exchange("GET", "/api/v1/subscribers", None, listing.status, body)
    listed = body["subscribers"]
    assert [(s["address"], s["state"], s["components"]) for s in listed] == [
        ("ann@example.com", "confirmed", ["api"]),
        ("=cmd@example.com", "pending", None),
    ]
    export = await rig.admin("GET", "/api/v1/subscribers.csv")
    assert export.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await export.text())))
    assert [(r["address"], r["components"]) for r in rows] == [
        ("ann@example.com", "api"),
        ("'=cmd@example.com", "*"),  # no formula injection into a spreadsheet
    ]
    ann = listed[0]["id"]
    assert (await rig.admin("DELETE", f"/api/v1/subscribers/{ann}")).status == 204
    gone = await rig.admin("DELETE", f"/api/v1/subscribers/{ann}")
    check_exchange("DELETE", f"/api/v1/subscribers/{ann}", None, gone.status, await gone.json())
    # The public side, against the same document.
    for sent in ({"email": "new@example.com"}, {"email": "not an address"}):
        resp = await rig.client.post("/api/v1/subscribers", json=sent)
        check_exchange("POST", "/api/v1/subscribers", sent, resp.status, await resp.json())
    await rig.store.flush()
    assert [s.address for s in await rig.store.read_outbox(subscribers)] == [
        "=cmd@example.com",
        "new@example.com",
    ]
    await rig.settle()


async def test_a_bad_subscribe_body_names_every_bad_field(aiohttp_client, tmp_path, smtp):
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), FakeClock())
    body = {"email": "x@example.com", "a": 1, "components": "api", "b": 2}
    resp = await rig.client.post("/api/v1/subscribers", json=body)
    assert resp.status == 422
    fields = [e["field"] for e in (await resp.json())["errors"]]
    assert fields == ["a", "b", "components"]


async def test_a_limited_address_cannot_use_even_its_real_link(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    assert (await rig.client.post("/api/v1/subscribers", json={"email": "a@example.com"})).status
    await rig.deliver()
    path = urlsplit(link_in(smtp.mailbox.to("a@example.com")[-1], "/subscriptions/confirm/")).path
    assert (await rig.client.get(path)).status == 200
    guesses = [(await rig.client.get(f"/subscriptions/confirm/guess{i}")).status for i in range(21)]
    assert guesses[:20] == [404] * 20 and guesses[-1] == 429
    assert (await rig.client.get(path)).status == 429  # the real link too, until a refill
    clock.advance(2)
    assert (await rig.client.get(path)).status == 200
