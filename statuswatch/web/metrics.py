"""GET /metrics: Prometheus metrics from the app's registry (README "Metrics").

Served by the site's own server, or, with `metrics.listen`, only by a listener of its own
(started and stopped with the app). With `metrics.token_env` scrapers must send
`Authorization: Bearer <token>`; repeated failures from one address are rate limited.
"""

from __future__ import annotations

import asyncio
import gzip

from aiohttp import web

from statuswatch.config.loader import parse_listen
from statuswatch.metrics.exposition import CONTENT_TYPE
from statuswatch.web.keys import AUTH_LIMITER, CONFIG, HEALTH_CACHE, METRICS, MONITOR_LINK, ROLE
from statuswatch.web.render_cache import accepts_gzip
from statuswatch.web.security import add_security_headers, refuse_if_limited, too_many


def _authorize(request: web.Request) -> None:
    """401 without the token when one is required (failures from one address rate limited)."""
    endpoint = request.app[METRICS]
    refuse_if_limited(request, "metrics")
    if not endpoint.allows(request.headers.get("Authorization", "")):
        if (limited := too_many(request, "metrics")) is not None:
            raise limited
        raise web.HTTPUnauthorized(
            text="missing or invalid bearer token\n",
            headers={"WWW-Authenticate": 'Bearer realm="statuswatch metrics"'},
        )


async def metrics(request: web.Request) -> web.Response:
    """The text exposition; 401 without the token when one is required."""
    endpoint = request.app[METRICS]
    _authorize(request)
    # Scrapes that arrive together share one render: a 10,000-monitor exposition is ~0.15 s of
    # CPU, and several scrapers (or a curious crowd) must not starve the probes.
    headers = {"Content-Type": CONTENT_TYPE, "Vary": "Accept-Encoding"}
    if accepts_gzip(request.headers.get("Accept-Encoding", "")):
        entry = await request.app[HEALTH_CACHE].get("metrics.gz", endpoint.render_gzip)
        headers["Content-Encoding"] = "gzip"
    else:
        entry = await request.app[HEALTH_CACHE].get("metrics", endpoint.render)
    return web.Response(body=entry.body, headers=headers)


async def metrics_from_monitor(request: web.Request) -> web.Response:
    """In the web role: the monitor's exposition (the probes' figures are the monitor's).

    The token is checked here, and one fetch a second is shared by every scrape that arrives
    meanwhile, so a crowd on this worker's /metrics costs the monitor one request a second.
    The monitor always sends it gzipped: 10,000 monitors are 9 MB of text, and copying that
    into a socket every second held the monitor's event loop (probe lateness p99 +40 ms under
    the benchmark's page load); a scraper that does not take gzip is served text unpacked here.
    """
    _authorize(request)
    gzip_ok = accepts_gzip(request.headers.get("Accept-Encoding", ""))
    app = request.app
    auth = request.headers.get("Authorization", "")

    async def fetch() -> tuple[bytes, int]:
        headers = {"Accept-Encoding": "gzip", "Authorization": auth}
        try:
            status, got, body = await app[MONITOR_LINK].call("GET", "/metrics", headers, b"")
        except Exception:  # the monitor is down or busy: nothing to show, and say so
            return b"statuswatch's monitor is not answering\n", 503
        if status == 200 and not any(
            k.lower() == "content-encoding" and v == "gzip" for k, v in got
        ):
            body = await asyncio.get_running_loop().run_in_executor(None, gzip.compress, body, 1)
        return body, status

    packed = await app[HEALTH_CACHE].get("metrics.gz", fetch)
    if packed.status != 200:
        return web.Response(body=packed.body, status=packed.status, headers={"Retry-After": "5"})
    headers = {"Content-Type": CONTENT_TYPE, "Vary": "Accept-Encoding"}
    if gzip_ok:
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=packed.body, headers=headers)

    async def unpack() -> bytes:
        return await asyncio.get_running_loop().run_in_executor(None, gzip.decompress, packed.body)

    plain = await app[HEALTH_CACHE].get("metrics", unpack)
    return web.Response(body=plain.body, headers=headers)


def add_routes(app: web.Application) -> None:
    settings = app[CONFIG].metrics
    if settings.enabled and not settings.listen:
        handler = metrics_from_monitor if app[ROLE] == "web" else metrics
        app.router.add_get("/metrics", handler)


async def start_listener(app: web.Application) -> web.AppRunner | None:
    """With `metrics.listen` set, serve /metrics there (only); the caller cleans the runner up."""
    settings = app[CONFIG].metrics
    if not (settings.enabled and settings.listen):
        return None
    sub = web.Application()
    sub.on_response_prepare.append(add_security_headers)
    sub[METRICS] = app[METRICS]
    sub[CONFIG] = app[CONFIG]  # add_security_headers takes the CSP and HSTS from [site]
    sub[AUTH_LIMITER] = app[AUTH_LIMITER]
    sub[HEALTH_CACHE] = app[HEALTH_CACHE]
    sub.router.add_get("/metrics", metrics)
    runner = web.AppRunner(sub, access_log=None)
    await runner.setup()
    host, port = parse_listen(settings.listen)
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
