"""Rendered responses kept in memory for a few seconds, so a stampede costs one render.

When thousands of people refresh the page during an outage, the probes must not notice: each
key is rendered at most once per `ttl` (concurrent misses wait for the same render: single
flight; once a body is held, nobody waits long for its next render), the heavy part runs off
the event loop, and clients and proxies revalidate with ETag or Last-Modified. With a
`version` source (the status board's change counter), an entry whose state has not changed
stays fresh for `idle_ttl` instead: pages are rendered once per state change, or once a minute
for the clock-driven figures, rather than every `ttl` under load (a render of the 90-day page
holds the GIL, and each one showed in the probes' lateness).

Bodies are gzipped once per change, not per request: the 90-day page is ~0.5 MB of HTML that
gzips to ~17 kB (50 components), the difference between a stampede fitting the uplink or not.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime

from aiohttp import hdrs, web
from multidict import CIMultiDict

from statuswatch.clock import Clock

log = logging.getLogger(__name__)
# Smaller bodies are sent as they are: gzip's framing would eat most of the gain.
GZIP_MIN = 1024
# Following versions (a web worker), a body whose state changed is re-rendered once it is this
# old: a change shows within it (plus the render), and a storm of changes costs at most four
# renders a second of each page.
CHANGED_TTL = 0.25
# How long a render waits for the store to commit what was submitted before it (see `settle`):
# a commit takes milliseconds; longer, the database is away, and the render goes ahead (and
# falls back on the last good copy if it cannot read either).
SETTLE_WAIT = 2.0
# The longest a request waits for a new render when a body is already held (which is then
# served): a render takes milliseconds to a few hundred; a store that is away takes the pool's
# timeout for each read, and a customer reading the page during an outage must not wait it out.
RENDER_WAIT = 3.0

Headers = tuple[tuple[str, str], ...]  # hashable: a response's header set is memoised by it


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    etag: str
    expires: float  # monotonic
    status: int = 200
    gzipped: bytes | None = None  # the same body gzipped, when it is worth it
    modified: float = 0.0  # wall time this body (this ETag) was first rendered
    last_modified: str = ""  # the same as an HTTP date, formatted once rather than per request
    version: int | None = None  # the state version it was rendered from
    idle_expires: float = 0.0  # monotonic: fresh until then while the version is unchanged
    base_headers: Headers = ()  # the cache's own (security) headers
    # respond()'s header sets for this body, by representation (a handful per entry).
    _header_sets: dict = field(default_factory=dict, compare=False, repr=False)

    def headers(self, key: tuple, build: Callable[[Rendered, tuple], CIMultiDict[str]]):
        """The header set `key` for this body: built once by `build`, then shared (aiohttp
        copies it into each response's own CIMultiDict, so sharing is safe)."""
        found = self._header_sets.get(key)
        if found is None:
            found = self._header_sets[key] = build(self, key)
        return found


def _gzip(body: bytes) -> bytes | None:
    return gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN else None


class RenderCache:
    """Bodies by key, fresh for `ttl` seconds (0: render every time).

    `compress`: keep a gzipped copy of each new body for respond() (off for caches whose
    callers compress on their own terms, like /metrics, or whose bodies are tiny).
    """

    def __init__(
        self,
        clock: Clock,
        ttl: float,
        *,
        compress: bool = True,
        idle_ttl: float = 0.0,
        headers: Mapping[str, str] | None = None,
        render_wait: float = RENDER_WAIT,
    ) -> None:
        self._clock = clock
        # Sent with every body from this cache (the security headers): built into each
        # entry's header sets once, so the per-response signal can skip a CachedResponse.
        self._headers: Headers = tuple((headers or {}).items())
        self.ttl = ttl
        self.idle_ttl = idle_ttl
        self.render_wait = render_wait
        self._compress = compress
        # Set once the state's owner exists (the status board): returns its change counter;
        # and how to wait until the changes counted so far are readable (the store's commit).
        self.version: Callable[[], int] | None = None
        self.settle: Callable[[], Awaitable[None]] | None = None
        # True where versions move at most a few times a second (a web worker's published
        # board): a new version is rendered at once, not after `ttl`, so a change shows on
        # every worker within a second.
        self.follow_versions = False
        # When a render fails (the store unreadable: PostgreSQL away, a sick disk) the last good
        # body of its key is served instead of an error, made over by this (the page's notice
        # "as of" when that body was rendered); None: served as it is.
        self.stale_copy: Callable[[bytes, float], bytes] | None = None
        self._entries: dict[str, Rendered] = {}
        self._flights: dict[str, asyncio.Future[Rendered]] = {}  # the render under way, by key

    def fresh(self, key: str) -> Rendered | None:
        """The body for `key` if it is fresh, without a coroutine: the stampede's hit path
        (`cache.fresh(key) or await cache.get(key, render)`)."""
        entry = self._entries.get(key)
        return entry if entry is not None and self._fresh(entry) else None

    async def get(
        self, key: str, render: Callable[[], Awaitable[bytes | tuple[bytes, int]]]
    ) -> Rendered:
        """The fresh body for `key`, rendering it (once, however many ask at once) if stale.

        When a body is already held, nobody waits longer than `render_wait` for its new render:
        past that (a render stuck on a database that is away, where each read waits out the
        pool's timeout) the body held is served, and the render lands for later requests.
        """
        entry = self._entries.get(key)
        if entry is not None and self._fresh(entry):
            return entry
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._render(key, render))
            self._flights[key] = flight
            flight.add_done_callback(functools.partial(self._landed, key))
        if entry is None:  # nothing to serve meanwhile: wait (a waiter gone leaves it running)
            return await asyncio.shield(flight)
        done, _ = await asyncio.wait((flight,), timeout=self.render_wait)
        return flight.result() if done else entry

    async def close(self, _app: web.Application | None = None) -> None:
        """Cancel the renders under way: at shutdown, before the store they read is closed
        (an `on_shutdown` handler)."""
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)

    def _landed(self, key: str, flight: asyncio.Future[Rendered]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # retrieved: a 404 nobody waited for is not an unhandled error

    async def _render(
        self, key: str, render: Callable[[], Awaitable[bytes | tuple[bytes, int]]]
    ) -> Rendered:
        # Read before rendering: a change during the render makes this entry stale.
        version = self.version() if self.version is not None else None
        if self.settle is not None:
            # A change is counted when it is submitted to the store; rendering before it is
            # committed would keep the old figures under the new version for the whole
            # idle_ttl (an opened incident missing during an outage).
            try:
                await asyncio.wait_for(self.settle(), SETTLE_WAIT)
            except TimeoutError:
                log.warning("the store has not committed for %.0f s", SETTLE_WAIT)
        old = self._entries.get(key)
        try:
            out = await render()
        except web.HTTPException:
            raise  # an answer (404, 400), not a failure; it leaves no entry behind, so
            # strangers asking for endless made-up keys cannot grow memory
        except Exception:
            if old is None:
                raise  # nothing good to fall back on
            log.warning("render of %s failed; serving its last good copy", key, exc_info=True)
            out = self._last_good(old)
        body, status = out if isinstance(out, tuple) else (out, 200)
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        if old is not None and old.etag == etag:  # unchanged: keep its gzip and date
            gzipped, modified = old.gzipped, old.modified
        else:
            gzipped = None
            if self._compress:
                loop = asyncio.get_running_loop()
                gzipped = await loop.run_in_executor(None, _gzip, body)
            modified = self._clock.time()
        mono = self._clock.monotonic()
        entry = Rendered(
            body,
            etag,
            mono + self.ttl,
            status,
            gzipped,
            modified,
            formatdate(modified, usegmt=True),
            version,
            mono + max(self.ttl, self.idle_ttl),
            self._headers,
        )
        if self.ttl > 0:
            self._entries[key] = entry
        return entry

    def _last_good(self, old: Rendered) -> tuple[bytes, int]:
        """The body a failed render falls back on, marked as of when it was rendered."""
        body = old.body if self.stale_copy is None else self.stale_copy(old.body, old.modified)
        return body, old.status

    def _fresh(self, entry: Rendered) -> bool:
        now = self._clock.monotonic()
        if entry.expires > now:
            if not self.follow_versions or entry.version == self.version():  # type: ignore[misc]
                return True
            return entry.expires - self.ttl + CHANGED_TTL > now  # rendered under CHANGED_TTL ago
        return (
            entry.idle_expires > now
            and self.version is not None
            and entry.version == self.version()
        )


class CachedResponse(web.Response):
    """A response from respond(): it already carries its cache's headers (the security
    headers), so the app's on_response_prepare signal need not add them again."""


def respond(
    request: web.Request, entry: Rendered, *, content_type: str, max_age: int, extra: Headers = ()
) -> web.Response:
    """200 with the body (gzipped if the client takes it), or 304 when the client has it.

    This is the path every request of a stampede takes, so the headers of each representation
    (plain, gzip, 304) are built once per entry, not per request (`extra`, e.g. CORS, joins
    them): what is left per request is reading three request headers.
    """
    req = request.headers  # looked up with aiohttp's istr names: no case folding per request
    accept = req.get(hdrs.ACCEPT_ENCODING)
    gzipped = entry.gzipped is not None and accept is not None and accepts_gzip(accept)
    if (hdrs.IF_NONE_MATCH in req or hdrs.IF_MODIFIED_SINCE in req) and _not_modified(
        request, _etag(entry, gzipped), entry.modified
    ):
        return CachedResponse(
            status=304,
            headers=entry.headers((False, gzipped, content_type, max_age, extra), _headers),
        )
    return CachedResponse(
        body=entry.gzipped if gzipped else entry.body,
        status=entry.status,
        headers=entry.headers((True, gzipped, content_type, max_age, extra), _headers),
    )


def _etag(entry: Rendered, gzipped: bool) -> str:
    # Each representation has its own ETag (as nginx does), so a cache never serves gzip
    # bytes to a client that did not ask for them.
    return entry.etag[:-1] + '-gz"' if gzipped else entry.etag


def _headers(entry: Rendered, key: tuple[bool, bool, str, int, Headers]) -> CIMultiDict[str]:
    with_body, gzipped, content_type, max_age, extra = key
    headers = {
        "ETag": _etag(entry, gzipped),
        "Last-Modified": entry.last_modified,
        "Cache-Control": f"public, max-age={max_age}" if max_age else "no-cache",
        "Vary": "Accept-Encoding",
        **dict(extra),
        **dict(entry.base_headers),
    }
    if with_body:  # a 304 describes no body of its own
        headers["Content-Type"] = content_type + "; charset=utf-8"
        if gzipped:
            headers["Content-Encoding"] = "gzip"
    # A CIMultiDict: aiohttp copies one into the response's own with a memcpy-like copy,
    # where a dict would be re-hashed key by key on every request.
    return CIMultiDict(headers)


@functools.lru_cache(maxsize=64)  # a handful of browsers' values arrive over and over
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value allows gzip (listed, and not with q=0)."""
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            q = params.strip().lower().removeprefix("q=")
            try:
                return not params.strip() or float(q) > 0
            except ValueError:
                return False
    return False


def _not_modified(request: web.Request, etag: str, modified: float) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since when both are sent."""
    if (inm := request.headers.get(hdrs.IF_NONE_MATCH)) is not None:
        tags = [tag.strip().removeprefix("W/") for tag in inm.split(",")]
        return "*" in tags or etag in tags
    if (ims := request.headers.get(hdrs.IF_MODIFIED_SINCE)) is not None:
        try:
            return int(modified) <= parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False  # an unreadable date is ignored, as the RFC says
    return False


async def off_loop(func: Callable[..., str], *args: object) -> bytes:
    """Run a template render in a thread so the probes' event loop keeps its schedule."""
    text = await asyncio.get_running_loop().run_in_executor(None, func, *args)
    return text.encode()
