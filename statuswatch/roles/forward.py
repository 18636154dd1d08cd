"""The web role hands writes to the monitor role: the same request, over the monitor's socket.

Whatever changes state (subscriptions, admin edits, pushes) is answered by the monitor
process's own handlers, so there is one writer and one implementation of every rule: an admin
call still returns after its change is committed, a subscribe answers identically for new,
pending and confirmed addresses. The socket is a file beside the database (mode 0600): only
processes of the same user reach it, so the client address they pass on is trusted there.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from statuswatch.config import Config

# The address of the stranger a forwarded request came from (rate limits key on it).
CLIENT_HEADER = "X-Statuswatch-Client"
# Longest path a Unix socket may have on Linux (sun_path is 108 bytes with its NUL).
SOCKET_PATH_MAX = 107
# Forwarded requests in flight per web worker, and how many more may wait: the monitor's own
# loop runs the probes, so a crowd of subscribers (or strangers) cannot flood it.
IN_FLIGHT = 16
WAITING = 256
TIMEOUT = 30.0
_HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Host",
        "Content-Length",
        CLIENT_HEADER,
    )
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def monitor_socket(config: Config) -> Path:
    """Where the monitor role listens for the web role: beside the database file."""
    db = Path(config.storage.path).absolute()
    return db.with_name(db.name + ".sock")


def socket_problem(config: Config) -> str | None:
    """Why the monitor's socket cannot be made for this config (None: it can)."""
    path = monitor_socket(config)
    if len(os.fsencode(path)) > SOCKET_PATH_MAX:
        return (
            f"storage.path: the monitor's socket {path} would be longer than "
            f"{SOCKET_PATH_MAX} bytes; use a shorter path (or site.workers = 0)"
        )
    return None


class MonitorLink:
    """The web worker's client of the monitor role (one connection pool, bounded)."""

    def __init__(self, path: Path | None, base: str = "http://monitor") -> None:
        self.path = path  # None: over TCP to `base` (a follower's link to the leader's site)
        self.base = base
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(IN_FLIGHT)
        self._waiting = 0

    async def start(self) -> None:
        """Open the connection pool (connections are made on first use)."""
        self._session = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=str(self.path), limit=IN_FLIGHT)
            if self.path is not None
            else aiohttp.TCPConnector(limit=IN_FLIGHT),
            timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            auto_decompress=False,  # bodies pass through as the monitor encoded them
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        """Close the pool."""
        if self._session is not None:
            await self._session.close()

    async def call(
        self, method: str, path_qs: str, headers: dict[str, str], body: bytes, base: str = ""
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send one request to the monitor; its status, headers and body (raises when it fails)."""
        assert self._session is not None, "MonitorLink.start() first"
        if self._waiting >= WAITING:
            raise Busy
        self._waiting += 1
        try:
            async with self._slots:
                async with self._session.request(
                    method,
                    (base or self.base) + path_qs,
                    headers=headers,
                    data=body or None,
                    allow_redirects=False,
                ) as resp:
                    payload = await resp.read()
                    kept = [(k, v) for k, v in resp.headers.items() if k.lower() not in _HOP_BY_HOP]
                    return resp.status, kept, payload
        finally:
            self._waiting -= 1

    async def forward(
        self,
        request: web.Request,
        *,
        client: str | None = None,
        extra: dict[str, str] | None = None,
        base: str = "",
    ) -> web.Response:
        """Answer `request` with the monitor's answer to the same request (`client`: the
        stranger's address when it came from a trusted hop; `extra`: headers to add)."""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers[CLIENT_HEADER] = client or request.remote or "unknown"
        headers.update(extra or {})
        body = await request.read()
        try:
            status, kept, payload = await self.call(
                request.method, request.rel_url.raw_path_qs, headers, body, base
            )
        except Busy:
            return unavailable(request, 503, "too many requests are waiting; try again shortly")
        except (aiohttp.ClientConnectionError, FileNotFoundError, ConnectionRefusedError):
            # Nothing reached the monitor: safe to try again, nothing was done.
            return unavailable(request, 503, "statuswatch's monitor is restarting; try again")
        except TimeoutError:
            # The monitor may have done it: say so rather than claim either way.
            return unavailable(
                request, 504, "statuswatch's monitor did not answer in time; check before retrying"
            )
        response = web.Response(status=status, body=payload)
        for key, value in kept:
            response.headers.add(key, value)
        return response


class Busy(Exception):
    """Too many forwarded requests are already waiting in this worker."""


def unavailable(request: web.Request, status: int, reason: str) -> web.Response:
    headers = {"Retry-After": "5"} if status == 503 else {}
    if request.path.startswith("/api/"):
        return web.json_response({"error": reason}, status=status, headers=headers)
    return web.Response(text=reason + "\n", status=status, headers=headers)


class ForwardingRouter:
    """Stands in for an app's router while a route module adds its routes in the web role:
    each route is registered with the forwarder instead of its handler, except those kept."""

    def __init__(
        self,
        router: web.UrlDispatcher,
        forward: Handler,
        keep: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._router = router
        self._forward = forward
        self._keep = frozenset(keep)

    def add_route(self, method: str, path: str, handler: Handler, **kwargs: Any) -> Any:
        """Register `path` for `method`, answered by the monitor unless kept local."""
        chosen = handler if (method, path) in self._keep else self._forward
        return self._router.add_route(method, path, chosen, **kwargs)

    def add_get(self, path: str, handler: Handler, **kwargs: Any) -> Any:
        """GET (and HEAD, as aiohttp's add_get does)."""
        chosen = handler if ("GET", path) in self._keep else self._forward
        return self._router.add_get(path, chosen, **kwargs)

    def add_post(self, path: str, handler: Handler, **kwargs: Any) -> Any:
        return self.add_route("POST", path, handler, **kwargs)

    def add_put(self, path: str, handler: Handler, **kwargs: Any) -> Any:
        return self.add_route("PUT", path, handler, **kwargs)

    def add_patch(self, path: str, handler: Handler, **kwargs: Any) -> Any:
        return self.add_route("PATCH", path, handler, **kwargs)

    def add_delete(self, path: str, handler: Handler, **kwargs: Any) -> Any:
        return self.add_route("DELETE", path, handler, **kwargs)


class ForwardingApp:
    """What a route module's `add_routes(app)` sees in the web role: a forwarding router."""

    def __init__(self, app: web.Application, router: ForwardingRouter) -> None:
        self._app = app
        self.router = router

    def __getitem__(self, key: Any) -> Any:
        return self._app[key]

    def get(self, key: Any, default: Any = None) -> Any:
        return self._app.get(key, default)
