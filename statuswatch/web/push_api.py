"""POST or GET /push/<token>: a job or agent reports in (optional status=down and msg=)."""

from __future__ import annotations

from aiohttp import web

from statuswatch.web.keys import MONITORING
from statuswatch.web.security import refuse_if_limited, too_many


async def receive_push(request: web.Request) -> web.Response:
    """Record a push; unknown tokens get 404 and change nothing (and are rate limited)."""
    refuse_if_limited(request, "push")  # before anything is recorded
    params = dict(request.query)
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        params.update({k: str(v) for k, v in form.items()})
    status = params.get("status", "up").lower()
    if status not in ("up", "down"):
        return web.json_response({"error": "status: must be 'up' or 'down'"}, status=400)
    monitor_id = request.app[MONITORING].push(
        request.match_info["token"], down=status == "down", message=params.get("msg", "")
    )
    if monitor_id is None:
        if (limited := too_many(request, "push")) is not None:
            raise limited
        return web.json_response({"error": "unknown push token"}, status=404)
    return web.json_response({"ok": True, "monitor": monitor_id, "status": status})


def add_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/push/{token}", receive_push)
    app.router.add_route("POST", "/push/{token}", receive_push)
