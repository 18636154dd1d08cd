"""Rendered pages under a stampede: one render per TTL, single flight, ETag revalidation."""

from __future__ import annotations

import asyncio

import pytest

from statuswatch.clock import FakeClock
from statuswatch.web import create_app
from statuswatch.web.keys import METRICS
from statuswatch.web.render_cache import RenderCache
from tests.helpers.config import make_config


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


def _cached_app(clock: FakeClock, bodies: list[bytes], headers: dict[str, str] | None = None):
    """A one-route app serving bodies[0] through the cache; tests swap bodies[0] to 'change'."""
    from aiohttp import web

    from statuswatch.web.render_cache import respond

    cache = RenderCache(clock, ttl=2, headers=headers)

    async def page(request: web.Request) -> web.Response:
        async def render() -> bytes:
            return bodies[0]

        return respond(request, await cache.get("/", render), content_type="text/html", max_age=2)

    app = web.Application()
    app.router.add_get("/", page)
    return app


async def test_large_bodies_are_gzipped_once_per_change_with_their_own_etag(aiohttp_client):
    import gzip

    clock = FakeClock()
    body = b"<li>operational</li>" * 5000  # 100 kB that compresses well, like the 90-day bars
    bodies = [body]
    client = await aiohttp_client(_cached_app(clock, bodies), auto_decompress=False)

    plain = await client.get("/", headers={"Accept-Encoding": "identity"})
    assert plain.headers.get("Content-Encoding") is None and await plain.read() == body
    zipped = await client.get("/", headers={"Accept-Encoding": "br, gzip;q=0.8"})
    raw = await zipped.read()
    assert zipped.headers["Content-Encoding"] == "gzip" and len(raw) < len(body) // 20
    assert gzip.decompress(raw) == body
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gz"'
    refused = await client.get("/", headers={"Accept-Encoding": "gzip;q=0"})
    assert refused.headers.get("Content-Encoding") is None

    # Revalidation by either validator; the gzip ETag only matches the gzip representation.
    gz_tag, modified = zipped.headers["ETag"], zipped.headers["Last-Modified"]
    again = await client.get("/", headers={"Accept-Encoding": "gzip", "If-None-Match": gz_tag})
    assert again.status == 304
    cross = await client.get("/", headers={"Accept-Encoding": "identity", "If-None-Match": gz_tag})
    assert cross.status == 200
    since = await client.get("/", headers={"If-Modified-Since": modified})
    assert since.status == 304

    # Re-rendered to the same bytes: the same validators (nothing changed for clients).
    clock.advance(61)  # past the TTL, and a minute later on the wall
    same = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert (same.headers["ETag"], same.headers["Last-Modified"]) == (gz_tag, modified)
    # Changed: new ETag and a later Last-Modified, so If-Modified-Since no longer matches.
    bodies[0] = body + b"<li>major outage</li>"
    clock.advance(61)  # past the TTL, and a minute later on the wall
    changed = await client.get(
        "/", headers={"Accept-Encoding": "gzip", "If-Modified-Since": modified}
    )
    assert changed.status == 200 and changed.headers["ETag"] != gz_tag
    assert gzip.decompress(await changed.read()).endswith(b"<li>major outage</li>")


async def test_the_caches_headers_ride_on_every_representation_built_once(aiohttp_client):
    from aiohttp import web

    from statuswatch.web.render_cache import CachedResponse, respond

    cache = RenderCache(FakeClock(), ttl=2, headers={"X-Frame-Options": "DENY"})

    async def render() -> bytes:
        return b"<p>ok</p>" * 500

    async def page(request: web.Request) -> web.Response:
        response = respond(
            request,
            await cache.get("/", render),
            content_type="text/html",
            max_age=2,
            extra=(("Access-Control-Allow-Origin", "*"),),
        )
        assert type(response) is CachedResponse  # what the security-headers signal skips
        return response

    app = web.Application()
    app.router.add_get("/", page)
    client = await aiohttp_client(app, auto_decompress=False)
    for _ in range(2):
        identity = {"Accept-Encoding": "identity"}  # the client asks for gzip by default
        plain = await client.get("/", headers=identity)
        zipped = await client.get("/", headers={"Accept-Encoding": "gzip"})
        again = await client.get("/", headers={**identity, "If-None-Match": plain.headers["ETag"]})
        assert (plain.status, zipped.status, again.status) == (200, 200, 304)
        for resp in (plain, zipped, again):
            assert resp.headers.getall("X-Frame-Options") == ["DENY"]
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert resp.headers["Cache-Control"] == "public, max-age=2"
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert "Content-Encoding" not in plain.headers
        assert "Content-Encoding" not in again.headers  # a 304 describes no body of its own
    # One header set per representation (plain, gzip, 304), kept with the body, not per request.
    assert len(cache.fresh("/")._header_sets) == 3


async def test_small_bodies_are_sent_as_they_are(aiohttp_client):
    client = await aiohttp_client(_cached_app(FakeClock(), [b"tiny"]), auto_decompress=False)
    resp = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert resp.headers.get("Content-Encoding") is None and await resp.read() == b"tiny"


