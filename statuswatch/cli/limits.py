"""Descriptors for `statuswatch run`: raise the soft limit, keep a share for probing, log
exhaustion once per interval.

The probes and the public site draw on one open-file limit. The site's share is capped so a
crowd of connections (or one stranger holding a thousand slow ones) can never take the
descriptors a probe needs: a probe that cannot open a socket is statuswatch's failure, not the
target's.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statuswatch.config import Config

log = logging.getLogger("statuswatch.limits")

# The service's own descriptors beside the probes': the database and its WAL, listeners, the
# log, the event loop, outgoing mail and webhooks, metrics scrapes.
RESERVE_BASE = 64
# Each probe in flight: its socket and, at worst, its resolver's.
PER_PROBE = 2
DEFAULT_MAX_CONNECTIONS = 512
MIN_CONNECTIONS = 8
MAX_BACKLOG = 1024
# Exhaustion errors: each becomes one log line per interval, never one per attempt.
RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
EXHAUSTION_LOG_INTERVAL = 60.0


def raise_nofile() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit, log both, return the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (OSError, ValueError) as exc:
            log.warning("open-file limit: cannot raise soft %d to hard %s: %s", soft, hard, exc)
            return soft
        log.info("open-file limit: soft %d raised to the hard limit %d", soft, target)
        return target
    log.info("open-file limit: soft %d, hard %s (already at the hard limit)", soft, hard)
    return soft if soft != resource.RLIM_INFINITY else target


@dataclass(frozen=True)
class DescriptorBudget:
    """How the open-file limit is shared between the probes and the site."""

    nofile: int
    reserve: int  # kept for the probes and the service's own files
    max_connections: int  # site connections admitted at once
    backlog: int  # listen backlog: a full queue accepted in one go (only to be shed) still fits

    @classmethod
    def for_config(cls, config: Config, nofile: int) -> DescriptorBudget:
        """The budget for `config` under `nofile` descriptors (warns when the limit is short)."""
        probed = sum(1 for m in config.monitors if m.kind != "push")
        reserve = RESERVE_BASE + PER_PROBE * min(config.probing.max_in_flight, probed)
        room = nofile - reserve
        # Half of what is left for the site's admitted connections, half for the connections
        # accepted in one burst only to be refused or to evict an older one.
        cap = max(MIN_CONNECTIONS, room // 2)
        wanted = config.site.max_connections or DEFAULT_MAX_CONNECTIONS
        if room // 2 < MIN_CONNECTIONS:
            log.warning(
                "open-file limit %d leaves the site %d connections after the probes' reserve "
                "(%d): raise the limit or lower probing.max_in_flight",
                nofile,
                max(room // 2, 0),
                reserve,
            )
        elif config.site.max_connections > cap:
            log.warning(
                "site.max_connections = %d would let the site take the probes' descriptors "
                "(limit %d, reserve %d): using %d",
                config.site.max_connections,
                nofile,
                reserve,
                cap,
            )
        max_connections = min(wanted, cap)
        backlog = max(MIN_CONNECTIONS, min(MAX_BACKLOG, room - max_connections))
        return cls(nofile, reserve, max_connections, backlog)


class ExhaustionLog:
    """A loop exception handler: exhaustion errors once per interval with a count.

    asyncio reports a failed accept() ("socket.accept() out of system resource") on every
    attempt; under descriptor exhaustion that is a line per retry and per connection. The first
    of each kind is logged, the rest are counted and summed up once per interval. Everything
    else goes to the loop's default handler.
    """

    def __init__(
        self,
        interval: float = EXHAUSTION_LOG_INTERVAL,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._now = now
        self._last: dict[str, float] = {}  # message -> when it was last logged
        self._suppressed: dict[str, int] = {}
        self._flush: asyncio.TimerHandle | None = None

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if not (isinstance(exc, OSError) and exc.errno in RESOURCE_ERRNOS):
            loop.default_exception_handler(context)
            return
        message = str(context.get("message") or type(exc).__name__)
        now = self._now()
        last = self._last.get(message)
        if last is not None and now - last < self.interval:
            self._suppressed[message] = self._suppressed.get(message, 0) + 1
            if self._flush is None:
                self._flush = loop.call_later(self.interval - (now - last), self.flush)
            return
        self._last[message] = now
        more = self._suppressed.pop(message, 0)
        suffix = f" (and {more} more since the last report)" if more else ""
        log.error("%s: %s%s", message, exc, suffix)

    def flush(self) -> None:
        """Log the count of each kind suppressed since it was last logged."""
        self._flush = None
        now = self._now()
        for message, count in self._suppressed.items():
            log.error("%s: %d more in the last %ds", message, count, int(self.interval))
            self._last[message] = now
        self._suppressed.clear()

    def close(self) -> None:
        """Cancel the pending summary (the loop is closing)."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
