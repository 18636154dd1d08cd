"""The 404 page: an unknown URL, a missing file under /static, and an HTML route's HTTPNotFound
(unknown component, incident or token) all get the same rendered page; JSON routes (/api/, or a
JSON error body) keep their JSON.

No middleware does this. Any middleware at all puts aiohttp's middleware chain (two coroutine
layers and a cache lookup) on every request, and on the stampede path, /api/v2/summary.json
served from memory, that was 12 % of the requests per second (bench/site.py). So the three ways
to miss are caught where they happen: a catch-all route registered last, the /static handler,
and `html_404` around the HTML handlers that look things up.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from aiohttp import web

from statuswatch.web.keys import CONFIG, RENDER_CACHE, TEMPLATES
from statuswatch.web.render_cache import off_loop

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Headers of the original error that describe its old body, not the page that replaces it.
_BODY_HEADERS = {"content-type", "content-length", "content-encoding"}


async def _render(app: web.Application) -> tuple[bytes, int]:
    template = app[TEMPLATES].get_template("404.html")
    return await off_loop(template.render, {"site": app[CONFIG].site}), 404


async def not_found_page(
    request: web.Request, headers: Mapping[str, str] | None = None
) -> web.Response:
    """The 404 page (rendered once per cache_ttl); `headers` of the error it replaces are kept."""
    # Every miss gets the very same body whatever was asked for: nothing to enumerate by.
    entry = await request.app[RENDER_CACHE].get("404", lambda: _render(request.app))
    kept = {k: v for k, v in (headers or {}).items() if k.lower() not in _BODY_HEADERS}
    kept.setdefault("Cache-Control", "no-cache")
    return web.Response(
        body=entry.body, status=404, content_type="text/html", charset="utf-8", headers=kept
    )


def html_404(handler: Handler) -> Handler:
    """Wrap an HTML route's handler: its HTTPNotFound becomes the 404 page (a JSON body stays)."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound as exc:
            if exc.content_type == "application/json":
                raise
            return await not_found_page(request, exc.headers)

    return wrapped


def add_static(app: web.Application, directory: Path) -> None:
    """GET /static/<name>: the files directly in `directory` (no subdirectories, so no path can
    leave it), with FileResponse's ETag, Last-Modified and ranges; a missing one is the 404 page
    (is_file is one stat: microseconds, not worth a thread).
    """

    async def static_file(request: web.Request) -> web.StreamResponse:
        # The pattern matches before %2F is decoded, so a name can still hold a "/": only a
        # file whose parent is the directory itself is served (no dotfiles either).
        name = request.match_info["name"]
        path = directory / name
        if name.startswith(".") or path.parent != directory or not _is_file(path):
            return await not_found_page(request)
        return web.FileResponse(path)

    app.router.add_get("/static/{name}", static_file)


def _is_file(path: Path) -> bool:
    """is_file, where any name the filesystem refuses (ENAMETOOLONG, EILSEQ) is just no file."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def add_catch_all(app: web.Application) -> None:
    """Register last: any URL no other route matched, for any method."""
    router = app.router

    async def unknown_url(request: web.Request) -> web.StreamResponse:
        # The catch-all hides the 405 aiohttp would have given for a known path asked with the
        # wrong method: ask the other resources (only misses pay for this walk).
        allowed: set[str] = set()
        for resource in router.resources():
            if resource is not catch_all:
                allowed |= (await resource.resolve(request))[1]
        if allowed:
            raise web.HTTPMethodNotAllowed(request.method, allowed)
        if request.path.startswith("/api/"):
            raise web.HTTPNotFound()
        return await not_found_page(request)

    catch_all = router.add_route("*", "/{tail:.*}", unknown_url).resource
