"""Public pages: a plain list of components and their states (the status-site issue grows it)."""

from __future__ import annotations

from aiohttp import web

from statuswatch.web.keys import BOARD, CONFIG, TEMPLATES


async def index(request: web.Request) -> web.Response:
    """GET /: every component with its status, grouped."""
    config = request.app[CONFIG]
    status = request.app[BOARD].status
    groups = {g.id: g for g in config.groups}
    rows = [
        {
            "component": comp,
            "group": groups[comp.group].name if comp.group else "",
            "status": status[comp.id].value,
        }
        for comp in config.components
    ]
    html = request.app[TEMPLATES].get_template("index.html").render(site=config.site, rows=rows)
    return web.Response(text=html, content_type="text/html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
