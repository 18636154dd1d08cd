"""Rendered pages under a stampede: one render per TTL, single flight, ETag revalidation."""

from __future__ import annotations

import asyncio

from service_helpers import make_config

from statuswatch.clock import FakeClock
from statuswatch.web import create_app
from statuswatch.web.keys import METRICS
from statuswatch.web.render_cache import RenderCache


async def test_concurrent_misses_render_once_and_the_ttl_bounds_staleness():
    clock = FakeClock()
    cache = RenderCache(clock, ttl=2)
    renders = 0
    gate = asyncio.Event()

    async def render() -> bytes:
        nonlocal renders
        renders += 1
        await gate.wait()  # a slow render: everyone else arrives meanwhile
        return f"v{renders}".encode()

    waiting = [asyncio.create_task(cache.get("/", render)) for _ in range(50)]
    await asyncio.sleep(0)
    gate.set()
    entries = await asyncio.gather(*waiting)
    assert renders == 1 and {e.body for e in entries} == {b"v1"}
    clock.advance(1.9)
    assert (await cache.get("/", render)).body == b"v1"
    clock.advance(0.2)
    assert (await cache.get("/", render)).body == b"v2"


async def test_zero_ttl_renders_every_time():
    cache = RenderCache(FakeClock(), ttl=0)
    bodies = iter([b"a", b"b"])

    async def render() -> bytes:
        return next(bodies)

    assert (await cache.get("k", render)).body == b"a"
    assert (await cache.get("k", render)).body == b"b"


async def test_page_revalidates_with_etag(aiohttp_client, tmp_path):
    config = make_config(tmp_path, [])
    client = await aiohttp_client(create_app(config, probe=False, environ={}))
    first = await client.get("/")
    etag = first.headers["ETag"]
    assert first.status == 200 and first.headers["Cache-Control"] == "public, max-age=2"
    again = await client.get("/", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    assert "Content-Security-Policy" in again.headers
    health = await client.get("/healthz")
    assert health.status == 200 and health.headers["Cache-Control"] == "no-cache"
    assert (await health.json())["database"]["writable"] is True


async def test_concurrent_scrapes_share_one_metrics_render(aiohttp_client, tmp_path):
    config = make_config(tmp_path, [])
    client = await aiohttp_client(create_app(config, probe=False, environ={}))
    endpoint = client.app[METRICS]
    renders = 0
    real = endpoint.render

    async def counting() -> bytes:
        nonlocal renders
        renders += 1
        return await real()

    endpoint.render = counting
    bodies = await asyncio.gather(*(client.get("/metrics") for _ in range(20)))
    assert {r.status for r in bodies} == {200}
    assert renders == 1
