"""The 404 page: every HTML route's HTTPNotFound (unknown page, component, incident or token)
becomes the same rendered page; JSON routes (/api/, or a JSON error body) keep their JSON."""

from __future__ import annotations

from aiohttp import web

from statuswatch.web.keys import CONFIG, RENDER_CACHE, TEMPLATES
from statuswatch.web.render_cache import off_loop

# Headers of the original error that describe its old body, not the page that replaces it.
_BODY_HEADERS = {"content-type", "content-length", "content-encoding"}


def _is_json(request: web.Request, exc: web.HTTPNotFound) -> bool:
    return request.path.startswith("/api/") or exc.content_type == "application/json"


async def _render(app: web.Application) -> tuple[bytes, int]:
    template = app[TEMPLATES].get_template("404.html")
    return await off_loop(template.render, {"site": app[CONFIG].site}), 404


@web.middleware
async def not_found_page(request: web.Request, handler):
    """Answer a missing HTML page with templates/404.html (rendered once per cache_ttl)."""
    try:
        return await handler(request)
    except web.HTTPNotFound as exc:
        if _is_json(request, exc):
            raise
        # Every miss gets the very same body whatever was asked for: nothing to enumerate by.
        entry = await request.app[RENDER_CACHE].get("404", lambda: _render(request.app))
        headers = {k: v for k, v in exc.headers.items() if k.lower() not in _BODY_HEADERS}
        headers.setdefault("Cache-Control", "no-cache")
        return web.Response(body=entry.body, status=404, content_type="text/html",
                            charset="utf-8", headers=headers)  # fmt: skip
