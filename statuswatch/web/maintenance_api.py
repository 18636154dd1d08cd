"""The admin maintenance API: create, list, read, reschedule, extend and cancel windows.

Windows from config.toml are changed by storing an override with the same id (the calendar lets
the stored one win). Every change is one SaveMaintenance, flushed before the answer; then the
board reloads its calendar so component statuses follow at once.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from statuswatch.config.durations import format_duration
from statuswatch.config.model import Maintenance
from statuswatch.maintenance.calendar import Schedule
from statuswatch.maintenance.edits import NewWindow, WindowPatch, new_window, patched
from statuswatch.sla.periods import iso_z
from statuswatch.web.json_io import not_found, read_body
from statuswatch.web.keys import BOARD, CLOCK, CONFIG, STORE
from statuswatch.web.security import require_admin


def window_json(schedule: Schedule, source: str, now: float) -> dict[str, Any]:
    """A window as the API shows it, with its current or next occurrence and that one's state."""
    spec = schedule.spec
    occ = schedule.upcoming(now)
    state = occ.state(now) if occ is not None else "cancelled" if spec.cancelled else "completed"
    return {
        "id": spec.id,
        "title": spec.title,
        "description": spec.description,
        "components": list(spec.components),
        "kind": spec.kind,
        "start": iso_z(schedule.utc_seconds(spec.start)),
        "end": None if spec.end is None else iso_z(schedule.utc_seconds(spec.end)),
        "duration": None if spec.duration is None else format_duration(spec.duration),
        "rrule": spec.rrule,
        "timezone": spec.timezone,
        "cancelled": spec.cancelled,
        "source": source,
        "state": state,
        "occurrence": None
        if occ is None
        else {
            "start": iso_z(occ.start),
            "end": iso_z(occ.end),
            "state": occ.state(now),
        },
    }


async def _windows(app: web.Application) -> list[tuple[Schedule, str]]:
    """Every window the board follows, each with where its definition comes from."""
    stored = {w.id for w in await app[STORE].maintenance()}
    return [(s, "api" if s.spec.id in stored else "config") for s in app[BOARD].calendar.schedules]


def _find(windows: list[tuple[Schedule, str]], window_id: str) -> tuple[Schedule, str]:
    for schedule, source in windows:
        if schedule.spec.id == window_id:
            return schedule, source
    raise not_found("maintenance window")


async def list_windows(request: web.Request) -> web.Response:
    """GET /api/v1/maintenance: every window, by the start of its current or next occurrence."""
    require_admin(request)
    now = request.app[CLOCK].time()
    shown = [window_json(s, source, now) for s, source in await _windows(request.app)]
    shown.sort(key=lambda w: ((w["occurrence"] or {}).get("start") or "~", w["id"]))
    return web.json_response({"maintenance": shown})


async def get_window(request: web.Request) -> web.Response:
    """GET /api/v1/maintenance/{id}."""
    require_admin(request)
    schedule, source = _find(await _windows(request.app), request.match_info["id"])
    return web.json_response(window_json(schedule, source, request.app[CLOCK].time()))


async def _store_and_follow(request: web.Request, window: Maintenance, now: float) -> web.Response:
    """Save one window (one transaction), wait for it, reload the board's calendar, answer."""
    store, board = request.app[STORE], request.app[BOARD]
    store.submit(board.saving_window(window, now))
    await store.flush()
    board.reload_calendar(await store.maintenance())
    schedule, source = _find(await _windows(request.app), window.id)
    return web.json_response(window_json(schedule, source, now))


async def create_window(request: web.Request) -> web.Response:
    """POST /api/v1/maintenance: a [[maintenance]] entry; no start means now (emergency)."""
    require_admin(request)
    body = await read_body(request, NewWindow)
    components = {c.id for c in request.app[CONFIG].components}
    now = request.app[CLOCK].time()
    async with request.app[BOARD].edit_lock:
        taken = {s.spec.id for s in request.app[BOARD].calendar.schedules}
        window, problems = new_window(body.value, now, taken, components)
        body.check(problems)
        response = await _store_and_follow(request, window, now)
    response.set_status(201)
    response.headers["Location"] = f"/api/v1/maintenance/{window.id}"
    return response


async def patch_window(request: web.Request) -> web.Response:
    """PATCH /api/v1/maintenance/{id}: start, end, duration (reschedule, extend), cancelled."""
    require_admin(request)
    body = await read_body(request, WindowPatch)
    components = {c.id for c in request.app[CONFIG].components}
    async with request.app[BOARD].edit_lock:
        schedule, _ = _find(await _windows(request.app), request.match_info["id"])
        window, problems = patched(schedule.spec, body.value, components)
        body.check(problems)
        return await _store_and_follow(request, window, request.app[CLOCK].time())


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/maintenance", create_window)
    app.router.add_get("/api/v1/maintenance", list_windows)
    app.router.add_get("/api/v1/maintenance/{id}", get_window)
    app.router.add_patch("/api/v1/maintenance/{id}", patch_window)
