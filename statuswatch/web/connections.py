"""The site's connection guard: a bounded number of connections, each with a deadline for its head.

Every connection the site holds is a descriptor the probes cannot have. The guard wraps the
aiohttp server's protocol factory (`loop.create_server(guard, ...)`), so the rule applies where
connections are accepted, before aiohttp sees them:

- At most `max_connections` are admitted at once. When a new one arrives at the limit, the oldest
  connection still waiting for its first request head is closed to make room (else the oldest
  idle kept-alive one): a slow (or silent) client gives way to the next one, so plain requests,
  which send their head at once, keep being served while a slowloris holds hundreds of
  sockets. When every admitted connection has a request in progress, the newcomer gets a bare
  `503` and is closed.
- A connection must deliver its first request head within `head_timeout`, or it gets a `408`
  and is closed (aiohttp has no header-read deadline). Later requests on a kept-alive
  connection are bounded by aiohttp's `keepalive_timeout`, which counts from the last response.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable

log = logging.getLogger(__name__)

# Refused connections are held just long enough to read the request (closing a socket with
# unread data sends a reset, which can destroy the 503 before the client reads it); past this
# many at once, further ones are closed at once so refusals cannot pile up descriptors.
REFUSALS_LINGERING = 32
REFUSAL_LINGER = 0.5
# At most one summary line per this long while the guard is shedding connections.
REPORT_INTERVAL = 60.0


def _bare_response(status: str, text: str) -> bytes:
    body = text.encode()
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 5\r\n\r\n"
    ).encode() + body


TOO_MANY = _bare_response("503 Service Unavailable", "too many connections, try again\n")
HEAD_TOO_SLOW = _bare_response("408 Request Timeout", "request head too slow\n")


class ConnectionGuard:
    """A protocol factory that admits, evicts or refuses connections for the site's server."""

    def __init__(
        self,
        factory: Callable[[], asyncio.Protocol],
        *,
        max_connections: int,
        head_timeout: float,
    ) -> None:
        self._factory = factory
        self.max_connections = max_connections
        self.head_timeout = head_timeout
        self.lingering = 0  # refusals not yet closed
        # Admitted connections still waiting for their first request head, oldest first...
        self._waiting: OrderedDict[GuardedConnection, None] = OrderedDict()
        # ...and every admitted connection neither lost nor being closed, oldest first.
        self._open: dict[GuardedConnection, None] = {}
        self.counts = {"refused": 0, "evicted": 0, "head_timeout": 0}
        self._report: asyncio.TimerHandle | None = None

    @property
    def admitted(self) -> int:
        """Connections holding a slot now."""
        return len(self._open)

    def __call__(self) -> asyncio.Protocol:
        """The protocol for one accepted connection (called by the event loop on accept)."""
        if self.admitted >= self.max_connections and not self._evict_oldest_waiting():
            self.note("refused")
            return _Refusal(self)
        connection = GuardedConnection(self, self._factory())
        self._waiting[connection] = None
        self._open[connection] = None
        return connection

    def _evict_oldest_waiting(self) -> bool:
        if self._waiting:
            oldest, _ = self._waiting.popitem(last=False)
        else:
            oldest = next((c for c in self._open if c.idle()), None)
            if oldest is None:
                return False
        self.note("evicted")
        oldest.shut(b"")
        return True

    def head_done(self, connection: GuardedConnection) -> None:
        """A connection delivered its first request head: it is no longer evictable."""
        self._waiting.pop(connection, None)

    def release(self, connection: GuardedConnection) -> None:
        """A connection is being closed (or is gone): its slot is free for the next one."""
        self._waiting.pop(connection, None)
        del self._open[connection]

    def note(self, what: str) -> None:
        """Count one shed connection; the first since the last report schedules the next."""
        self.counts[what] += 1
        if self._report is None:
            loop = asyncio.get_running_loop()
            self._report = loop.call_later(REPORT_INTERVAL, self.report)

    def report(self) -> None:
        """Log what was shed since the last report, in one line."""
        self._report = None
        if any(self.counts.values()):
            log.warning(
                "site at its connection limit (%d): %d refused with 503, %d closed to make "
                "room (no request in progress), %d closed after %gs without a request head, "
                "in the last %ds",
                self.max_connections,
                self.counts["refused"],
                self.counts["evicted"],
                self.counts["head_timeout"],
                self.head_timeout,
                int(REPORT_INTERVAL),
            )
        self.counts = dict.fromkeys(self.counts, 0)

    def close(self) -> None:
        """Stop the report timer (the server is stopping)."""
        if self._report is not None:
            self._report.cancel()
            self._report = None


class GuardedConnection(asyncio.Protocol):
    """aiohttp's protocol for one connection, behind a deadline for its first request head."""

    __slots__ = ("_guard", "_inner", "_released", "_started", "_tail", "_timer", "_transport")

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self._guard = guard
        self._inner = inner
        self._transport: asyncio.BaseTransport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._tail = b""  # the last bytes seen, for a head terminator split across reads
        self._released = False
        self._started = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        if self._released:  # evicted between accept and now
            transport.close()
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._guard.head_timeout, self._head_overdue)
        self._started = True
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._timer is not None:
            seen = self._tail + data
            # The head ends at its first empty line (a bare LF is tolerated by parsers).
            if b"\r\n\r\n" in seen or b"\n\n" in seen:
                self._timer.cancel()
                self._timer = None
                self._tail = b""
                self._guard.head_done(self)
            else:
                self._tail = seen[-3:]
        if self._started:
            self._inner.data_received(data)  # type: ignore[attr-defined]

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._started else None  # type: ignore[attr-defined]

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._release()
        self._transport = None
        if self._started:
            self._inner.connection_lost(exc)

    def idle(self) -> bool:
        """Between requests on a kept-alive connection: aiohttp waits for the next head.

        The same test aiohttp's keep-alive timer makes; an aiohttp without that attribute only
        loses this way of making room (the connection counts as busy).
        """
        waiter = getattr(self._inner, "_waiter", None)
        return waiter is not None and not waiter.done()

    def shut(self, response: bytes) -> None:
        """Close now, writing `response` first when there is one."""
        self._release()
        transport = self._transport
        if transport is None:
            return  # not connected yet: connection_made closes it
        if response:
            transport.write(response)  # type: ignore[attr-defined]
        transport.close()

    def _head_overdue(self) -> None:
        self._timer = None
        self._guard.note("head_timeout")
        self.shut(HEAD_TOO_SLOW)

    def _release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._released:
            self._released = True
            self._guard.release(self)


class _Refusal(asyncio.Protocol):
    """A connection beyond the limit: a bare 503, read what the client sent, close."""

    __slots__ = ("_guard", "_timer", "_transport")

    def __init__(self, guard: ConnectionGuard) -> None:
        self._guard = guard
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        if self._guard.lingering >= REFUSALS_LINGERING:
            transport.close()
            return
        self._guard.lingering += 1
        transport.write(TOO_MANY)  # type: ignore[attr-defined]
        self._timer = asyncio.get_running_loop().call_later(REFUSAL_LINGER, self._close)

    def data_received(self, data: bytes) -> None:
        self._close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._close()

    def _close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._guard.lingering -= 1
        if self._transport is not None:
            self._transport.close()
            self._transport = None
