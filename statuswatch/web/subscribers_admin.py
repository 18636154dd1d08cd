"""Admin API for subscribers: list, export as CSV, remove (bearer token required)."""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp import web

from statuswatch.clock import iso
from statuswatch.store.outbox import RemoveSubscriber
from statuswatch.store.outbox_reads import SubscriberRecord, subscribers
from statuswatch.web.json_io import not_found
from statuswatch.web.keys import STORE
from statuswatch.web.security import require_admin

FIELDS = ("id", "channel", "address", "state", "components", "created_at", "confirmed_at", "bounce")


def subscriber_json(sub: SubscriberRecord) -> dict[str, Any]:
    """A subscriber as the admin API shows it (components null: all)."""
    return {
        "id": sub.id,
        "channel": sub.channel,
        "address": sub.address,
        "state": sub.state,
        "components": None if sub.components is None else list(sub.components),
        "created_at": iso(sub.created),
        "confirmed_at": iso(sub.confirmed_at),
        "bounce": sub.bounce,
    }


async def list_subscribers(request: web.Request) -> web.Response:
    """GET /api/v1/subscribers: every subscriber, oldest first."""
    require_admin(request)
    store = request.app[STORE]
    await store.flush()  # requests answered before this one are part of the list
    found = await store.read_outbox(subscribers)
    return web.json_response({"subscribers": [subscriber_json(s) for s in found]})


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with these as a formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def export_subscribers(request: web.Request) -> web.Response:
    """GET /api/v1/subscribers.csv: the same list as CSV (components joined by spaces)."""
    require_admin(request)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    store = request.app[STORE]
    await store.flush()
    for sub in await store.read_outbox(subscribers):
        row = subscriber_json(sub)
        row["components"] = " ".join(row["components"] or ["*"])
        writer.writerow([_cell(row[f]) for f in FIELDS])
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
    )


async def remove_subscriber(request: web.Request) -> web.Response:
    """DELETE /api/v1/subscribers/{id}: forget the subscriber, its tokens and its messages."""
    require_admin(request)
    store = request.app[STORE]
    ident = request.match_info["id"]
    known = {s.id for s in await store.read_outbox(subscribers)}
    if not ident.isdigit() or int(ident) not in known:
        raise not_found("subscriber")
    store.submit(RemoveSubscriber(int(ident)))
    await store.flush()
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/subscribers", list_subscribers)
    app.router.add_get("/api/v1/subscribers.csv", export_subscribers)
    app.router.add_delete("/api/v1/subscribers/{id}", remove_subscriber)
