"""The admin JSON API (bearer token): monitors with their state, last result and open outage."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from statuswatch.clock import iso
from statuswatch.monitor.locations import LocationView
from statuswatch.monitor.monitoring import MonitorView
from statuswatch.probes.base import CheckResult
from statuswatch.probes.phases import PHASES, Phases
from statuswatch.web.keys import MONITORING
from statuswatch.web.security import require_admin


def result_json(result: CheckResult | None) -> dict[str, Any] | None:
    """A check result as the API shows it."""
    if result is None:
        return None
    return {
        "time": iso(result.time),
        "ok": result.ok,
        "degraded": result.degraded,
        "error_class": result.error_class,
        "message": result.message,
        "latency_seconds": None if result.latency is None else round(result.latency, 6),
        "status_code": result.status_code,
        "cert_expiry": iso(result.cert_expiry),
        "phases": phases_json(result.phases),
    }


def phases_json(phases: Phases | None) -> dict[str, float | None] | None:
    """Every phase by name, in seconds (6 places); null for a phase the check did not finish."""
    if phases is None:
        return None
    got = dict(phases)
    return {name: None if name not in got else round(got[name], 6) for name in PHASES}


def locations_json(states: dict[str, LocationView]) -> list[dict[str, Any]]:
    """Each location's view of a monitor, by location id."""
    return [
        {
            "location": loc,
            "state": view.state.value,
            "last_result": result_json(view.last_result),
            "last_seen": iso(view.last_seen),
        }
        for loc, view in sorted(states.items())
    ]


def monitor_json(view: MonitorView, locations: dict[str, LocationView]) -> dict[str, Any]:
    """One monitor as the API shows it."""
    mon = view.monitor
    return {
        "id": mon.id,
        "name": mon.name,
        "kind": mon.kind,
        "component": mon.component,
        "interval_seconds": mon.interval,
        "state": view.state.value,
        "last_result": result_json(view.last),
        "open_outage": None if view.outage_start is None else {"start": iso(view.outage_start)},
        "locations": locations_json(locations),
    }


async def list_monitors(request: web.Request) -> web.Response:
    """GET /api/v1/monitors."""
    require_admin(request)
    monitoring = request.app[MONITORING]
    body = [monitor_json(v, monitoring.location_states(v.monitor.id)) for v in monitoring.views()]
    return web.json_response({"monitors": body})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/monitors", list_monitors)
