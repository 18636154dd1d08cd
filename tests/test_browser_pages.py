"""Every public page in Chromium: no sideways scrolling at 360 px, and axe-core finds nothing.

The seeded site of tests/helpers/site_seed.py (with subscriptions on, so /subscribe exists) is
loaded page by page in light and dark (prefers-color-scheme emulation). axe-core is the copy
the `axe-playwright-python` package ships, run on the rendered page; a violation is reported
with its rule, its nodes and axe's own explanation.
"""

from __future__ import annotations

import pytest

from statuswatch.web import create_app
from tests.helpers.site_seed import clock, seeded_store, site_config

pytestmark = pytest.mark.system
NW_TOKEN = "northwind-browser-token-0123456789"
PAGES = {
    "status": "/",
    "component": "/components/api",
    "incident": "/incidents/incapierrors",
    "history": "/history",
    "maintenance": "/maintenance",
    "subscribe": "/subscribe",
    "customer report": f"/customers/{NW_TOKEN}",
}
EMAIL = {
    "enabled": True,
    "from": "status@example.com",
    "smtp_host": "127.0.0.1",
    "smtp_port": 9,
    "tls": "none",
    "poll_interval": "1h",
}


@pytest.fixture
async def server(tmp_path, aiohttp_server):
    config = site_config(tmp_path, sections={"email": EMAIL}, base_url="http://status.test")
    store = await seeded_store(config)
    srv = await aiohttp_server(
        create_app(config, store=store, clock=clock(), probe=False, environ={"NW_TOKEN": NW_TOKEN})
    )
    yield srv
    await srv.close()
    await store.close()


async def _open(browser, url: str, *, scheme: str = "light", width: int = 1024):
    context = await browser.new_context(
        color_scheme=scheme, viewport={"width": width, "height": 800}
    )
    page = await context.new_page()
    resp = await page.goto(url)
    assert resp is not None and resp.status == 200, url
    return context, page


@pytest.mark.parametrize("name", list(PAGES))
async def test_no_page_scrolls_sideways_on_a_phone(server, browser, name):
    context, page = await _open(browser, str(server.make_url(PAGES[name])), width=360)
    width = await page.evaluate("document.documentElement.scrollWidth")
    await context.close()
    assert width <= 360, f"{name} scrolls sideways at 360 px ({width} px wide)"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
async def test_axe_finds_no_violation(server, browser, name, scheme):
    from axe_playwright_python.async_playwright import Axe

    context, page = await _open(browser, str(server.make_url(PAGES[name])), scheme=scheme)
    results = await Axe().run(page)
    await context.close()
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("name", list(PAGES))
async def test_every_page_has_one_h1_and_a_description(server, browser, name):
    context, page = await _open(browser, str(server.make_url(PAGES[name])))
    h1 = await page.locator("h1").count()
    description = await page.evaluate(
        "document.querySelector('meta[name=description]')?.content ?? null"
    )
    await context.close()
    assert h1 == 1, f"{name} has {h1} <h1>"
    assert description and len(description) > 20, f"{name}: {description!r}"
