"""The 404 page: every HTML route's HTTPNotFound (unknown page, component, incident or token)
and a missing file under /static become the same rendered page; JSON routes (/api/, or a JSON
error body) keep their JSON."""

from __future__ import annotations

import asyncio

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


async def _missing_static_file(request: web.Request, response: web.StreamResponse) -> bool:
    """Whether a static route's answer is for a file that is not there.

    aiohttp's static route returns a FileResponse without looking for the file: only sending it
    finds the file missing and answers a bare 404, after this middleware is done. So look first
    (aiohttp has already refused paths outside the directory, with an HTTPNotFound caught below).
    """
    if not isinstance(response, web.FileResponse):
        return False
    directory = request.match_info.route.resource.get_info().get("directory")
    filename = request.match_info.get("filename")
    if directory is None or filename is None:
        return False
    return not await asyncio.to_thread((directory / filename).is_file)


@web.middleware
async def not_found_page(request: web.Request, handler):
    """Answer a missing HTML page or static file with templates/404.html (rendered once per
    cache_ttl)."""
    try:
        response = await handler(request)
        if await _missing_static_file(request, response):
            raise web.HTTPNotFound()
        return response
    except web.HTTPNotFound as exc:
        if _is_json(request, exc):
            raise
        # Every miss gets the very same body whatever was asked for: nothing to enumerate by.
        entry = await request.app[RENDER_CACHE].get("404", lambda: _render(request.app))
        headers = {k: v for k, v in exc.headers.items() if k.lower() not in _BODY_HEADERS}
        headers.setdefault("Cache-Control", "no-cache")
        return web.Response(body=entry.body, status=404, content_type="text/html",
                            charset="utf-8", headers=headers)  # fmt: skip
