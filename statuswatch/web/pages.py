"""Public pages: a plain list of components and their states (the status-site issue grows it)."""

from __future__ import annotations

from aiohttp import web

from statuswatch.clock import iso
from statuswatch.incidents.severity import next_update_due, severities_of
from statuswatch.markdown import render_markdown
from statuswatch.web.keys import BOARD, CONFIG, RENDER_CACHE, STORE, TEMPLATES
from statuswatch.web.render_cache import off_loop, respond


async def index(request: web.Request) -> web.Response:
    """GET /: every component with its status, grouped (rendered at most once per cache_ttl)."""
    entry = await request.app[RENDER_CACHE].get("/", lambda: _render_index(request.app))
    ttl = int(request.app[CONFIG].site.cache_ttl)
    return respond(request, entry, content_type="text/html", max_age=ttl)


async def _render_index(app: web.Application) -> bytes:
    config = app[CONFIG]
    status = app[BOARD].status
    groups = {g.id: g for g in config.groups}
    rows = [
        {
            "component": comp,
            "group": groups[comp.group].name if comp.group else "",
            "status": status[comp.id].value,
        }
        for comp in config.components
    ]
    template = app[TEMPLATES].get_template("index.html")
    return await off_loop(
        template.render, {"site": config.site, "rows": rows,
                          "incidents": await _active_incidents(app)}
    )  # fmt: skip


async def _active_incidents(app: web.Application) -> list[dict]:
    """Open incidents, newest first, with their latest update rendered safely."""
    config = app[CONFIG]
    severities = severities_of(config.severities)
    out = []
    for inc in await app[STORE].incidents(open_only=True):
        latest = inc.updates[-1] if inc.updates else None
        due = next_update_due(inc, severities.get(inc.severity or ""))
        out.append({
            "id": inc.id, "title": inc.title, "status": inc.status.value,
            "impact": inc.impact.value,
            "latest_html": render_markdown(latest.body) if latest else "",
            "latest_at": iso(latest.time) if latest else None,
            "next_update_due": iso(due),
        })  # fmt: skip
    return out


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
