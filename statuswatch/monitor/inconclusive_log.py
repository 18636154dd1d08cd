"""The log of inconclusive probe runs: once per reason per LOG_EVERY seconds, with a count."""

from __future__ import annotations

import logging

from statuswatch.clock import Clock
from statuswatch.probes.base import CheckResult

log = logging.getLogger("statuswatch.monitor.monitoring")  # where operators have read it


class InconclusiveLog:
    """Log inconclusive runs once per reason per LOG_EVERY seconds, with a count: a descriptor
    shortage fails every probe, and a line (or a traceback) per run would flood the log."""

    LOG_EVERY = 60.0

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._since: dict[str, tuple[float, int]] = {}  # reason -> (last logged, runs since)

    def note(self, result: CheckResult) -> None:
        """Count the run; log it when this reason was not logged in the last LOG_EVERY s."""
        reason = result.inconclusive or "unknown"
        now = self._clock.monotonic()
        last, count = self._since.get(reason, (None, 0))
        if last is not None and now - last < self.LOG_EVERY:
            self._since[reason] = (last, count + 1)
            return
        self._since[reason] = (now, 0)
        more = f" ({count} more since the last report)" if count else ""
        log.warning(
            "inconclusive check of %s (%s): %s; recorded as unmonitored%s",
            result.monitor_id,
            reason,
            result.message,
            more,
        )
