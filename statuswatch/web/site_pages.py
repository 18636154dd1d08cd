"""Public pages beyond the front page: /incidents/<id>, /history and /maintenance.

Each is rendered at most once per cache_ttl (RenderCache: single flight, ETag/304) and off the
event loop; unknown incidents and pages past the end raise HTTPNotFound, which html_404
(web/not_found.py) turns into the 404 page (and the cache keeps nothing for them).
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from aiohttp import web

from statuswatch.incidents.severity import severities_of
from statuswatch.site.history import BadPage, group_by_month, page_months, parse_page
from statuswatch.site.incident import incident_view
from statuswatch.site.maintenance import maintenance_view
from statuswatch.web.keys import BOARD, CLOCK, CONFIG, RENDER_CACHE, STORE, TEMPLATES
from statuswatch.web.not_found import html_404
from statuswatch.web.render_cache import off_loop, respond

# Incident ids are short lowercase tokens (incidents.model.new_id); anything else is no incident.
_INCIDENT_ID = re.compile(r"[a-z0-9]{1,64}")


def site_tz(app: web.Application) -> ZoneInfo:
    """The timezone public pages show times in."""
    return app[CONFIG].site.tz


def component_names(app: web.Application) -> dict[str, str]:
    """Component id -> display name."""
    return app[CONFIG].component_names


async def cached(request: web.Request, key: str, render, content_type: str) -> web.Response:
    """Serve `key` from the render cache (rendering it if stale) with ETag and max-age."""
    entry = await request.app[RENDER_CACHE].get(key, render)
    ttl = int(request.app[CONFIG].site.cache_ttl)
    return respond(request, entry, content_type=content_type, max_age=ttl)


async def render_page(app: web.Application, name: str, **context: object) -> bytes:
    """A template rendered off the event loop, with `site` in its context."""
    template = app[TEMPLATES].get_template(name)
    return await off_loop(template.render, {"site": app[CONFIG].site, **context})


async def incident_page(request: web.Request) -> web.Response:
    """GET /incidents/{id}: the full timeline of one incident."""
    incident_id = request.match_info["id"]
    if not _INCIDENT_ID.fullmatch(incident_id):
        raise web.HTTPNotFound()
    app = request.app

    async def render() -> bytes:
        inc = await app[STORE].incident(incident_id)
        if inc is None:
            raise web.HTTPNotFound()
        severities = severities_of(app[CONFIG].severities)
        now = app[CLOCK].time()
        view = incident_view(inc, component_names(app), severities, site_tz(app), now)
        return await render_page(app, "incident.html", inc=view)

    return await cached(request, f"/incidents/{incident_id}", render, "text/html")


async def history_page(request: web.Request) -> web.Response:
    """GET /history[?page=N]: incidents by month, newest first, three months a page."""
    try:
        page = parse_page(request.query.get("page"))
    except BadPage as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    app = request.app

    async def render() -> bytes:
        store, tz = app[STORE], site_tz(app)
        months = page_months(page, app[CLOCK].time(), tz)
        lo, hi = months[-1].start, months[0].end
        # A page is there when something happened in or before its months (page 1 always is).
        if page > 1 and not await store.incidents(until=hi, limit=1):
            raise web.HTTPNotFound()
        incidents = await store.incidents(since=lo, until=hi)
        older = bool(await store.incidents(until=lo, limit=1))
        return await render_page(
            app, "history.html", months=group_by_month(incidents, months), page=page, older=older
        )

    return await cached(request, f"/history?page={page}", render, "text/html")


async def maintenance_page(request: web.Request) -> web.Response:
    """GET /maintenance: windows in progress, upcoming and past."""
    app = request.app

    async def render() -> bytes:
        view = maintenance_view(
            app[BOARD].calendar, component_names(app), app[CLOCK].time(), site_tz(app)
        )
        return await render_page(app, "maintenance.html", view=view)

    return await cached(request, "/maintenance", render, "text/html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/incidents/{id}", html_404(incident_page))
    app.router.add_get("/history", html_404(history_page))
    app.router.add_get("/maintenance", maintenance_page)
