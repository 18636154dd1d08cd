"""SLA figures over HTTP: credits (admin) and public component availability."""

from __future__ import annotations

from aiohttp import web

from statuswatch.sla.report import ReportError, component_availability, credits_report
from statuswatch.sla.report_format import as_json
from statuswatch.web.json_io import bad_parameter
from statuswatch.web.keys import CLOCK, CONFIG, STORE
from statuswatch.web.security import require_admin


async def credits(request: web.Request) -> web.Response:
    """GET /api/v1/credits?period=YYYY-MM[&customer=ID] (admin)."""
    require_admin(request)
    now = int(request.app[CLOCK].time())
    try:
        lines = await credits_report(
            request.app[STORE],
            request.app[CONFIG],
            request.query.get("period", ""),
            now,
            request.query.get("customer"),
        )
    except ReportError as exc:
        raise bad_parameter(str(exc)) from None
    return web.Response(text=as_json(lines, now), content_type="application/json")


async def availability(request: web.Request) -> web.Response:
    """GET /api/v1/availability?component=ID&window=30d (public: component figures only)."""
    now = int(request.app[CLOCK].time())
    try:
        body = await component_availability(
            request.app[STORE],
            request.app[CONFIG],
            request.query.get("component", ""),
            request.query.get("window", "30d"),
            now,
        )
    except ReportError as exc:
        raise bad_parameter(str(exc)) from None
    return web.json_response(body)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/credits", credits)
    app.router.add_get("/api/v1/availability", availability)
