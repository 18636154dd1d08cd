"""When a failed check is statuswatch's own fault, and so no evidence about the target.

The rules, by cause (never by how many monitors fail at once: a platform-wide outage fails
every storefront together and must still be caught):
- descriptors / memory: an OSError with errno EMFILE or ENFILE (descriptors), ENOMEM or ENOBUFS
  (memory), a resolver's EAI_MEMORY, or a MemoryError, anywhere in the failure's chain (causes,
  contexts, aiohttp's `os_error`, dnspython's per-server errors).
- stalled: the check started more than its `timeout` after its slot (its deadline had passed
  before it could begin), or its timeout was reported more than STALL_GRACE after its deadline
  (the event loop was blocked when the deadline came, so the target never had its `timeout` of
  attention). A slow target's timeout fires on time and stays a `timeout` failure.
- resolver: the check failed without an answer from statuswatch's own resolver (the system's,
  or a dns monitor's `server` on loopback), and that resolver does not answer a query for the
  root zone either. An answer (NXDOMAIN, SERVFAIL, any record) is the resolver working: the
  failure is the target's. A dns monitor whose `server` is elsewhere monitors that server.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Iterator

import dns.asyncresolver
import dns.exception
import dns.rcode
import dns.resolver

from statuswatch.clock import Clock
from statuswatch.probes.base import Inconclusive

ERRNO_REASONS = {
    errno.EMFILE: Inconclusive.DESCRIPTORS,
    errno.ENFILE: Inconclusive.DESCRIPTORS,
    errno.ENOMEM: Inconclusive.MEMORY,
    errno.ENOBUFS: Inconclusive.MEMORY,
}
# A timeout reported this much after its deadline means the loop was not running at the deadline.
STALL_GRACE = 0.5
# How long one verdict on a resolver holds: many probes failing together ask it once.
RESOLVER_VERDICT_TTL = 5.0
RESOLVER_QUERY_LIFETIME = 1.0


def exhaustion(exc: BaseException | None) -> Inconclusive | None:
    """The resource statuswatch ran out of, if that is anywhere in `exc`'s chain."""
    for err in _chain(exc):
        if isinstance(err, MemoryError):
            return Inconclusive.MEMORY
        if isinstance(err, socket.gaierror):
            if err.errno == getattr(socket, "EAI_MEMORY", None):
                return Inconclusive.MEMORY
        elif isinstance(err, OSError) and err.errno in ERRNO_REASONS:
            return ERRNO_REASONS[err.errno]
    return None


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """Every exception reachable from `exc`, each once."""
    stack, seen = [exc], set()
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        stack += [err.__cause__, err.__context__, getattr(err, "os_error", None)]
        if isinstance(err, BaseExceptionGroup):
            stack += err.exceptions
        # dnspython's NoNameservers keeps each server's error in (server, tcp, port, error, ...)
        kwargs = getattr(err, "kwargs", None)
        if isinstance(err, dns.exception.DNSException) and isinstance(kwargs, dict):
            for entry in kwargs.get("errors") or ():
                stack += [part for part in entry if isinstance(part, BaseException)]


def stalled(lateness: float, overrun: float | None, timeout: float) -> bool:
    """Whether the loop, not the target, made this run miss its deadline."""
    return lateness > timeout or (overrun is not None and overrun > STALL_GRACE)


def own_resolver(server: str | None) -> bool:
    """Whether `server` is statuswatch's own resolver: the system's (None) or one on loopback."""
    if server is None:
        return True
    # "host" or "host:port", as ProbeContext.resolver reads it (a bare IPv6 address has no port)
    host = server.rpartition(":")[0] if server.count(":") == 1 else server
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ResolverHealth:
    """Whether statuswatch's own resolver answers at all (one root query, shared for a while)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._verdicts: dict[str | None, tuple[float, Inconclusive | None]] = {}
        self._pending: dict[str | None, asyncio.Task[Inconclusive | None]] = {}

    async def verdict(
        self, resolver: dns.asyncresolver.Resolver, server: str | None
    ) -> Inconclusive | None:
        """None when the resolver answers; `resolver` (or what ran out) when it does not."""
        now = self._clock.monotonic()
        cached = self._verdicts.get(server)
        if cached is not None and now - cached[0] < RESOLVER_VERDICT_TTL:
            return cached[1]
        task = self._pending.get(server)
        if task is None:
            task = self._pending[server] = asyncio.create_task(_ask(resolver))
            task.add_done_callback(lambda _t: self._pending.pop(server, None))
        verdict = await asyncio.shield(task)
        if verdict in (None, Inconclusive.RESOLVER):  # running out of descriptors passes soon
            self._verdicts[server] = (self._clock.monotonic(), verdict)
        return verdict


async def _ask(resolver: dns.asyncresolver.Resolver) -> Inconclusive | None:
    """Ask for the root zone's servers: any answer but REFUSED shows a working resolver."""
    try:
        async with asyncio.timeout(RESOLVER_QUERY_LIFETIME + 0.1):
            await resolver.resolve(
                ".", "NS", lifetime=RESOLVER_QUERY_LIFETIME, search=False, raise_on_no_answer=False
            )
    except (dns.resolver.NXDOMAIN, dns.resolver.YXDOMAIN):
        return None
    except dns.resolver.NoNameservers as exc:
        for *_, _error, response in exc.kwargs.get("errors") or []:
            if response is not None and response.rcode() != dns.rcode.REFUSED:
                return None
        return exhaustion(exc) or Inconclusive.RESOLVER
    except (dns.exception.DNSException, TimeoutError, OSError) as exc:
        return exhaustion(exc) or Inconclusive.RESOLVER
    return None
