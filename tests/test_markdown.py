"""Markdown bodies come out inert: a corpus of XSS payloads, checked by parsing the output."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import ClassVar

import pytest

from statuswatch.site.markdown import render_markdown

ALLOWED_TAGS = {
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

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click]( javascript:alert(1))",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    "![x](https://evil.example/track.png)",
    '[x](https://ok.example "title" onmouseover=alert(1))',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>body{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<input autofocus onfocus=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:/">',
    "{{7*7}} {% raw %} ${7*7} <%= 7*7 %>",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "<!--<script>alert(1)</script>-->",
    "[a]: javascript:alert(1)\n\n[a]",
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    '"><script>alert(1)</script>',
    "<scr<script>ipt>alert(1)</script>",
]


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if tag == "a" and name in ("href", "title", "rel"):
                if name == "href" and not value.lower().startswith(
                    ("http://", "https://", "mailto:")
                ):
                    self.problems.append(f"href {value!r}")
                if name == "rel":
                    assert "nofollow" in value and "noopener" in value
                continue
            self.problems.append(f"attribute {name}={value!r} on <{tag}>")


def test_corpus_is_large_enough():
    assert len(PAYLOADS) >= 30


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_inert(payload):
    html = str(render_markdown(payload))
    audit = _Audit()
    audit.feed(html)
    assert audit.problems == [], html
    assert "{{7*7}}" not in payload or "49" not in html  # never evaluated as a template


def test_ordinary_markdown_still_works():
    text = "We are **investigating** errors on [checkout](https://x.example/c).\n\n- one\n- two"
    html = str(render_markdown(text))
    assert "<strong>investigating</strong>" in html
    assert '<a href="https://x.example/c" rel="nofollow noopener noreferrer">checkout</a>' in html
    assert "<li>one</li>" in html


async def test_payloads_in_incident_titles_and_bodies_are_inert_on_the_page(
    aiohttp_client, tmp_path
):
    """Every payload as an open incident's title and latest update, through the real page."""
    from statuswatch.incidents.model import Impact, Incident, IncidentStatus
    from statuswatch.store import SaveIncident
    from statuswatch.web import create_app
    from statuswatch.web.keys import STORE
    from tests.helpers.config import make_config

    config = make_config(tmp_path, [])
    client = await aiohttp_client(create_app(config, probe=False, environ={}))
    store = client.app[STORE]
    for i, payload in enumerate(PAYLOADS):
        inc = Incident(f"x{i:02d}", payload, Impact.MINOR, IncidentStatus.INVESTIGATING, i, i)
        inc.post(i, IncidentStatus.INVESTIGATING, payload, "alice")
        store.submit(SaveIncident.of(inc))
    await store.flush()
    html = await (await client.get("/")).text()
    start = html.index("<main")
    audit = _PageAudit()
    audit.feed(html[start : html.index("</main>")])
    assert audit.problems == []
    assert html.count('class="incident ') == len(PAYLOADS)


class _PageAudit(_Audit):
    """The page's own markup is allowed too; anything else that a payload smuggled in is not."""

    # Tag -> the attributes the templates put on it (nh3 strips every attribute from payloads).
    PAGE_ATTRS: ClassVar[dict[str, set[str]]] = {
        "main": {"id", "tabindex"},
        "section": {"aria-labelledby"},
        "h1": {"id"},
        "h2": {"id"},
        "h3": set(),
        "article": set(),
        "div": {"role", "aria-label"},
        "time": {"datetime"},
        "table": set(),
        "caption": set(),
        "thead": set(),
        "tbody": set(),
        "tr": set(),
        "th": {"scope", "rowspan"},
        "td": set(),
        "p": {"aria-hidden"},
        "strong": set(),
        "small": set(),
        "br": set(),
        "span": {"aria-hidden", "role", "title"},
        "ul": set(),
        "li": {"id"},
        "details": {"open"},
        "summary": set(),
        "dl": set(),
        "dt": set(),
        "dd": set(),
    }

    def handle_starttag(self, tag, attrs):
        # nh3 drops every class attribute, so a class here can only come from the template.
        attrs = [(n, v) for n, v in attrs if n != "class"]
        if tag == "a" and attrs and all(n == "href" and re.match(r"^/[a-z]", v) for n, v in attrs):
            return  # the templates' own same-site links (/incidents/<id>, /components/<id>)
        if tag in self.PAGE_ATTRS:
            bad = [(n, v) for n, v in attrs if n not in self.PAGE_ATTRS[tag]]
            self.problems.extend(f"attribute {n}={v!r} on <{tag}>" for n, v in bad)
            return
        super().handle_starttag(tag, attrs)
