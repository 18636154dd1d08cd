"""/history.atom (RFC 4287) and /history.rss (RSS 2.0): incidents and maintenance with updates.

XML is built with ElementTree, never by pasting strings: titles and bodies are text nodes, so
the serializer escapes them (entry content is HTML carried as escaped text, type="html").
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web

from statuswatch.clock import iso
from statuswatch.site.feed_items import FeedItem, base_url, feed_items, load_feed_data
from statuswatch.web.keys import CONFIG
from statuswatch.web.render_cache import off_loop
from statuswatch.web.site_pages import cached

ATOM_NS = "http://www.w3.org/2005/Atom"
_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _latest(items: list[FeedItem]) -> float:
    # An empty feed says "never updated" (the epoch) rather than "now": its ETag stays put.
    return max((i.updated for i in items), default=0.0)


def atom(title: str, base: str, items: list[FeedItem]) -> str:
    """An Atom feed document."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    a = f"{{{ATOM_NS}}}"
    _sub(feed, a + "id", f"{base}/history.atom")
    _sub(feed, a + "title", f"{title} – incident and maintenance history")
    _sub(feed, a + "updated", iso(_latest(items)))
    _sub(feed, a + "link", rel="self", type="application/atom+xml", href=f"{base}/history.atom")
    _sub(feed, a + "link", rel="alternate", type="text/html", href=f"{base}/history")
    _sub(_sub(feed, a + "author"), a + "name", title)
    for item in items:
        entry = _sub(feed, a + "entry")
        _sub(entry, a + "id", item.id)
        _sub(entry, a + "title", item.title)
        _sub(entry, a + "published", iso(item.published))
        _sub(entry, a + "updated", iso(item.updated))
        _sub(entry, a + "link", rel="alternate", type="text/html", href=item.link)
        _sub(entry, a + "content", item.html, type="html")
    return _DECLARATION + ET.tostring(feed, encoding="unicode")


def _rfc822(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(ts, UTC), usegmt=True)


def rss(title: str, base: str, items: list[FeedItem]) -> str:
    """An RSS 2.0 document (guids are the entries' permanent ids)."""
    root = ET.Element("rss", version="2.0")
    channel = _sub(root, "channel")
    _sub(channel, "title", f"{title} – incident and maintenance history")
    _sub(channel, "link", f"{base}/history")
    _sub(channel, "description", f"Incidents and maintenance on {title}")
    _sub(channel, "lastBuildDate", _rfc822(_latest(items)))
    for item in items:
        entry = _sub(channel, "item")
        _sub(entry, "title", item.title)
        _sub(entry, "link", item.link)
        permalink = "true" if item.id == item.link else "false"
        _sub(entry, "guid", item.id, isPermaLink=permalink)
        _sub(entry, "pubDate", _rfc822(item.updated))
        _sub(entry, "description", item.html)
    return _DECLARATION + ET.tostring(root, encoding="unicode")


def _feed_handler(path: str, write, content_type: str):
    async def handler(request: web.Request) -> web.Response:
        app = request.app

        async def render() -> bytes:
            data = await load_feed_data(app)
            title, base = app[CONFIG].site.title, base_url(app)
            return await off_loop(lambda: write(title, base, feed_items(app, data)))

        return await cached(request, path, render, content_type)

    handler.__doc__ = f"GET {path}: the feed of incidents and maintenance."
    return handler


def add_routes(app: web.Application) -> None:
    app.router.add_get(
        "/history.atom", _feed_handler("/history.atom", atom, "application/atom+xml")
    )
    app.router.add_get("/history.rss", _feed_handler("/history.rss", rss, "application/rss+xml"))
