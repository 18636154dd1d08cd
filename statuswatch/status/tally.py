"""A component's monitors counted by what their states weigh in its status, kept as they change.

The board hears of every monitor's confirmed change; rescanning the component's monitors on each
(hundreds in a fleet component) made a change's cost grow with the fleet, and changes come by the
thousand at once: every monitor's first verdict after a start, a shared dependency failing. The
tally keeps the counts `component_status` would take from a scan, and how many regional monitors
each location sees down, so a change costs only its own monitor's locations. The rule stays in
component.py (`status_of_counts`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from statuswatch.monitor.events import State
from statuswatch.status.component import (
    DEGRADED_STATES,
    DOWN_STATES,
    ComponentStatus,
    FractionRule,
    status_of_counts,
)


class ComponentTally:
    """One component's monitors: each one's state, and the counts its status is decided by."""

    def __init__(self, monitor_ids: Iterable[str]) -> None:
        self.states: dict[str, State] = dict.fromkeys(monitor_ids, State.UNKNOWN)
        self.down = 0
        self.degraded = 0
        # Regional monitors: the locations that see each down, and how many each location sees.
        self._seen_by: dict[str, frozenset[str]] = {}
        self._seeing: Counter[str] = Counter()

    def set(self, monitor_id: str, state: State, locations: Iterable[str] = ()) -> None:
        """The monitor is now in `state`; `locations` see it down (counted when regional)."""
        try:
            old = self.states[monitor_id]
        except KeyError:
            raise KeyError(f"monitor {monitor_id!r} is not one of this component's") from None
        self.states[monitor_id] = state
        self.down += (state in DOWN_STATES) - (old in DOWN_STATES)
        self.degraded += (state in DEGRADED_STATES) - (old in DEGRADED_STATES)
        for loc in self._seen_by.pop(monitor_id, ()):
            self._seeing[loc] -= 1
            if not self._seeing[loc]:
                del self._seeing[loc]
        if state is State.REGIONAL and (seen := frozenset(locations)):
            self._seen_by[monitor_id] = seen
            self._seeing.update(seen)

    def status(
        self, *, rule: FractionRule | None = None, in_maintenance: bool = False
    ) -> ComponentStatus:
        """What `component_status` gives for the monitors' current states."""
        return status_of_counts(
            len(self.states), self.down, self.degraded, rule=rule, in_maintenance=in_maintenance
        )

    def seen_by(self, monitor_id: str) -> frozenset[str]:
        """The locations that see the monitor down while it is regional (none otherwise)."""
        return self._seen_by.get(monitor_id, frozenset())

    def regional_locations(self) -> frozenset[str]:
        """The locations that see at least one of the component's regional monitors down."""
        return frozenset(self._seeing)
