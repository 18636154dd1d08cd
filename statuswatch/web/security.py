"""Headers every response carries, and the admin-token check."""

from __future__ import annotations

from aiohttp import web

from statuswatch.tokens import matches
from statuswatch.web.keys import ADMIN_TOKEN, AUTH_LIMITER

# No inline script or style anywhere, nothing from another origin: the page works offline.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@web.middleware
async def security_headers(request: web.Request, handler):
    """Add the security headers to every response, errors included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(HEADERS)
        raise
    response.headers.update(HEADERS)
    return response


def client_key(request: web.Request) -> str:
    """The address rate limits are kept per (the peer; proxies are not trusted blindly)."""
    return request.remote or "unknown"


def too_many(request: web.Request) -> web.HTTPTooManyRequests | None:
    """An HTTP 429 when this client has used up its failed attempts, else None."""
    if request.app[AUTH_LIMITER].allow(client_key(request)):
        return None
    return web.HTTPTooManyRequests(
        text='{"error": "too many failed attempts; slow down"}',
        content_type="application/json",
        headers={"Retry-After": "60"},
    )


def require_admin(request: web.Request) -> None:
    """Raise 401 unless the request carries the admin bearer token (compared in constant time)."""
    expected = request.app[ADMIN_TOKEN]
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() == "bearer" and matches(presented.strip(), expected):
        return
    if (limited := too_many(request)) is not None:
        raise limited
    raise web.HTTPUnauthorized(
        text='{"error": "missing or invalid bearer token"}',
        content_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="statuswatch"'},
    )
