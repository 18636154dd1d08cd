"""The admin incidents API: open, list, read, edit and post updates (bearer token).

Every change is one SaveIncident (one row, one transaction), flushed before the answer so a
read right after sees it. Edits go through the board, which owns the open automatic incident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from aiohttp import web

from statuswatch.clock import iso
from statuswatch.incidents import edits
from statuswatch.incidents.model import Incident, IncidentUpdate
from statuswatch.incidents.severity import next_update_due, severities_of
from statuswatch.site.markdown import render_markdown
from statuswatch.web.json_io import Body, not_found, read_body, unprocessable
from statuswatch.web.keys import BOARD, CLOCK, CONFIG
from statuswatch.web.security import require_admin

LIST_LIMIT = 50
LIST_MAX = 500


def update_json(update: IncidentUpdate) -> dict[str, Any]:
    """One timeline entry as the API shows it."""
    return {
        "id": update.id,
        "status": update.status.value,
        "body": update.body,
        "body_html": str(render_markdown(update.body)),
        "created_at": iso(update.time),
        "author": update.author,
        "affected_components": [
            {"code": c.component, "old_status": c.old.value, "new_status": c.new.value}
            for c in update.changes
        ],
    }


def incident_json(incident: Incident, app: web.Application) -> dict[str, Any]:
    """An incident with its timeline (oldest update first) as the API shows it."""
    severity = severities_of(app[CONFIG].severities).get(incident.severity or "")
    return {
        "id": incident.id,
        "title": incident.title,
        "impact": incident.impact.value,
        "status": incident.status.value,
        "severity": incident.severity,
        "created_at": iso(incident.created),
        "updated_at": iso(incident.updated),
        "monitoring_at": iso(incident.monitoring_at),
        "resolved_at": iso(incident.resolved_at),
        "components": {cid: s.value for cid, s in incident.components.items()},
        "auto": incident.auto,
        "taken_over": incident.taken_over,
        "next_update_due": iso(next_update_due(incident, severity)),
        "updates": [update_json(u) for u in incident.updates],
    }


def _known(app: web.Application) -> edits.Known:
    config = app[CONFIG]
    return edits.Known(
        frozenset(c.id for c in config.components), frozenset(severities_of(config.severities))
    )


async def _saved(request: web.Request, incident: Incident, status: int = 200) -> web.Response:
    """Save through the board, wait for the commit, answer with the incident."""
    board = request.app[BOARD]
    board.after_edit(incident)
    await board.store.flush()
    return web.json_response(incident_json(incident, request.app), status=status)


async def create_incident(request: web.Request) -> web.Response:
    """POST /api/v1/incidents."""
    require_admin(request)
    body = await read_body(request, edits.NewIncident)
    req = body.check(edits.check_new(body.value, _known(request.app)))
    board = request.app[BOARD]
    incident = edits.open_incident(req, request.app[CLOCK].time(), board.status)
    async with board.edit_lock:
        response = await _saved(request, incident, status=201)
    response.headers["Location"] = f"/api/v1/incidents/{incident.id}"
    return response


def _list_query(query: Any) -> Iterator[str]:
    if query.get("open", "false") not in ("true", "false"):
        yield "open: must be true or false"
    limit = query.get("limit", str(LIST_LIMIT))
    if not limit.isdigit() or not 1 <= int(limit) <= LIST_MAX:
        yield f"limit: must be a whole number from 1 to {LIST_MAX}"


async def list_incidents(request: web.Request) -> web.Response:
    """GET /api/v1/incidents[?open=true][&limit=50]: newest first."""
    require_admin(request)
    if problems := list(_list_query(request.query)):
        raise unprocessable(problems)
    board = request.app[BOARD]
    await board.store.flush()  # the board's own latest changes are part of the answer
    open_only = request.query.get("open") == "true"
    limit = int(request.query.get("limit", LIST_LIMIT))
    found = await board.store.incidents(open_only=open_only, limit=limit)
    return web.json_response({"incidents": [incident_json(i, request.app) for i in found]})


async def get_incident(request: web.Request) -> web.Response:
    """GET /api/v1/incidents/{id}."""
    require_admin(request)
    incident = await request.app[BOARD].incident_for_edit(request.match_info["id"])
    if incident is None:
        raise not_found("incident")
    return web.json_response(incident_json(incident, request.app))


async def _edit(
    request: web.Request,
    body: Body[Any],
    check: Callable[[Incident], Iterator[str]],
    apply: Callable[[Incident, float], object],
    status: int = 200,
) -> web.Response:
    """Load the incident to edit, check the request against it, apply, save, answer."""
    board = request.app[BOARD]
    async with board.edit_lock:
        incident = await board.incident_for_edit(request.match_info["id"])
        if incident is None:
            raise not_found("incident")
        # Checked before anything changes: it may be the board's live automatic incident.
        body.check(check(incident))
        apply(incident, request.app[CLOCK].time())
        return await _saved(request, incident, status)


async def patch_incident(request: web.Request) -> web.Response:
    """PATCH /api/v1/incidents/{id}: title, impact, severity, postmortem (once resolved)."""
    require_admin(request)
    body = await read_body(request, edits.IncidentPatch)
    req, known = body.value, _known(request.app)
    return await _edit(
        request,
        body,
        lambda inc: edits.check_patch(req, inc, known),
        lambda inc, now: edits.apply_patch(inc, req, now),
    )


async def post_update(request: web.Request) -> web.Response:
    """POST /api/v1/incidents/{id}/updates: status, body, component changes."""
    require_admin(request)
    body = await read_body(request, edits.NewUpdate)
    req, known, live = body.value, _known(request.app), request.app[BOARD].status
    return await _edit(
        request,
        body,
        lambda _inc: edits.check_update(req, known),
        lambda inc, now: edits.post_update(inc, req, now, live),
        201,
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/incidents", create_incident)
    app.router.add_get("/api/v1/incidents", list_incidents)
    app.router.add_get("/api/v1/incidents/{id}", get_incident)
    app.router.add_patch("/api/v1/incidents/{id}", patch_incident)
    app.router.add_post("/api/v1/incidents/{id}/updates", post_update)
