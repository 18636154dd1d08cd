"""Incident and maintenance bodies: Markdown to safe HTML. Never rendered as a template.

markdown-it-py with raw HTML disabled turns text into HTML; nh3 (ammonia) then keeps only a
small allow-list of tags and attributes and only http(s)/mailto links, so nothing an operator
pastes (or an attacker gets into a body) can run in a reader's browser.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_MD.disable("image")  # no remote images on a status page: they leak readers' IPs

_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "a",
    "blockquote",
    "h3",
    "h4",
    "hr",
}
_ATTRIBUTES = {"a": {"href", "title"}}
_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> Markup:
    """Markdown to sanitised HTML, safe to insert into a page as is."""
    html = _MD.render(text)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
