"""GET /healthz: is the database writable, is the scheduler on time, what the monitors say."""

from __future__ import annotations

import json
from collections import Counter

from aiohttp import web

from statuswatch.clock import iso
from statuswatch.web.keys import CLOCK, HEALTH_CACHE, MONITORING, STARTED_AT, STORE
from statuswatch.web.render_cache import respond


async def healthz(request: web.Request) -> web.Response:
    """200 when the database accepts writes, 503 otherwise; details as JSON (1 s fresh)."""
    entry = await request.app[HEALTH_CACHE].get("healthz", lambda: _health(request.app))
    return respond(request, entry, content_type="application/json", max_age=0)


async def _health(app: web.Application) -> tuple[bytes, int]:
    monitoring = app[MONITORING]
    db = await app[STORE].health()
    fleet = monitoring.snapshot()
    states = Counter(state.value for state in fleet.states.values())
    stats = fleet.scheduler
    scheduler = None
    if stats is not None:
        p99 = stats.lateness_quantile(0.99)
        scheduler = {
            "runs": stats.runs,
            "skipped": stats.skipped,
            "in_flight": stats.in_flight,
            "lag_p99_seconds": None if p99 is None else round(p99, 4),
        }
    tally = fleet.tally
    last = tally.last_inconclusive
    body = {
        "status": "ok" if db["writable"] else "failing",
        "uptime_seconds": round(app[CLOCK].time() - app[STARTED_AT], 1),
        "database": {**db, "last_write": iso(db.get("last_write"))},
        "scheduler": scheduler,
        "monitors": {"total": len(monitoring.monitors), **states},
        # Checks that were statuswatch's own fault (no evidence), by reason, and the last one.
        "inconclusive": tally.inconclusive,
        "last_inconclusive": None
        if last is None
        else {"time": iso(last.time), "monitor": last.monitor_id, "reason": last.inconclusive},
    }
    return json.dumps(body).encode(), 200 if db["writable"] else 503


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
