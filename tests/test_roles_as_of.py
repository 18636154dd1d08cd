"""A web worker whose monitor went quiet says so: "Monitoring is interrupted", and the pages'
"As of" is the monitor's last heartbeat, not the time of the request; a monitor back (here,
restarted) makes them current again. In Chromium too, for the index page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from statuswatch.clock import FakeClock, iso
from statuswatch.roles import publisher
from statuswatch.roles.published import STALE_AFTER
from tests.helpers.browser import rendered
from tests.helpers.config import make_config
from tests.helpers.notify import ENV
from tests.helpers.roles import Roles, short_dir, start_roles

REPORT_TOKEN = "northwind-report-token-0123456789abcdef"
CACHE_TTL = 3.0  # past site.cache_ttl (2 s): what the worker had rendered is renewed
NOTICE = "Monitoring is interrupted."
AS_OF = re.compile(r'As of <time datetime="([^"]+)">')
PAGES = ["/", "/components/api", f"/customers/{REPORT_TOKEN}"]
# Collects what the page reports; a listener added before any script of ours could run.
CSP_LISTENER = """document.addEventListener('securitypolicyviolation', e => {
  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI); });"""


def config(where):
    return make_config(
        where,
        [{"id": "shop", "kind": "http", "component": "api", "url": "http://127.0.0.1:9/"}],
        sla=[
            {
                "id": "standard",
                "name": "Standard",
                "target_percent": 99.9,
                "credit": {"scheme": "per_excess_hour", "percent_per_hour": 5},
            }
        ],
        customers=[
            {
                "id": "northwind",
                "name": "Northwind",
                "plan": "standard",
                "fee": 1000,
                "components": ["api"],
                "report_token_env": "NW_TOKEN",
            }
        ],
    )


@pytest.fixture
async def roles(aiohttp_client, monkeypatch) -> AsyncIterator[Roles]:
    monkeypatch.setattr(publisher, "LOOK_EVERY", 3600.0)  # one publication per start
    with short_dir() as where:
        env = {**ENV, "NW_TOKEN": REPORT_TOKEN}
        running = await start_roles(aiohttp_client, config(where), FakeClock(), env)
        await running.follow()
        yield running
        await running.stop_monitor()


async def page(roles: Roles, path: str) -> str:
    resp = await roles.web.get(path)
    assert resp.status == 200, path
    return await resp.text()


async def go_quiet(roles: Roles) -> float:
    """The monitor stops beating; the worker notices. Returns the last heartbeat's time."""
    beat = roles.clock.time()
    roles.clock.advance(STALE_AFTER + 55)  # a minute on: the stamps' minutes differ
    assert await roles.follow() is True
    return beat


async def test_current_pages_carry_no_notice_and_the_time_of_the_request(roles):
    roles.clock.advance(2)  # beats are not missed yet: the pages are current
    for path in PAGES:
        html = await page(roles, path)
        assert NOTICE not in html, path
        assert AS_OF.search(html).group(1) == iso(roles.clock.time()), path


async def test_a_quiet_monitor_makes_every_page_say_as_of_its_last_beat(roles):
    beat = await go_quiet(roles)
    for path in PAGES:
        html = await page(roles, path)
        assert NOTICE in html, path
        assert f'as of <time datetime="{iso(beat)}">' in html, path
        assert AS_OF.search(html).group(1) == iso(beat), path  # not the time of the request


async def test_a_monitor_back_makes_the_pages_current_again(roles):
    await go_quiet(roles)
    assert NOTICE in await page(roles, "/")
    await roles.stop_monitor()
    await roles.start_monitor()
    assert await roles.follow() is True
    roles.clock.advance(CACHE_TTL)  # a page rendered before is kept this long (README)
    for path in PAGES:
        html = await page(roles, path)
        assert NOTICE not in html, path
        assert AS_OF.search(html).group(1) == iso(roles.clock.time()), path


@pytest.mark.system
async def test_the_notice_in_chromium_is_a_visible_status_and_the_csp_holds(roles, browser):
    beat = await go_quiet(roles)
    context = await browser.new_context(viewport={"width": 1024, "height": 900})
    await context.add_init_script(CSP_LISTENER)
    shown = await context.new_page()
    resp = await shown.goto(str(roles.web.make_url("/")))
    assert resp is not None and resp.status == 200
    notice = shown.get_by_role("status")
    await notice.wait_for(state="visible")
    text = await notice.inner_text()
    assert text.startswith(NOTICE) and "it will update when monitoring resumes" in text
    assert await notice.locator(f'time[datetime="{iso(beat)}"]').is_visible()
    assert await notice.get_attribute("style") is None
    assert await shown.evaluate("window.__csp || []") == []
    csp = resp.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp, csp
    await context.close()
    # Current again: no notice as Chromium shows the page.
    await roles.stop_monitor()
    await roles.start_monitor()
    await roles.follow()
    roles.clock.advance(CACHE_TTL)
    _page, visible = await rendered(browser, str(roles.web.make_url("/")))
    assert NOTICE not in visible
    assert await _page.get_by_role("status").count() == 0
