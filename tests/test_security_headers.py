"""Security headers from [site] config, its validation, and token look-ups that do the same work
for known and unknown tokens."""

from __future__ import annotations

import hmac

import pytest

from statuswatch.auth.tokens import find_owner, token_digest
from statuswatch.clock import FakeClock
from statuswatch.config import ConfigError, parse_config
from tests.helpers.config import make_config
from tests.helpers.site import make_site, site_section

PATHS = [
    "/",
    "/history",
    "/maintenance",
    "/history.atom",
    "/maintenance.ics",
    "/nope",
    "/api/v1/incidents",
    "/api/v2/summary.json",
    "/healthz",
    "/static/style.css",
    "/badge/checkout.svg",
    "/theme.css",
]


def directives(csp: str) -> dict[str, str]:
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in csp.split("; ")}


@pytest.mark.parametrize("path", PATHS)
async def test_default_headers_on_every_response(aiohttp_client, tmp_path, path):
    client = await make_site(aiohttp_client, tmp_path, FakeClock())
    resp = await client.get(path)
    assert resp.status == {"/nope": 404, "/api/v1/incidents": 401}.get(path, 200), path
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"):
        assert len(resp.headers.getall(name)) == 1, name  # cached or not, sent exactly once
    csp = directives(resp.headers["Content-Security-Policy"])
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in resp.headers  # base_url is http://


async def test_hsts_only_when_the_site_is_https(aiohttp_client, tmp_path):
    site = site_section(base_url="https://status.example.com")
    client = await make_site(aiohttp_client, tmp_path, FakeClock(), site=site)
    for path in ("/", "/nope"):
        resp = await client.get(path)
        assert resp.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


async def test_304_revalidations_carry_the_headers_too(aiohttp_client, tmp_path):
    client = await make_site(aiohttp_client, tmp_path, FakeClock())
    first = await client.get("/history")
    again = await client.get("/history", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304 and again.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in again.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("ancestors", "xfo"),
    [
        ("'self'", "SAMEORIGIN"),
        ("'self' https://shop.example.com", None),  # X-Frame-Options cannot say this
        ("https://*.example.com:8443 https:", None),
    ],
)
async def test_framing_follows_config(aiohttp_client, tmp_path, ancestors, xfo):
    site = site_section(frame_ancestors=ancestors)
    client = await make_site(aiohttp_client, tmp_path, FakeClock(), site=site)
    resp = await client.get("/maintenance")
    assert directives(resp.headers["Content-Security-Policy"])["frame-ancestors"] == ancestors
    assert resp.headers.get("X-Frame-Options") == xfo


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "site.frame_ancestors: must not be empty"),
        ("'none' 'self'", "site.frame_ancestors: 'none' must stand alone"),
        ("'self'; script-src *", "site.frame_ancestors: 'self'; is not allowed here"),
        (
            "https://a.example.com, https://b.example.com",
            "site.frame_ancestors: 'https://a.example.com,' is not a CSP source",
        ),
        ("'unsafe-inline'", "site.frame_ancestors: 'unsafe-inline' is not allowed here"),
        ('https://exa mple.com"', "site.frame_ancestors: 'mple.com\"' is not a CSP source"),
    ],
)
def test_bad_frame_ancestors_name_the_key(tmp_path, value, message):
    with pytest.raises(ConfigError) as err:
        make_config(tmp_path, [], site={"frame_ancestors": value})
    assert message in str(err.value)


def test_good_frame_ancestors_pass(tmp_path):
    for value in (
        "'none'",
        "'self'",
        "https:",
        "https://shop.example.com",
        "'self' *.example.com https://x.example.org:443/embed/",
    ):
        raw = {"site": {"frame_ancestors": value}, "components": [], "monitors": []}
        assert parse_config(raw, base_dir=tmp_path).site.frame_ancestors == value


class Counting:
    """Wraps the real digest and compare, counting calls (the work each path does)."""

    def __init__(self) -> None:
        self.digests = 0
        self.compares = 0

    def digest(self, token: str) -> bytes:
        self.digests += 1
        return token_digest(token)

    def compare(self, a: bytes, b: bytes) -> bool:
        self.compares += 1
        return hmac.compare_digest(a, b)


def test_known_and_unknown_tokens_do_the_same_work():
    owners = {token_digest(f"token-{i}"): f"customer-{i}" for i in range(100)}
    hit, miss = Counting(), Counting()
    assert find_owner(owners, "token-42", digest=hit.digest, compare=hit.compare) == "customer-42"
    assert find_owner(owners, "token-x", digest=miss.digest, compare=miss.compare) is None
    assert (hit.digests, hit.compares) == (miss.digests, miss.compares) == (1, 1)
    # The unknown path compares against a stand-in, never against a stored digest.
    assert find_owner(owners, "") is None and find_owner({}, "token-1") is None
