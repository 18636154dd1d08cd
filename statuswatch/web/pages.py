"""Public pages: `/` (status, 90-day bars, targets, credits) and `/components/<id>`."""

from __future__ import annotations

from aiohttp import web

from statuswatch.config.model import Component
from statuswatch.incidents.severity import next_update_due, severities_of, update_overdue
from statuswatch.site.latency import latency_chart, load_latency
from statuswatch.site.locations import load_location_rows
from statuswatch.site.markdown import render_markdown
from statuswatch.site.phases import load_phases
from statuswatch.site.stamps import maybe_stamp, stamp
from statuswatch.site.view import load_site_source, site_view
from statuswatch.status.component import ComponentStatus
from statuswatch.status.overall import public_statuses
from statuswatch.web.keys import BOARD, CLOCK, CONFIG, RENDER_CACHE, STORE, TEMPLATES
from statuswatch.web.not_found import html_404
from statuswatch.web.render_cache import off_loop, respond


async def index(request: web.Request) -> web.Response:
    """GET /: the whole status site (rendered at most once per cache_ttl)."""
    app = request.app
    cache = app[RENDER_CACHE]
    entry = cache.fresh("/") or await cache.get("/", lambda: _render_index(app))
    return respond(
        request, entry, content_type="text/html", max_age=int(app[CONFIG].site.cache_ttl)
    )


async def _render_index(app: web.Application) -> bytes:
    config = app[CONFIG]
    now = int(app[CLOCK].time())
    source = await load_site_source(app[STORE], config, now)
    statuses = dict(app[BOARD].status)  # a copy: the render runs in another thread
    no_data = app[BOARD].no_data()
    regional = dict(app[BOARD].regional)
    incidents = await _active_incidents(app, now)
    template = app[TEMPLATES].get_template("index.html")

    def render() -> str:
        # Figures and template both off the event loop: 50 components x 90 days is real work.
        view = site_view(source, statuses, no_data, regional)
        return template.render(site=config.site, view=view, incidents=incidents)

    return await off_loop(render)


async def _active_incidents(app: web.Application, now: float) -> list[dict]:
    """Open incidents, newest first, with their latest update rendered safely and whether the
    next one is overdue."""
    config = app[CONFIG]
    tz, names = config.site.tz, config.component_names
    severities = severities_of(config.severities)
    out = []
    for inc in await app[STORE].incidents(open_only=True):
        latest = inc.updates[-1] if inc.updates else None
        severity = severities.get(inc.severity or "")
        due = next_update_due(inc, severity)
        out.append(
            {
                "id": inc.id,
                "title": inc.title,
                "status": inc.status.value,
                "impact": inc.impact.value,
                "components": [names.get(c, c) for c in inc.components],
                "latest_html": render_markdown(latest.body) if latest else "",
                "latest_at": stamp(latest.time, tz) if latest else None,
                "next_update_due": maybe_stamp(due, tz),
                "update_overdue": update_overdue(inc, severity, now),
            }
        )
    return out


async def component_page(request: web.Request) -> web.Response:
    """GET /components/{id}: one component's bars, figures, targets, latency and incidents."""
    app = request.app
    cid = request.match_info["id"]
    comp = next((c for c in app[CONFIG].components if c.id == cid), None)
    if comp is None:
        raise web.HTTPNotFound(text="not found")
    # Keys only for configured ids: strangers cannot grow the cache.
    entry = await app[RENDER_CACHE].get(f"/components/{cid}", lambda: _render_component(app, comp))
    ttl = int(app[CONFIG].site.cache_ttl)
    return respond(request, entry, content_type="text/html", max_age=ttl)


async def _render_component(app: web.Application, comp: Component) -> bytes:
    config = app[CONFIG]
    now = int(app[CLOCK].time())
    tz = config.site.tz
    source = await load_site_source(app[STORE], config, now)
    monitors = [m.id for m in config.monitors if m.component == comp.id]
    points = await load_latency(app[STORE], monitors, now)
    own = [m for m in config.monitors if m.component == comp.id]
    phases = await load_phases(app[STORE], own, now, tz)
    by_location = await load_location_rows(app[STORE], config, own, now, tz)
    status = public_statuses(app[BOARD].status, source.incidents).get(
        comp.id, ComponentStatus.OPERATIONAL
    )
    no_data = comp.id in app[BOARD].no_data()
    regional = tuple(app[BOARD].regional.get(comp.id, ()))
    template = app[TEMPLATES].get_template("component.html")

    def render() -> str:
        view = source.component(comp, status, no_data, regional)
        incidents = [
            {
                "id": i.id,
                "title": i.title,
                "start": stamp(i.start, tz),
                "end": None if i.end >= now else stamp(i.end, tz),
            }
            for i in reversed(view.incidents)
        ]
        return template.render(
            site=config.site,
            c=view,
            targets=[f"{t:g}" for t in config.site.targets],
            chart=latency_chart(points, now, tz),
            phases=phases,
            by_location=by_location,
            incidents=incidents,
            gaps=source.gap_list(comp.id),
            generated=stamp(now, tz),
        )

    return await off_loop(render)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/components/{id}", html_404(component_page))
