"""The operator's alert for a monitor regional too long: a WARNING log line, never an incident.

Regional (down from some locations, fewer than the quorum) is shown on the page but opens no
incident: the fault may be one location's network. Left for `[incidents] regional_alert_after`
it is worth an operator's look, so the log says so once per regional episode (0: never). There
is no operator channel besides the log (email and webhooks are subscribers', for incidents).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

from statuswatch.config.durations import format_duration

log = logging.getLogger(__name__)


class RegionalAlerts:
    """When each monitor became regional, and whether its episode was alerted."""

    def __init__(self, after: float, location_names: Mapping[str, str]) -> None:
        self.after = after
        self.names = location_names
        self.since: dict[str, float] = {}
        self.alerted: set[str] = set()
        self.sent = 0  # alerts logged since start (what a test or a metric reads)

    def regional(self, monitor_id: str, at: float) -> None:
        """The monitor is regional from `at` (a change of who sees it down continues it)."""
        self.since.setdefault(monitor_id, at)

    def cleared(self, monitor_id: str) -> None:
        """The monitor is no longer regional: a later episode is alerted afresh."""
        self.since.pop(monitor_id, None)
        self.alerted.discard(monitor_id)

    def check(self, now: float, locations_of: Callable[[str], Iterable[str]]) -> list[str]:
        """Log each monitor regional for longer than `after`, once; return their ids."""
        if self.after <= 0:
            return []
        due = [
            m for m, at in self.since.items() if m not in self.alerted and now - at >= self.after
        ]
        for monitor_id in due:
            self.alerted.add(monitor_id)
            self.sent += 1
            names = ", ".join(sorted(self.names.get(loc, loc) for loc in locations_of(monitor_id)))
            log.warning(
                "monitor %s regional for %s: down from %s only (no incident: fewer locations "
                "than the quorum see it down)",
                monitor_id,
                format_duration(now - self.since[monitor_id]),
                names or "some locations",
            )
        return due
