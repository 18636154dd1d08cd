"""The agents' API (their location's bearer token) and the admin's view of the locations.

`GET /api/v1/agent/monitors?agent=ID[&poll=SECONDS]`: the monitors this agent probes (its share
of its location's), the agent's heartbeat. `POST /api/v1/agent/results`: a batch of results,
idempotent by (monitor, location, time): a replay is answered with its duplicates counted and
changes nothing. `GET /api/v1/locations` (admin token): each location's agents.
"""

from __future__ import annotations

import hashlib

import msgspec
from aiohttp import web

from statuswatch.agent.wire import MAX_FUTURE, MAX_RESULTS, Upload
from statuswatch.clock import iso
from statuswatch.config import Config, PushMonitor
from statuswatch.config.model import Monitor, probed_from
from statuswatch.probes.base import CheckResult
from statuswatch.web.json_io import Body, read_body, unprocessable
from statuswatch.web.keys import CLOCK, CONFIG, LOCATION_HUB, MONITORING, STORE
from statuswatch.web.security import refuse_if_limited, require_admin, too_many


def agent_location(request: web.Request) -> str:
    """The location whose token the request carries; 401 (rate limited per address) if none."""
    refuse_if_limited(request, "agent")
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    location = None
    if scheme.lower() == "bearer" and presented.strip():
        location = request.app[LOCATION_HUB].location_of(presented.strip())
    if location is not None:
        return location
    if (limited := too_many(request, "agent")) is not None:
        raise limited
    raise web.HTTPUnauthorized(
        text='{"error": "missing or invalid bearer token"}',
        content_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="statuswatch-agent"'},
    )


def location_monitors(config: Config, location: str) -> list[Monitor]:
    """The monitors agents of `location` probe (push monitors are pushed to, never probed)."""
    return [
        m
        for m in config.monitors
        if not isinstance(m, PushMonitor) and location in probed_from(config, m)
    ]


async def agent_monitors(request: web.Request) -> web.Response:
    """GET /api/v1/agent/monitors: this agent's share of its location's monitors."""
    location = agent_location(request)
    agent = request.query.get("agent", "")
    if not 0 < len(agent) <= 200:
        raise unprocessable(["agent: required, 1 to 200 characters"])
    try:
        poll = float(request.query["poll"]) if "poll" in request.query else None
    except ValueError:
        raise unprocessable(["poll: must be a number of seconds"]) from None
    hub = request.app[LOCATION_HUB]
    hub.registry.heard(location, agent, poll=poll)
    encoded = encoded_monitors(request.app, location)
    mine = hub.registry.share(location, agent, list(encoded))
    listed = b"[" + b",".join(encoded[m] for m in mine) + b"]"  # as msgspec encodes the list
    body = {
        "location": location,
        "agent": agent,
        "monitors": msgspec.Raw(listed),
        "generation": hashlib.sha256(listed).hexdigest()[:16],
        "server_time": request.app[CLOCK].time(),
    }
    return web.Response(body=msgspec.json.encode(body), content_type="application/json")


def encoded_monitors(app: web.Application, location: str) -> dict[str, bytes]:
    """Each monitor `location` probes, by id in config order, as JSON (encoded once: every
    agent's poll listed the whole share anew)."""
    cache = app[LOCATION_HUB].encoded
    if (encoded := cache.get(location)) is None:
        # Durations go as seconds: the agent decodes them with the config's own hook.
        encoded = cache[location] = {
            m.id: msgspec.json.encode(m, enc_hook=float)
            for m in location_monitors(app[CONFIG], location)
        }
    return encoded


def probed_ids(app: web.Application, location: str) -> frozenset[str]:
    """The ids of the monitors `location` probes (worked out once per location)."""
    probed = app[LOCATION_HUB].probed
    if (ids := probed.get(location)) is None:
        ids = probed[location] = frozenset(encoded_monitors(app, location))
    return ids


