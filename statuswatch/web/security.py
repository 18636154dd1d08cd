"""Headers every response carries, and the admin-token check."""

from __future__ import annotations

import functools
import math

from aiohttp import web

from statuswatch.auth.tokens import matches
from statuswatch.cluster.forward import has_cluster_token
from statuswatch.config.model import Site
from statuswatch.roles.forward import CLIENT_HEADER
from statuswatch.web.keys import ADMIN_TOKEN, AUTH_LIMITER, CLUSTER_TOKEN, CONFIG, ROLE
from statuswatch.web.render_cache import CachedResponse

# Two years would be the preload list's ask; one year is the common floor and easy to back out of.
HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(frame_ancestors: str) -> str:
    """The CSP: nothing inline (no 'unsafe-inline' anywhere), nothing from another origin."""
    return (
        "default-src 'self'; object-src 'none'; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; form-action 'self'"
    )


def security_headers_for(site: Site) -> dict[str, str]:
    """The headers every response carries, for this [site] config (computed once)."""
    return _headers(site.frame_ancestors, site.base_url)


# Keyed on the two settings, not the Site struct: it holds lists, so it is not hashable.
@functools.lru_cache(maxsize=8)
def _headers(frame_ancestors: str, base_url: str) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        # The private report URL is a credential: never send it (or any path) to other sites.
        "Referrer-Policy": "no-referrer",
    }
    # X-Frame-Options for browsers without CSP frame-ancestors. It can only say DENY or
    # SAMEORIGIN: when config allows other sites to frame us, sending it would contradict the
    # CSP (old browsers would block the widget the operator asked for), so it is left out.
    xfo = {"'none'": "DENY", "'self'": "SAMEORIGIN"}.get(frame_ancestors.strip())
    if xfo is not None:
        headers["X-Frame-Options"] = xfo
    if base_url.lower().startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS  # browsers ignore it over plain http anyway
    return headers


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response the app sends (errors, 304s, router 404/405 and
    static files included) gets the headers, just before they are written.

    A signal rather than a middleware: any middleware puts aiohttp's middleware chain on every
    request, which cost the cached stampede path 12 % of its requests per second. A
    CachedResponse has them already (its RenderCache was given them; built once per body).
    """
    if type(response) is not CachedResponse:
        response.headers.update(security_headers_for(request.app[CONFIG].site))


def client_key(request: web.Request) -> str:
    """The address rate limits are kept per (the peer; proxies are not trusted blindly).

    In the monitor role the peer is a web worker on the monitor's private socket, which passes
    on the address its own peer had; so does another node, proven by the cluster token.
    """
    if request.app.get(ROLE) == "monitor" or has_cluster_token(
        request, request.app.get(CLUSTER_TOKEN)
    ):
        return request.headers.get(CLIENT_HEADER, "unknown")
    return request.remote or "unknown"


def _limited(wait: float) -> web.HTTPTooManyRequests:
    return web.HTTPTooManyRequests(
        text='{"error": "too many failed attempts; slow down"}',
        content_type="application/json",
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


def _bucket(request: web.Request, scope: str) -> str:
    # One bucket per kind of token and address: misses on /push do not lock out the admin API.
    return f"{scope} {client_key(request)}"


def refuse_if_limited(request: web.Request, scope: str) -> None:
    """Raise 429 while this address is limited on `scope`, before any token is looked at.

    A limited address is refused with the right token too: answering it would tell a guesser
    which guess was right and let guessing go on at full speed.
    """
    if (wait := request.app[AUTH_LIMITER].wait(_bucket(request, scope))) > 0:
        raise _limited(wait)


def too_many(request: web.Request, scope: str) -> web.HTTPTooManyRequests | None:
    """After a wrong token on `scope`: an HTTP 429 when this spends the address's last try."""
    limiter, key = request.app[AUTH_LIMITER], _bucket(request, scope)
    if limiter.allow(key):
        return None
    return _limited(limiter.wait(key))


def require_admin(request: web.Request) -> None:
    """Raise 401 unless the request carries the admin bearer token (compared in constant time)."""
    refuse_if_limited(request, "admin")
    expected = request.app[ADMIN_TOKEN]
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() == "bearer" and matches(presented.strip(), expected):
        return
    if (limited := too_many(request, "admin")) is not None:
        raise limited
    raise web.HTTPUnauthorized(
        text='{"error": "missing or invalid bearer token"}',
        content_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="statuswatch"'},
    )
