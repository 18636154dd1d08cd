"""Debian's chromium under Playwright (never `playwright install`), for every browser test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tests.helpers.system import ROOT, require_tool

ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots the browser tests leave for people
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@asynccontextmanager
async def chromium() -> AsyncIterator[object]:
    """A launched headless chromium; skips (locally) when chromium or Playwright is missing."""
    path = require_tool("chromium")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def rendered(browser, url: str, width: int = 1280):
    """A page of ours as Chromium shows it: (page, the visible text), at `width` CSS pixels."""
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    response = await page.goto(url)
    assert response is not None and response.ok, url
    return page, await page.inner_text("body")
