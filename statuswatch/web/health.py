"""GET /healthz: is the database writable, is the scheduler on time, what the monitors say,
and how each role is (README "Processes").

In the web role the monitor's figures are those it last published (its heartbeat), with their
age: a monitor that stopped beating makes /healthz fail while the worker goes on serving pages.
`/healthz?role=web` asks about this web worker alone (what a load balancer should check).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

from aiohttp import web

from statuswatch.clock import iso
from statuswatch.cluster.settings import node_name
from statuswatch.roles.published import PublishedBoard
from statuswatch.web.keys import (
    BOARD,
    CLOCK,
    CLUSTER,
    CONFIG,
    HEALTH_CACHE,
    MONITORING,
    ROLE,
    STARTED_AT,
    STORE,
)
from statuswatch.web.render_cache import respond


async def healthz(request: web.Request) -> web.Response:
    """200 when every role is healthy, 503 otherwise; details as JSON (1 s fresh)."""
    web_only = request.query.get("role") == "web"
    key = "healthz?role=web" if web_only else "healthz"
    entry = await request.app[HEALTH_CACHE].get(key, lambda: _answer(request.app, web_only))
    return respond(request, entry, content_type="application/json", max_age=0)


def monitor_health(app: web.Application) -> dict[str, Any]:
    """The monitor role's own figures (also what it publishes for the web role every beat)."""
    cluster = app.get(CLUSTER)
    # On SQLite the one process leads its own file; of several nodes, the lease's holder.
    lease = None if cluster is None else cluster.health()
    if cluster is not None and not cluster.leading:
        return _follower_health(app, lease)
    monitoring = app[MONITORING]
    db = app[STORE].write_stats()
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
    status = _store_status(db)
    if lease is not None and lease["state"] == "suspended" and status == "ok":
        status = "degraded"  # cut off: the term is open in memory only, its writes held
    return {
        "status": status,
        "role": "leader",
        "lease": lease,
        "uptime_seconds": round(app[CLOCK].time() - app[STARTED_AT], 1),
        "database": _database(db),
        "scheduler": scheduler,
        "monitors": {"total": len(monitoring.monitors), **states},
        # Checks that were statuswatch's own fault (no evidence), by reason, and the last one.
        "inconclusive": tally.inconclusive,
        "last_inconclusive": None
        if last is None
        else {"time": iso(last.time), "monitor": last.monitor_id, "reason": last.inconclusive},
    }


def _follower_health(app: web.Application, lease: dict[str, Any] | None) -> dict[str, Any]:
    """A follower decides nothing: healthy while it serves and its store takes writes; the
    lease says who leads."""
    db = app[STORE].write_stats()
    return {
        "status": _store_status(db),
        "role": "follower",
        "lease": lease,
        "uptime_seconds": round(app[CLOCK].time() - app[STARTED_AT], 1),
        "database": _database(db),
        "scheduler": None,
        "monitors": {"total": len(app[CONFIG].monitors)},
    }


def _database(db: dict[str, Any]) -> dict[str, Any]:
    """The store's state as /healthz shows it (leader and follower alike)."""
    database = {k: db[k] for k in ("writable", "last_write", "pending", "last_error")}
    return {
        **database,
        "last_write": iso(database["last_write"]),
        "dropped": db.get("dropped", 0),
        "fenced": db.get("fenced", 0),  # refused by the lease's fence: this node's term was over
    }


def _store_status(db: dict[str, Any]) -> str:
    """ok; degraded while writes wait in memory for the database to come back; failing when
    the writer has stopped for good."""
    if db["writable"]:
        return "ok"
    return "failing" if db.get("crashed") else "degraded"


def _this_process(app: web.Application) -> dict[str, Any]:
    return {
        "status": "ok",
        "pid": os.getpid(),
        "uptime_seconds": round(app[CLOCK].time() - app[STARTED_AT], 1),
    }


async def _answer(app: web.Application, web_only: bool) -> tuple[bytes, int]:
    if app[ROLE] == "web":
        body = await _web_health(app, web_only)
    else:
        body = monitor_health(app)
        here = {"status": body["status"], "pid": os.getpid()}
        body["roles"] = {"monitor": here, **({"web": here} if app[ROLE] == "all" else {})}
    # A worker that cannot read the store still serves its last good pages: a load balancer
    # asking about the worker alone keeps sending it traffic (every worker shares the store).
    serving = body["status"] == "ok" or (web_only and body["status"] == "degraded")
    return json.dumps(body).encode(), 200 if serving else 503


async def _web_health(app: web.Application, web_only: bool) -> dict[str, Any]:
    """This worker's figures and the monitor's last published ones, with their age."""
    board: PublishedBoard = app[BOARD]  # type: ignore[assignment]
    worker = _this_process(app)
    try:
        worker["store"] = await app[STORE].health()
    except Exception as exc:  # the store away: the worker serves its last good pages
        worker["store"] = {"readable": False, "last_error": f"{type(exc).__name__}: {exc}"}
        worker["status"] = "degraded"
    if web_only:
        return {"status": worker["status"], "roles": {"web": worker}}
    pub = board.current
    if pub is None:
        return {"status": "failing", "roles": {"monitor": {"status": "not started"}, "web": worker}}
    age = round(app[CLOCK].time() - pub.beat, 1)
    if pub.stopping:
        monitor_status = "stopped"
    elif board.stale:
        monitor_status = "not reporting"
    else:
        monitor_status = pub.health.get("status", "failing")
    monitor = {
        "status": monitor_status,
        "pid": pub.pid,
        "as_of": iso(pub.beat),
        "age_seconds": age,
    }
    body = dict(pub.health)
    if (lease := body.get("lease")) is not None:  # the leader published it: is that us?
        body["role"] = "leader" if lease.get("holder") == node_name(app[CONFIG]) else "follower"
    body["status"] = monitor_status if monitor_status in ("ok", "degraded") else "failing"
    body["roles"] = {"monitor": monitor, "web": worker}
    return body


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
