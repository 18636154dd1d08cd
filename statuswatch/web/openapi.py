"""The OpenAPI 3.1 document of the HTTP API (admin and public), served at /api/v1/openapi.json.

Written by hand as data; tests/test_openapi.py checks that every route is in it and that real
requests and responses validate against it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from statuswatch import __version__
from statuswatch.web import openapi_agents, openapi_statuspage
from statuswatch.web.openapi_schemas import SCHEMAS, STR, Schema, ref

ADMIN = [{"bearer": []}]
PUBLIC: list[dict[str, list[str]]] = []


def _json(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    ok: tuple[int, str, str],
    *,
    admin: bool = True,
    body: str | None = None,
    params: list[dict[str, Any]] | None = None,
    errors: tuple[int, ...] = (),
) -> dict[str, Any]:
    """One operation: its success response, and the errors it can give."""
    status, schema, description = ok
    responses: dict[str, Any] = {str(status): _json(ref(schema), description)}
    if admin:
        responses["401"] = _json(ref("Error"), "missing or wrong bearer token")
        responses["429"] = _json(ref("Error"), "too many failed attempts from this address")
    for code in errors:
        responses[str(code)] = {
            400: _json(ref("ParameterError"), "a bad query parameter (named in field)"),
            404: _json(ref("Error"), "no such id"),
            422: _json(ref("ValidationErrors"), "the body or query is invalid: each bad field"),
        }[code]
    op: dict[str, Any] = {
        "summary": summary,
        "security": ADMIN if admin else PUBLIC,
        "responses": responses,
    }
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    return op


def _param(name: str, where: str, schema: Schema, description: str, **extra: Any) -> dict:
    return {"name": name, "in": where, "schema": schema, "description": description, **extra}


_ID = _param("id", "path", STR, "the incident's or window's id", required=True)
_INCIDENT_ERRORS = (404, 422)

PATHS: dict[str, Any] = {
    "/api/v1/incidents": {
        "get": _op(
            "List incidents, newest first",
            (200, "IncidentList", "incidents"),
            errors=(422,),
            params=[
                _param(
                    "open",
                    "query",
                    {"type": "string", "enum": ["true", "false"]},
                    "only incidents that are not resolved",
                ),
                _param(
                    "limit",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                    "at most",
                ),
            ],
        ),
        "post": _op(
            "Open an incident",
            (201, "Incident", "the new incident"),
            body="NewIncident",
            errors=(422,),
        ),
    },
    "/api/v1/incidents/{id}": {
        "parameters": [_ID],
        "get": _op("Read an incident", (200, "Incident", "the incident"), errors=(404,)),
        "patch": _op(
            "Change title, impact or severity, or add the postmortem (once resolved)",
            (200, "Incident", "the incident"),
            body="IncidentPatch",
            errors=_INCIDENT_ERRORS,
        ),
    },
    "/api/v1/incidents/{id}/updates": {
        "parameters": [_ID],
        "post": _op(
            "Post an update (status, text, component changes)",
            (201, "Incident", "the incident with the new update"),
            body="NewUpdate",
            errors=_INCIDENT_ERRORS,
        ),
    },
    "/api/v1/maintenance": {
        "get": _op(
            "List maintenance windows (config and API)",
            (200, "WindowList", "windows with their current or next occurrence"),
        ),
        "post": _op(
            "Schedule a window, or open one now (no start)",
            (201, "Window", "the window"),
            body="NewWindow",
            errors=(422,),
        ),
    },
    "/api/v1/maintenance/{id}": {
        "parameters": [_ID],
        "get": _op("Read a window", (200, "Window", "the window"), errors=(404,)),
        "patch": _op(
            "Reschedule, extend or cancel a window (config ones get an override)",
            (200, "Window", "the window"),
            body="WindowPatch",
            errors=(404, 422),
        ),
    },
    "/api/v1/monitors": {
        "get": _op("Every monitor with its state and last result", (200, "MonitorList", "")),
    },
    "/api/v1/credits": {
        "get": _op(
            "Availability and credits per customer",
            (200, "CreditsReport", ""),
            errors=(400,),
            params=[
                _param("period", "query", STR, "YYYY-MM", required=True),
                _param("customer", "query", STR, "only this customer"),
            ],
        ),
    },
    "/api/v1/availability": {
        "get": _op(
            "One component's availability over a window",
            (200, "Availability", ""),
            admin=False,
            errors=(400,),
            params=[
                _param("component", "query", STR, "component id", required=True),
                _param(
                    "window",
                    "query",
                    {
                        "type": "string",
                        "enum": ["24h", "7d", "30d", "90d", "365d", "mtd", "ytd"],
                        "default": "30d",
                    },
                    "how far back",
                ),
            ],
        ),
    },
    "/api/v1/openapi.json": {
        "get": {
            "summary": "This document",
            "security": PUBLIC,
            "responses": {"200": _json({"type": "object"}, "the OpenAPI document")},
        },
    },
}

_HEALTH = _op("Health: database, scheduler, monitors", (200, "Health", "healthy"), admin=False)
_HEALTH["responses"]["503"] = _json(
    ref("Health"), "the database does not accept writes, or the monitor stopped reporting"
)
PATHS["/healthz"] = {"get": _HEALTH}

_PUSH_PARAMS = [
    _param("token", "path", STR, "the push monitor's token", required=True),
    _param("status", "query", {"type": "string", "enum": ["up", "down"], "default": "up"}, ""),
    _param("msg", "query", STR, "a short message"),
]
_PUSH = _op("A job reports in", (200, "PushAccepted", "recorded"), admin=False, errors=(404,))
_PUSH["responses"]["400"] = _json(ref("Error"), "status is neither up nor down")
_PUSH["responses"]["429"] = _json(ref("Error"), "too many unknown tokens from this address")
_PUSH_FORM = {
    "type": "object",
    "properties": {"status": {"type": "string", "enum": ["up", "down"]}, "msg": STR},
}
PATHS["/push/{token}"] = {
    "parameters": _PUSH_PARAMS,
    "get": _PUSH,
    "post": {
        **_PUSH,
        "requestBody": {
            "required": False,
            "content": {"application/x-www-form-urlencoded": {"schema": _PUSH_FORM}},
        },
    },
}

# Agents: their location's bearer token (web/agent_api.py); the locations list: admin.
_AGENT_ERRORS = {
    "401": _json(ref("Error"), "missing or wrong location token"),
    "429": _json(ref("Error"), "too many failed attempts from this address"),
    "422": _json(ref("ValidationErrors"), "the body or query is invalid: each bad field"),
}
PATHS["/api/v1/agent/monitors"] = {
    "get": {
        **_op(
            "This agent's share of its location's monitors (its heartbeat)",
            (200, "AgentMonitors", ""),
        ),
        "security": ADMIN,
        "parameters": [
            _param("agent", "query", STR, "this agent's id", required=True),
            _param("poll", "query", {"type": "number"}, "seconds between its polls"),
        ],
    }
}
PATHS["/api/v1/agent/results"] = {
    "post": _op(
        "Upload a batch of results (idempotent by monitor, location and time)",
        (200, "AgentUploaded", "stored"),
        body="AgentUpload",
    )
}
for _item in (PATHS["/api/v1/agent/monitors"]["get"], PATHS["/api/v1/agent/results"]["post"]):
    _item["responses"].update(_AGENT_ERRORS)
PATHS["/api/v1/agent/results"]["post"]["responses"].update(
    {
        "403": _json(ref("Error"), "results for another location than the token's"),
        "413": _json(ref("Error"), "over the body size cap or the results per upload"),
    }
)
PATHS["/api/v1/locations"] = {
    "get": _op("Each location with its agents, last seen, lag and skew", (200, "LocationList", ""))
}

# Subscribers: subscribing is public (same answer for every address), the rest is admin.
_SUBSCRIBE = _op(
    "Subscribe an address (double opt-in; the same answer for every address)",
    (202, "SubscribeAccepted", "accepted"),
    admin=False,
    body="NewSubscriber",
    errors=(422,),
)
_SUBSCRIBE["responses"]["415"] = _json(ref("Error"), "the body is not application/json")
PATHS["/api/v1/subscribers"] = {
    "get": _op("List subscribers", (200, "SubscriberList", "oldest first")),
    "post": _SUBSCRIBE,
}
PATHS["/api/v1/subscribers.csv"] = {
    "get": {
        "summary": "Export subscribers as CSV",
        "security": ADMIN,
        "responses": {
            "200": {
                "description": "CSV with a header row",
                "content": {"text/csv": {"schema": STR}},
            },
            "401": _json(ref("Error"), "missing or wrong bearer token"),
        },
    },
}
PATHS["/api/v1/subscribers/{id}"] = {
    "parameters": [_param("id", "path", STR, "the subscriber's id", required=True)],
    "delete": {
        **_op("Remove a subscriber with its tokens and messages", (204, "Error", ""), errors=(404,))
    },
}
PATHS["/api/v1/subscribers/{id}"]["delete"]["responses"]["204"] = {"description": "removed"}
# Atlassian Statuspage's public v2 format: public, CORS, cached (statuswatch/web/statuspage_api.py).
_V2 = {
    "summary.json": ("SpSummary", "Page, components, unresolved incidents, maintenance, status"),
    "status.json": ("SpStatusDocument", "The page's overall status"),
    "components.json": ("SpComponents", "Components and groups"),
    "incidents.json": ("SpIncidents", "The 50 newest incidents"),
    "incidents/unresolved.json": ("SpIncidents", "Incidents not yet resolved"),
    "scheduled-maintenances.json": ("SpMaintenances", "The 50 newest maintenance occurrences"),
    "scheduled-maintenances/upcoming.json": ("SpMaintenances", "Maintenance not yet started"),
    "scheduled-maintenances/active.json": ("SpMaintenances", "Maintenance in progress"),
}
for _name, (_schema, _summary) in _V2.items():
    PATHS[f"/api/v2/{_name}"] = {
        "get": _op(f"{_summary} (Statuspage v2 format)", (200, _schema, _summary), admin=False)
    }
PATHS["/api/v2/{path}"] = {
    "options": {
        "summary": "CORS preflight for the /api/v2 documents",
        "security": PUBLIC,
        "parameters": [_param("path", "path", STR, "any /api/v2 document", required=True)],
        "responses": {"204": {"description": "Access-Control-Allow-Origin: *, GET"}},
    }
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "statuswatch",
        "version": __version__,
        "description": "Uptime monitor and status page. Admin operations need "
        "`Authorization: Bearer <token>`.",
    },
    "paths": PATHS,
    "components": {
        "schemas": {**SCHEMAS, **openapi_statuspage.SCHEMAS, **openapi_agents.SCHEMAS},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}


async def openapi_json(_request: web.Request) -> web.Response:
    """GET /api/v1/openapi.json (public)."""
    return web.json_response(DOCUMENT)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/openapi.json", openapi_json)
