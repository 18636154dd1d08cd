"""The status page in a real browser: Playwright driving Debian's chromium (never a download).

A real statuswatch app (aiohttp test server, seeded database: an outage, maintenance, incidents)
is loaded in light and dark mode; the banner, a component's status text and a bar cell's
accessible name must be visible, with no console error and no CSP violation. Screenshots go to
tests/artifacts/ (gitignored); `STATUSWATCH_SCREENSHOTS=docs/screenshots` also refreshes the
ones the README shows.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from statuswatch.web import create_app
from tests.helpers.browser import ARTIFACTS
from tests.helpers.site_seed import clock, seeded_store, site_config
from tests.helpers.system import ROOT

pytestmark = pytest.mark.system
NW_TOKEN = "northwind-browser-token-0123456789"
# Collects what the page reports; a listener added before any script of ours could run.
CSP_LISTENER = """document.addEventListener('securitypolicyviolation', e => {
  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI); });"""


@pytest.fixture
async def server(tmp_path, aiohttp_server):
    config = site_config(tmp_path, cache_ttl="2s", logo_url="/static/favicon.svg")
    store = await seeded_store(config)
    srv = await aiohttp_server(
        create_app(config, store=store, clock=clock(), probe=False, environ={"NW_TOKEN": NW_TOKEN})
    )
    yield srv
    await srv.close()
    await store.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_status_page_in_chromium(server, browser, scheme):
    context = await browser.new_context(
        color_scheme=scheme, viewport={"width": 1024, "height": 900}
    )
    await context.add_init_script(CSP_LISTENER)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # A load cut short by our own next navigation (the favicon, typically) is ERR_ABORTED: not
    # a fault of the page. Anything else that fails to load is.
    page.on(
        "requestfailed",
        lambda req: (
            problems.append(f"failed: {req.url} {req.failure}")
            if req.failure != "net::ERR_ABORTED"
            else None
        ),
    )
    page.on(
        "response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None
    )
    resp = await page.goto(str(server.make_url("/")))
    assert resp is not None and resp.status == 200

    banner = page.locator("#banner-text")
    await banner.wait_for(state="visible")
    assert (await banner.inner_text()).strip().endswith("Major outage")
    assert await page.locator("header.site .brand img").is_visible()  # the configured logo
    api = page.locator("#c-api")
    assert await api.locator(".status").inner_text() == "✕ Major outage"
    assert await api.locator(".status").is_visible()
    # The bar cell's tooltip is also its accessible name, as the browser computes it.
    cell = page.get_by_role(
        "img", name="2026-11-10: 93.055% available, 100 min down; incidents: API errors"
    )
    await cell.wait_for(state="visible")
    assert await cell.get_attribute("title") == (
        "2026-11-10: 93.055% available, 100 min down; incidents: API errors"
    )
    assert "day-major" in (await cell.get_attribute("class") or "")
    # The theme follows the emulated preference (colours from style.css and /theme.css).
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(13, 17, 23)" if scheme == "dark" else "rgb(255, 255, 255)")
    accent = await page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
    )
    assert accent == ("#4493f8" if scheme == "dark" else "#8250df")
    assert await page.evaluate("window.__csp || []") == []
    assert problems == []
    await _screenshots(page, f"status-{scheme}.png")
    # Keyboard: the first Tab lands on the skip link, which becomes visible, and leads to main.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip"
    assert await page.locator("a.skip").is_visible()
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"

    await page.goto(str(server.make_url("/components/api")))
    chart = page.get_by_role("img", name="Storefront API: response time per hour, last 7 days")
    await chart.wait_for(state="visible")
    assert await page.locator("polyline.p95").count() == 1
    await _screenshots(page, f"component-{scheme}.png")

    await page.goto(str(server.make_url(f"/customers/{NW_TOKEN}")))  # the private report
    customer_cell = page.get_by_role(
        "img", name="2026-11-10: 93.055% available, 100 min down; incidents: API errors"
    )
    await customer_cell.wait_for(state="visible")
    await _screenshots(page, f"customer-{scheme}.png")

    await page.goto(str(server.make_url("/")))
    await page.set_viewport_size({"width": 360, "height": 780})
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways at 360 px ({width} px wide)"
    assert await page.locator("#c-api .bar .day:visible").count() == 30  # a phone shows 30 days
    await _screenshots(page, f"status-{scheme}-360.png", full_page=False)
    assert await page.evaluate("window.__csp || []") == []
    assert problems == []
    await context.close()


async def _screenshots(page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    await page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000
    if target := os.environ.get("STATUSWATCH_SCREENSHOTS"):
        Path(ROOT / target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, ROOT / target / name)
