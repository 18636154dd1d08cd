"""Badges for READMEs and dashboards: /badge/<component>.svg, .../uptime.svg, and shields JSON.

Rendered at most once per cache_ttl per badge (RenderCache); unknown components are refused
before anything is cached, so strangers cannot fill the cache with made-up names.
"""

from __future__ import annotations

import json

from aiohttp import web

from statuswatch.site import badges
from statuswatch.sla import periods
from statuswatch.sla.load import load_evidence
from statuswatch.status.overall import public_statuses
from statuswatch.web.json_io import bad_parameter, not_found
from statuswatch.web.keys import BOARD, CLOCK, CONFIG, RENDER_CACHE, STORE
from statuswatch.web.render_cache import Headers, respond
from statuswatch.web.statuspage_api import CORS, availability

SVG = "image/svg+xml"


def _component(request: web.Request) -> tuple[str, str]:
    """(id, name) of the component in the path, or a 404."""
    cid = request.match_info["component"]
    for comp in request.app[CONFIG].components:
        if comp.id == cid:
            return comp.id, comp.name
    raise not_found("component")


async def _serve(
    request: web.Request, key: str, render, content_type: str, extra: Headers = ()
) -> web.Response:
    entry = await request.app[RENDER_CACHE].get(key, render)
    return respond(
        request,
        entry,
        content_type=content_type,
        max_age=int(request.app[CONFIG].site.cache_ttl),
        extra=extra,
    )


async def _status_badge(app: web.Application, cid: str) -> tuple[str, str]:
    """(message, colour) of a component's status badge: the banner's and status.json's rule."""
    board = app[BOARD]
    incidents = await app[STORE].incidents(open_only=True)
    status = public_statuses(board.status, incidents)[cid]
    return badges.status_badge(status, cid in board.no_data())


async def status_svg(request: web.Request) -> web.Response:
    """GET /badge/{component}.svg: the component's current status."""
    cid, name = _component(request)

    async def render() -> bytes:
        return badges.svg(name, *await _status_badge(request.app, cid))

    return await _serve(request, f"badge:{cid}.svg", render, SVG)


async def status_json(request: web.Request) -> web.Response:
    """GET /badge/{component}.json: shields.io's endpoint schema for the status badge."""
    cid, name = _component(request)

    async def render() -> bytes:
        message, color = await _status_badge(request.app, cid)
        return json.dumps(badges.endpoint_json(name, message, color)).encode()

    return await _serve(request, f"badge:{cid}.json", render, "application/json", CORS)


async def uptime_svg(request: web.Request) -> web.Response:
    """GET /badge/{component}/uptime.svg?window=30d (24h, 7d, 30d or 90d): measured uptime."""
    cid, name = _component(request)
    window = request.query.get("window", "30d")
    if window not in badges.UPTIME_WINDOWS:
        raise bad_parameter(
            f"window: must be one of {', '.join(badges.UPTIME_WINDOWS)}, got {window!r}"
        )
    app = request.app

    async def render() -> bytes:
        now = int(app[CLOCK].time())
        lo = now - periods.ROLLING_WINDOWS[window]
        evidence = await load_evidence(app[STORE], app[CONFIG], lo, now, now)
        figures = availability(evidence, cid, now, (window,))[window]
        label = f"{name} measured uptime {window}"
        return badges.svg(label, *badges.uptime_badge(figures, window))

    return await _serve(request, f"badge:{cid}/uptime.svg?{window}", render, SVG)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/badge/{component}/uptime.svg", uptime_svg)
    app.router.add_get("/badge/{component}.svg", status_svg)
    app.router.add_get("/badge/{component}.json", status_json)