async def test_unchanged_state_keeps_a_render_for_the_idle_ttl_and_a_change_refreshes_it():
    clock = FakeClock()
    cache = RenderCache(clock, ttl=2, idle_ttl=60)
    state = {"version": 1}
    cache.version = lambda: state["version"]
    renders = 0

    async def render() -> bytes:
        nonlocal renders
        renders += 1
        return f"r{renders} v{state['version']}".encode()

    assert (await cache.get("/", render)).body == b"r1 v1"
    clock.advance(59)  # far past the ttl, but nothing the page shows has changed
    assert (await cache.get("/", render)).body == b"r1 v1"
    clock.advance(2)  # past the idle ttl: the clock-driven figures are refreshed
    assert (await cache.get("/", render)).body == b"r2 v1"
    state["version"] = 2  # a monitor event: visible once the short ttl is over, not before
    clock.advance(1)
    assert (await cache.get("/", render)).body == b"r2 v1"
    clock.advance(1.5)
    assert (await cache.get("/", render)).body == b"r3 v2"
    assert renders == 3


async def test_a_web_workers_cache_renders_a_published_change_inside_the_ttl():
    clock = FakeClock()
    cache = RenderCache(clock, ttl=2, idle_ttl=60)
    state = {"version": 1}
    cache.version = lambda: state["version"]
    cache.follow_versions = True  # a web worker: versions are the monitor's publications
    bodies = iter([b"first", b"second"])

    async def render() -> bytes:
        return next(bodies)

    assert (await cache.get("/", render)).body == b"first"
    clock.advance(0.5)
    assert cache.fresh("/") is not None  # unchanged: the ttl holds
    state["version"] = 2  # a new publication, well inside the ttl
    assert cache.fresh("/") is None
    assert (await cache.get("/", render)).body == b"second"


async def test_the_app_renders_pages_once_per_board_change(aiohttp_client, tmp_path):
    from statuswatch.web.keys import BOARD, RENDER_CACHE

    config = make_config(tmp_path, [])
    client = await aiohttp_client(create_app(config, probe=False, environ={}))
    app = client.server.app
    cache, board = app[RENDER_CACHE], app[BOARD]
    assert cache.idle_ttl == 60 and cache.version is not None
    before = board.version
    board.reload_calendar([])  # a maintenance edit: the pages must follow it
    assert board.version > before and cache.version() == board.version


async def test_a_render_waits_for_the_changes_it_counts_to_be_committed():
    clock = FakeClock()
    cache = RenderCache(clock, ttl=2, idle_ttl=60)
    committed: list[str] = []
    pending = ["incident opened"]  # submitted to the store, counted in the version

    async def settle() -> None:
        committed.extend(pending)
        pending.clear()

    cache.version = lambda: 7
    cache.settle = settle

    async def render() -> bytes:
        return ", ".join(committed).encode()  # what a page reads from the store

    assert (await cache.get("/", render)).body == b"incident opened"


async def test_a_storm_of_published_changes_renders_a_page_four_times_a_second_at_most():
    clock = FakeClock()
    state = {"version": 1}
    cache = RenderCache(clock, ttl=2.0)
    cache.version = lambda: state["version"]
    cache.follow_versions = True
    renders = 0

    async def render() -> bytes:
        nonlocal renders
        renders += 1
        return f"v{state['version']}".encode()

    await cache.get("/", render)
    for _ in range(40):  # a change every 0.1 s for 4 s, and a stampede asking all the while
        clock.advance(0.1)
        state["version"] += 1
        for _ in range(5):
            body = (await cache.get("/", render)).body
            assert state["version"] - int(body[1:]) <= 3  # never more than CHANGED_TTL behind
    assert renders <= 1 + 4 * 4  # at most one render per CHANGED_TTL, not one per change


async def test_a_slow_render_serves_the_body_held_and_lands_for_the_next_request():
    clock = FakeClock()
    cache = RenderCache(clock, ttl=2, render_wait=0)  # 0: nobody waits when a body is held
    gate = asyncio.Event()
    renders = 0

    async def render() -> bytes:
        nonlocal renders
        renders += 1
        if renders > 1:
            await gate.wait()  # the second render is stuck (a database that is away)
        return f"v{renders}".encode()

    assert (await cache.get("/", render)).body == b"v1"  # nothing held: the first one waits
    clock.advance(3)
    crowd = await asyncio.gather(*(cache.get("/", render) for _ in range(20)))
    assert {e.body for e in crowd} == {b"v1"} and renders == 2  # one render under way
    flight = cache._flights["/"]
    gate.set()
    await flight  # the render finishes on its own task, though nobody waited for it
    assert (await cache.get("/", render)).body == b"v2" and renders == 2


async def test_closing_cancels_the_renders_under_way():
    cache = RenderCache(FakeClock(), ttl=2, render_wait=0)
    started = asyncio.Event()

    async def stuck() -> bytes:
        started.set()
        await asyncio.Event().wait()
        return b"never"

    waiter = asyncio.create_task(cache.get("/", stuck))
    await started.wait()
    await cache.close()
    assert not cache._flights
    with pytest.raises(asyncio.CancelledError):
        await waiter
