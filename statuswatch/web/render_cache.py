"""Rendered responses kept in memory for a few seconds, so a stampede costs one render.

When thousands of people refresh the page during an outage, the probes must not notice: each
key is rendered at most once per `ttl` (concurrent misses wait for the same render: single
flight), the heavy part runs off the event loop, and clients and proxies revalidate with ETag.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from statuswatch.clock import Clock


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    etag: str
    expires: float  # monotonic
    status: int = 200


class RenderCache:
    """Bodies by key, fresh for `ttl` seconds (0: render every time)."""

    def __init__(self, clock: Clock, ttl: float) -> None:
        self._clock = clock
        self.ttl = ttl
        self._entries: dict[str, Rendered] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(
        self, key: str, render: Callable[[], Awaitable[bytes | tuple[bytes, int]]]
    ) -> Rendered:
        """The fresh body for `key`, rendering it (once, however many ask at once) if stale."""
        entry = self._entries.get(key)
        if entry is not None and entry.expires > self._clock.monotonic():
            return entry
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                entry = self._entries.get(key)  # someone else may have rendered while we waited
                if entry is not None and entry.expires > self._clock.monotonic():
                    return entry
                out = await render()
                body, status = out if isinstance(out, tuple) else (out, 200)
                etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
                entry = Rendered(body, etag, self._clock.monotonic() + self.ttl, status)
                if self.ttl > 0:
                    self._entries[key] = entry
                return entry
        finally:
            # A render that raised (e.g. 404 for an unknown id) leaves no state behind, so
            # strangers asking for endless made-up keys cannot grow memory.
            if key not in self._entries and not lock.locked():
                self._locks.pop(key, None)


def respond(request: web.Request, entry: Rendered, *, content_type: str,
            max_age: int) -> web.Response:  # fmt: skip
    """200 with the body, or 304 when the client already has it; cacheable for `max_age`."""
    headers = {"ETag": entry.etag, "Cache-Control": f"public, max-age={max_age}"}
    if max_age == 0:
        headers["Cache-Control"] = "no-cache"
    if request.headers.get("If-None-Match") == entry.etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=entry.body, status=entry.status, content_type=content_type,
                        charset="utf-8", headers=headers)  # fmt: skip


async def off_loop(func: Callable[..., str], *args: object) -> bytes:
    """Run a template render in a thread so the probes' event loop keeps its schedule."""
    text = await asyncio.get_running_loop().run_in_executor(None, func, *args)
    return text.encode()
