"""The whole subscription flow through HTTP, with mail delivered to a real SMTP server."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp

from statuswatch.clock import FakeClock, utc
from statuswatch.store.outbox_reads import attempts, subscribers, token_count
from tests.helpers.notify import (
    CSRF,
    email_config,
    html_part,
    link_in,
    start_rig,
    text_part,
)


async def test_subscribe_confirm_notify_one_click_unsubscribe(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    mailbox = smtp.mailbox

    # Every page's footer links to the form; then a subscription through it.
    home = await (await rig.client.get("/")).text()
    assert '<a href="/subscribe">Subscribe to updates</a>' in home
    form = await rig.client.get("/subscribe")
    page = await form.text()
    assert form.status == 200 and 'action="/subscribe"' in page
    assert "Checkout &lt;script&gt;" in page  # component names are escaped
    csrf = CSRF.search(page).group(1)
    done = await rig.client.post(
        "/subscribe", data={"csrf": csrf, "email": "Alice@Example.com", "website": ""}
    )
    assert done.status == 200 and "Check your inbox" in await done.text()

    # Exactly one message: the confirmation. Nothing else until it is confirmed.
    await rig.deliver()
    (confirmation,) = mailbox.messages
    assert confirmation["To"] == "alice@example.com"
    assert "Confirm your subscription" in confirmation["Subject"]
    confirm_link = link_in(confirmation, "/subscriptions/confirm/")
    assert confirm_link in html_part(confirmation)
    # Even the confirmation can be refused with one click.
    assert confirmation["List-Unsubscribe"].startswith("<http://status.test/unsubscribe/")
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    await rig.open_incident("Before confirming")
    await rig.deliver()
    assert len(mailbox.messages) == 1

    # Following the link shows a button and changes nothing; pressing it confirms.
    path = urlsplit(confirm_link).path
    page = await (await rig.client.get(path)).text()
    assert "Confirm my subscription" in page
    subs = await rig.store.read_outbox(subscribers)
    assert [s.state for s in subs] == ["pending"]
    assert "You are subscribed" in await rig.follow_confirmation(confirmation)
    assert [s.state for s in await rig.store.read_outbox(subscribers)] == ["confirmed"]
    # The token was single use.
    assert (await rig.client.get(path)).status == 404

    # An incident opens: one email, both parts, the right headers.
    mailbox.messages.clear()
    clock.advance(60)
    incident_id = await rig.open_incident("Checkout is failing")
    await rig.deliver()
    (mail,) = mailbox.messages
    assert mail["From"] == "Example Status <status@example.com>"
    assert mail["To"] == "alice@example.com"
    assert parsedate_to_datetime(mail["Date"]) == utc(int(clock.time()))
    assert re.fullmatch(r"<[0-9a-f]{32}@status\.test>", mail["Message-ID"])
    assert mail["Subject"] == (
        "[Test Status] Investigating: Checkout is failing (Checkout <script>: major outage)"
    )
    assert mail.get_content_type() == "multipart/alternative"
    assert "Checkout is failing: we are looking into it." in text_part(mail)
    assert f"http://status.test/incidents/{incident_id}" in text_part(mail)
    html = html_part(mail)
    assert "Checkout &lt;script&gt;" in html and "<script>" not in html
    unsubscribe = link_in(mail, "/unsubscribe/")
    assert mail["List-Unsubscribe"] == (
        f"<{unsubscribe}>, <mailto:status@example.com?subject=unsubscribe>"
    )
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link_in(mail, "/subscriptions/") in html  # the manage link

    # A mail scanner following the link unsubscribes nobody.
    scanned = await rig.client.get(urlsplit(unsubscribe).path)
    assert scanned.status == 200 and "Press the button" in await scanned.text()
    assert [s.state for s in await rig.store.read_outbox(subscribers)] == ["confirmed"]

    # RFC 8058 one-click: a POST with no cookies and no CSRF token.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare:
        url = str(rig.client.make_url(urlsplit(unsubscribe).path))
        async with bare.post(url, data={"List-Unsubscribe": "One-Click"}) as resp:
            assert resp.status == 200
            assert "You are unsubscribed" in await resp.text()
    assert [s.state for s in await rig.store.read_outbox(subscribers)] == ["unsubscribed"]

    # No more mail afterwards.
    clock.advance(600)
    await rig.update_incident(incident_id, "Fixed.", "resolved")
    await rig.open_incident("Another one", component="api")
    await rig.deliver()
    assert len(mailbox.messages) == 1
    outcomes = [a.outcome for a in await rig.store.read_outbox(attempts)]
    assert outcomes == ["sent", "sent"]  # the confirmation and the one incident email
    await rig.settle()


async def test_manage_page_changes_components(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    mailbox = smtp.mailbox
    await rig.confirmed(mailbox, "bob@example.com")
    await rig.open_incident("API slow", component="api", status="degraded_performance")
    await rig.deliver()
    (mail,) = mailbox.messages
    manage = urlsplit(link_in(mail, "/subscriptions/")).path
    page = await (await rig.client.get(manage)).text()
    assert "bob@example.com" in page and "Save my choice" in page
    csrf = CSRF.search(page).group(1)
    # Without the form's token nothing changes.
    assert (await rig.client.post(manage, data={"components": "api"})).status == 400
    saved = await rig.client.post(
        manage, data={"csrf": csrf, "action": "save", "components": "api"}
    )
    assert saved.status == 200 and "saved" in await saved.text()
    (sub,) = await rig.store.read_outbox(subscribers)
    assert sub.components == ("api",)

    # Only the chosen component's incidents reach bob.
    mailbox.messages.clear()
    clock.advance(60)
    await rig.open_incident("Checkout down", component="checkout")
    await rig.open_incident("API down", component="api")
    await rig.deliver()
    assert [m["Subject"].split(": ")[1] for m in mailbox.messages] == ["API down (Storefront API"]
    await rig.settle()


async def test_bad_csrf_and_bad_input_are_refused_clearly(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    no_token = await rig.client.post("/subscribe", data={"email": "eve@example.com"})
    assert no_token.status == 400 and "expired" in await no_token.text()
    forged = await rig.client.post(
        "/subscribe", data={"email": "eve@example.com", "csrf": "1790000000.00"}
    )
    assert forged.status == 400
    # Header injection is impossible: one address, one line.
    resp = await rig.subscribe("eve@example.com\r\nBcc: all@example.com")
    assert resp.status == 422
    body = await resp.json()
    assert body["errors"][0]["field"] == "email"
    assert (await rig.subscribe("a@example.com, b@example.com")).status == 422
    assert (await rig.subscribe("x" * 250 + "@example.com")).status == 422
    unknown = await rig.subscribe("eve@example.com", components=["nope"])
    assert (await unknown.json())["errors"][0]["field"] == "components"
    # JSON only on the API (a cross-site form cannot post it).
    form_post = await rig.client.post("/api/v1/subscribers", data={"email": "eve@example.com"})
    assert form_post.status == 415
    await rig.deliver()
    assert smtp.mailbox.messages == []
    assert await rig.store.read_outbox(subscribers) == []
    await rig.settle()


async def test_subscriptions_off_by_default(aiohttp_client, tmp_path):
    from statuswatch.web import create_app
    from tests.helpers.config import make_config

    app = create_app(make_config(tmp_path, []), clock=FakeClock(), probe=False, environ={})
    client = await aiohttp_client(app)
    assert "/subscribe" not in await (await client.get("/")).text()
    assert (await client.get("/subscribe")).status == 404
    assert (await client.post("/api/v1/subscribers", json={"email": "a@example.com"})).status == 404


async def test_links_expire(aiohttp_client, tmp_path, smtp):
    from statuswatch.notify.sender import LINK_TTL

    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    # A confirmation link works for confirm_ttl (72 h), not a second longer.
    assert (await rig.subscribe("late@example.com")).status == 202
    await rig.deliver()
    path = urlsplit(link_in(smtp.mailbox.messages[-1], "/subscriptions/confirm/")).path
    clock.advance(72 * 3600 - 1)
    assert (await rig.client.get(path)).status == 200
    clock.advance(1)
    assert (await rig.client.get(path)).status == 404

    # Manage and unsubscribe links live for LINK_TTL; then the tokens are pruned.
    await rig.confirmed(smtp.mailbox, "ann@example.com")
    await rig.open_incident("Old news")
    await rig.deliver()
    unsubscribe = urlsplit(link_in(smtp.mailbox.to("ann@example.com")[-1], "/unsubscribe/")).path
    clock.advance(LINK_TTL - 10)
    assert (await rig.client.get(unsubscribe)).status == 200
    clock.advance(10)
    kept = await rig.store.read_outbox(token_count)
    await rig.deliver()  # the sender's hourly prune
    assert (await rig.client.get(unsubscribe)).status == 404
    await rig.store.flush()
    # Everything minted back then (confirmations' and the incident mail's links) is gone.
    assert kept == 4 and await rig.store.read_outbox(token_count) == 0
    await rig.settle()


async def test_one_click_on_the_confirmation_cancels_the_request(aiohttp_client, tmp_path, smtp):
    clock = FakeClock()
    rig = await start_rig(aiohttp_client, email_config(tmp_path, smtp.port), clock)
    assert (await rig.subscribe("notme@example.com")).status == 202
    await rig.deliver()
    (confirmation,) = smtp.mailbox.messages
    unsubscribe = urlsplit(confirmation["List-Unsubscribe"].split(">")[0][1:]).path
    resp = await rig.client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert resp.status == 200
    # The confirmation link is dead, and nothing is ever sent to the address.
    confirm = urlsplit(link_in(confirmation, "/subscriptions/confirm/")).path
    assert (await rig.client.get(confirm)).status == 404
    await rig.open_incident("Nobody hears this")
    await rig.deliver()
    assert len(smtp.mailbox.messages) == 1
    (sub,) = await rig.store.read_outbox(subscribers)
    assert sub.state == "unsubscribed"
    await rig.settle()
