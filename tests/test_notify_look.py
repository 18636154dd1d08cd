"""Mail as people read it: the site's zone, a text part that stands alone, an HTML part that
looks like the status page in a real browser (Chromium), with nothing loaded from elsewhere."""

from __future__ import annotations

import re

import pytest

from statuswatch.clock import FakeClock
from tests.helpers.browser import ARTIFACTS
from tests.helpers.notify import email_config, html_part, start_rig, text_part

START = 1_793_000_000.0  # 2026-10-26T07:33:20Z: 08:33 in Berlin (CET, after the DST change)
SITE = {"timezone": "Europe/Berlin", "accent": "#8250df"}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


async def incident_mail(aiohttp_client, tmp_path, smtp):
    """One confirmed subscriber, one incident opened at START; its confirmation and message."""
    rig = await start_rig(
        aiohttp_client, email_config(tmp_path, smtp.port, site=SITE), FakeClock(START)
    )
    assert (await rig.subscribe("ann@example.com")).status == 202
    await rig.deliver()
    (confirmation,) = smtp.mailbox.messages
    await rig.follow_confirmation(confirmation)
    await rig.open_incident("Checkout is failing")
    await rig.deliver()
    await rig.settle()
    return confirmation, smtp.mailbox.messages[1]


async def test_times_are_local_and_the_text_part_reads_on_its_own(aiohttp_client, tmp_path, smtp):
    confirmation, mail = await incident_mail(aiohttp_client, tmp_path, smtp)
    text = text_part(mail).replace("\r\n", "\n")
    assert "Posted 26 Oct 2026 08:33 CET" in text
    assert "Investigating: Checkout is failing" in text
    assert "Components:\n  - Checkout <script>: major outage\n" in text
    assert re.search(r"View the incident: http://status\.test/incidents/\S+", text)
    assert "<" not in text.replace("<script>", "")  # no markup leaks into the text part
    assert not ISO_UTC.search(text), text
    assert "The link works until 29 Oct 2026 08:33 CET" in text_part(confirmation)
    html = html_part(mail)
    assert not ISO_UTC.search(html)
    assert "Checkout &lt;script&gt;" in html  # escaped, as on the page
    # Nothing to load: no sheets, scripts or remote images; every rule is inline.
    assert not re.search(r"<(link|script|img|style)\b", html)
    assert "color:#8250df" in html  # the site's accent


@pytest.mark.system
@pytest.mark.parametrize("width", [600, 360])
async def test_the_html_part_looks_like_the_site_in_chromium(
    aiohttp_client, tmp_path, smtp, browser, width
):
    _, mail = await incident_mail(aiohttp_client, tmp_path, smtp)
    context = await browser.new_context(viewport={"width": width, "height": 800})
    page = await context.new_page()
    fetched: list[str] = []

    async def refuse(route):  # a mail that loads anything would show broken in many clients
        fetched.append(route.request.url)
        await route.abort()

    await page.route("**/*", refuse)
    await page.set_content(html_part(mail))
    status = page.locator("p.status")
    assert (await status.inner_text()).strip() == "Investigating"
    assert await status.is_visible()
    style = "(e, p) => getComputedStyle(e)[p]"
    assert await status.evaluate(style, "backgroundColor") == "rgb(164, 14, 38)"  # major
    component = page.locator("td.component-status")
    assert await component.inner_text() == "major outage"
    assert await component.evaluate(style, "color") == "rgb(207, 34, 46)"
    header = page.locator("a", has_text="Test Status")
    assert await header.evaluate(style, "color") == "rgb(130, 80, 223)"  # the accent
    link = page.get_by_role("link", name="View the incident")
    assert await link.is_visible()
    assert await link.evaluate(style, "backgroundColor") == "rgb(130, 80, 223)"
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"mail-incident-{width}.png"), full_page=True)
    assert fetched == []
    await context.close()
