"""Public pages: a plain list of components and their states (the status-site issue grows it)."""

from __future__ import annotations

from collections import defaultdict

from aiohttp import web

from statuswatch.events import State
from statuswatch.web.keys import CONFIG, MONITORING, TEMPLATES

# The worst monitor decides a component's state (the incidents issue adds other rules).
_SEVERITY = {State.UP: 0, State.UNKNOWN: 1, State.DEGRADED: 2, State.DOWN: 3}
_COMPONENT_STATUS = {
    State.UP: "operational",
    State.UNKNOWN: "unknown",
    State.DEGRADED: "degraded_performance",
    State.DOWN: "major_outage",
}


def component_states(request: web.Request) -> dict[str, State]:
    """Each component's state: the worst of its monitors' confirmed states."""
    worst: dict[str, State] = defaultdict(lambda: State.UP)
    for view in request.app[MONITORING].views():
        current = worst[view.monitor.component]
        if _SEVERITY[view.state] > _SEVERITY[current]:
            worst[view.monitor.component] = view.state
    return worst


async def index(request: web.Request) -> web.Response:
    """GET /: every component with its status, grouped."""
    config = request.app[CONFIG]
    states = component_states(request)
    groups = {g.id: g for g in config.groups}
    rows = [
        {
            "component": comp,
            "group": groups[comp.group].name if comp.group else "",
            "status": _COMPONENT_STATUS[states.get(comp.id, State.UNKNOWN)],
        }
        for comp in config.components
    ]
    html = request.app[TEMPLATES].get_template("index.html").render(site=config.site, rows=rows)
    return web.Response(text=html, content_type="text/html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
