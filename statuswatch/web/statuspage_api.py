"""Atlassian Statuspage's public v2 JSON under /api/v2/ (mapping: statuswatch/status/statuspage.py).

Widgets embed these on other sites, so every answer carries `Access-Control-Allow-Origin: *`;
each document is rendered at most once per cache_ttl (RenderCache) and revalidated by ETag.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math

import msgspec
from aiohttp import web

from statuswatch.maintenance.calendar import ExpansionLimitError, MaintenanceCalendar, Occurrence
from statuswatch.sla import periods
from statuswatch.sla.availability import Figures
from statuswatch.sla.evidence import Evidence
from statuswatch.sla.load import load_evidence
from statuswatch.status.statuspage import AVAILABILITY_WINDOWS, DOCUMENTS, LIST_LIMIT, PageState
from statuswatch.status.statuspage import document as build_document
from statuswatch.web.freshness import monitor_started, paused_since
from statuswatch.web.keys import BOARD, CLOCK, CONFIG, RENDER_CACHE, STORE
from statuswatch.web.render_cache import SETTLE_WAIT, respond

PREFIX = "/api/v2/"
# How far back component edges, availability and past maintenance are looked for.
LOOKBACK = periods.ROLLING_WINDOWS["90d"]
CORS = (("Access-Control-Allow-Origin", "*"),)


async def page_state(app: web.Application) -> PageState:
    """Everything the documents show, read at one instant.

    The reads are awaited here; the computing (maintenance expansion, 50 components'
    availability) takes ~10 ms with a year of history, so it runs in a thread to keep the
    probes' event loop on schedule.
    """
    config, store, board = app[CONFIG], app[STORE], app[BOARD]
    # The board's latest incident changes are part of what is shown; but a store that cannot
    # commit (the database away) must fail the render, so the last good copy is served, not
    # keep the request waiting until the database is back.
    await asyncio.wait_for(store.flush(), SETTLE_WAIT)
    now = app[CLOCK].time()
    hi = int(now)
    created: dict[str, float] = {}
    for mon in await store.monitors():
        if mon.component is not None and mon.first_seen is not None:
            created[mon.component] = min(created.get(mon.component, math.inf), mon.first_seen)
    evidence = await load_evidence(store, config, hi - LOOKBACK, hi, hi)
    state = PageState(
        config=config,
        now=now,
        status=dict(board.status),
        no_data=board.no_data(),
        regional=dict(board.regional),
        created=created,
        updated={},
        open_incidents=await store.incidents(open_only=True),
        latest_incidents=await store.incidents(limit=LIST_LIMIT),
        window_created=await window_created(app),
        paused_since=paused_since(app),
    )
    calendar = board.calendar
    return await asyncio.get_running_loop().run_in_executor(
        None, _computed, state, evidence, calendar
    )


async def window_created(app: web.Application) -> dict[str, float]:
    """When each window was created: stored ones when first stored, config ones (overridden or
    not) when this statuswatch loaded the config, the earliest it can know of them."""
    created = await app[STORE].maintenance_created()
    loaded = monitor_started(app)
    created.update({m.id: loaded for m in app[CONFIG].maintenance})
    return {wid: loaded if at is None else at for wid, at in created.items()}


def _computed(state: PageState, evidence: Evidence, calendar: MaintenanceCalendar) -> PageState:
    """The state with its derived figures: edges, availability, maintenance occurrences."""
    ids = [c.id for c in state.config.components]
    hi = int(state.now)
    return dataclasses.replace(
        state,
        updated=last_changes(evidence, ids),
        occurrences=occurrences(calendar, state.now),
        availability={cid: availability(evidence, cid, hi) for cid in ids},
    )


def availability(
    evidence: Evidence, component_id: str, now: int, windows: tuple[str, ...] = AVAILABILITY_WINDOWS
) -> dict[str, Figures]:
    """A component's figures over rolling windows ending now (SLA.md, via the one engine)."""
    inputs = evidence.component(component_id)
    return {w: inputs.figures(periods.rolling(w, now), 100, policy="excluded") for w in windows}


def last_changes(evidence: Evidence, component_ids: list[str]) -> dict[str, float]:
    """When each component last changed: the newest edge of its downtime or maintenance.

    Edges at the range's ends are not changes: an outage still open runs "until now", one
    older than the range starts "at its start".
    """
    out = {}
    for cid in component_ids:
        inputs = evidence.component(cid)
        edges = [
            t
            for s, e in (*inputs.downtime, *inputs.maintenance)
            for t in (s, e)
            if evidence.lo < t < evidence.now
        ]
        if edges:
            out[cid] = float(max(edges))
    return out


def occurrences(calendar: MaintenanceCalendar, now: float) -> list[tuple[Occurrence, bool, str]]:
    """Each window's occurrences of the last 90 days and its current or next one."""
    out = []
    lo = int(now) - LOOKBACK
    for schedule in calendar.schedules:
        spec = schedule.spec
        if spec.cancelled:
            continue  # Statuspage has no "cancelled": such a window is not shown
        try:
            found = schedule.occurrences(lo, int(now) + 1)
        except ExpansionLimitError:  # a very frequent rule: its past is too long to list
            found = []
        if (upcoming := schedule.upcoming(now)) is not None:
            found.append(upcoming)
        by_start = {occ.start: occ for occ in found if occ.end > lo}
        out += [(occ, spec.rrule is not None, spec.description) for occ in by_start.values()]
    return out


def _encoded(name: str, state: PageState) -> bytes:
    return msgspec.json.encode(build_document(name, state))


def _handler(app: web.Application, name: str):
    key = PREFIX + name
    cache, max_age = app[RENDER_CACHE], int(app[CONFIG].site.cache_ttl)

    async def render() -> bytes:
        state = await page_state(app)
        return await asyncio.get_running_loop().run_in_executor(None, _encoded, name, state)

    async def handle(request: web.Request) -> web.Response:
        entry = cache.fresh(key) or await cache.get(key, render)
        return respond(request, entry, content_type="application/json", max_age=max_age, extra=CORS)

    handle.__doc__ = f"GET {key} (Statuspage v2 format, public, CORS)."
    return handle


async def preflight(_request: web.Request) -> web.Response:
    """OPTIONS on /api/v2/*: widgets may send conditional GETs from other origins."""
    return web.Response(
        status=204,
        headers={
            **dict(CORS),
            "Access-Control-Allow-Methods": "GET",
            "Access-Control-Allow-Headers": "If-None-Match",
            "Access-Control-Max-Age": "86400",
        },
    )


def add_routes(app: web.Application) -> None:
    for name in DOCUMENTS:
        app.router.add_get(PREFIX + name, _handler(app, name))
    app.router.add_route("OPTIONS", PREFIX + "{path:.+}", preflight)
