"""GET /theme.css: the site's configured colours as CSS custom properties.

A route rather than inline style: the CSP allows stylesheets from this origin only, and no
`style=""` anywhere. The colours are validated as `#rrggbb` when config is parsed, so nothing
else can reach the stylesheet; config is frozen, so the body is computed once.
"""

from __future__ import annotations

from aiohttp import web

from statuswatch.config.model import Site
from statuswatch.web.keys import CONFIG, RENDER_CACHE
from statuswatch.web.render_cache import respond


def theme_css(site: Site) -> bytes:
    """Accent colours for the light theme and, under prefers-color-scheme, the dark one."""
    return (
        f":root {{ --accent: {site.accent}; }}\n"
        f"@media (prefers-color-scheme: dark) {{ :root {{ --accent: {site.accent_dark}; }} }}\n"
    ).encode()


async def theme(request: web.Request) -> web.Response:
    """GET /theme.css (ETag, revalidated like every public page)."""
    site = request.app[CONFIG].site

    async def render() -> bytes:
        return theme_css(site)

    entry = await request.app[RENDER_CACHE].get("/theme.css", render)
    return respond(request, entry, content_type="text/css", max_age=int(site.cache_ttl))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/theme.css", theme)