async def read_upload(request: web.Request) -> Body[Upload]:
    """The upload decoded straight into its structs; a bad one again, field by field, to name
    every problem (read_body)."""
    try:
        return Body(msgspec.json.decode(await request.read(), type=Upload), ())
    except (msgspec.ValidationError, msgspec.DecodeError):
        return await read_body(request, Upload)


def _check(upload: Upload, location: str, app: web.Application, now: float) -> list[str]:
    """Problems with the batch's results, each naming its field."""
    probed = probed_ids(app, location)
    problems = []
    for i, r in enumerate(upload.results):
        if r.monitor not in probed:
            known = any(m.id == r.monitor for m in app[CONFIG].monitors)
            why = "not probed" if known else "unknown monitor"
            problems.append(f"results[{i}].monitor: {why} from {location}: {r.monitor!r}")
        if not 0 < r.time <= now + MAX_FUTURE:
            problems.append(
                f"results[{i}].time: more than {MAX_FUTURE:g}s ahead of the server's clock"
                if r.time > 0
                else f"results[{i}].time: not a check time"
            )
    return problems


async def upload_results(request: web.Request) -> web.Response:
    """POST /api/v1/agent/results: store and judge the new results; count the duplicates."""
    location = agent_location(request)
    body = await read_upload(request)
    if body.value.location != location:  # before any other check: nothing of it is looked at
        return web.json_response(
            {"error": f"this token reports for location {location!r} only"}, status=403
        )
    if len(body.value.results) > MAX_RESULTS:
        return web.json_response({"error": f"at most {MAX_RESULTS} results per upload"}, status=413)
    app = request.app
    now = app[CLOCK].time()
    upload = body.check(_check(body.value, location, app, now))
    results = [r.result(location) for r in upload.results]
    hub, store = app[LOCATION_HUB], app[STORE]
    newest = max((r.time for r in results), default=None)
    hub.registry.uploaded(location, upload.agent, newest=newest, sent_at=upload.sent_at)
    async with hub.upload_lock:
        seen = await hub.stored.stored(store, location, [(r.monitor_id, r.time) for r in results])
        fresh: dict[tuple[str, float], CheckResult] = {}
        for r in results:
            if (key := (r.monitor_id, r.time)) not in seen:
                fresh.setdefault(key, r)
        app[MONITORING].receive(location, list(fresh.values()))
        try:
            # The answer is the agent's licence to forget them: their raw rows are committed.
            # Their hourly rollups and latest results wait with the local probes' for the
            # writer's minute (HeldRows): a flush per upload wrote them on every upload, which
            # on PostgreSQL was an upsert per monitor twice over for each batch.
            await store.settle()
        except BaseException:
            hub.stored.forget(location, {m for m, _ in fresh})  # they may still be committed
            raise
        hub.stored.committed(location, fresh)
    return web.json_response({"accepted": len(fresh), "duplicates": len(results) - len(fresh)})


async def list_locations(request: web.Request) -> web.Response:
    """GET /api/v1/locations: each location with its agents, last seen, lag and skew."""
    require_admin(request)
    config, registry = request.app[CONFIG], request.app[LOCATION_HUB].registry
    out = []
    for loc in config.locations:
        agents = registry.agents(loc.id)
        last = max((a.last_seen for a in agents.values()), default=None)
        out.append(
            {
                "id": loc.id,
                "name": loc.name or loc.id,
                "agents": [
                    {
                        "id": agent,
                        "last_seen": iso(seen.last_seen),
                        "lag_seconds": _seconds(seen.lag),
                        "skew_seconds": _seconds(seen.skew),
                    }
                    for agent, seen in agents.items()
                ],
                "last_seen": iso(last),
            }
        )
    return web.json_response({"locations": out})


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/agent/monitors", agent_monitors)
    app.router.add_post("/api/v1/agent/results", upload_results)
    app.router.add_get("/api/v1/locations", list_locations)
