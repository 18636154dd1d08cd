"""Late verdicts: what the hooks (the board, hence incidents and mail) hear of a monitor whose
results reach us late. Pure.

A located monitor's verdict is decided at the check time of the result that decides it. When
that result arrives more than the location's freshness window after it ran (GAP_INTERVALS
intervals plus the timeout: by then its location already counted as silent, monitor/locations.py),
the verdict is late: an agent's spool replayed after a partition, say. A late transition is
stored with its true time (history, outages and figures are corrected), but it is held back
from the hooks, so nothing is announced for a state that may be long over:
- held transitions are released once the monitor's verdict is current again (a fresh result,
  or the housekeeping tick deciding at `now`): the hooks then hear one transition from the state
  they last heard of to the state now, with `since` the time that state began;
- so a down-then-up wholly in the past announces nothing (the state now is the state told), and
  a down still current announces one transition, now, that says when it began.
"""

from __future__ import annotations

from statuswatch.monitor.events import Event, State, Transition


class LateVerdicts:
    """The state the hooks last heard for one monitor, and the late transitions held back."""

    __slots__ = ("bound", "held", "told")

    def __init__(self, bound: float) -> None:
        self.bound = bound  # a verdict decided more than this many seconds ago is late
        self.told = State.UNKNOWN  # the hooks start from the resumed state (unknown)
        self.held: Transition | None = None  # the newest late transition not yet announced

    def late(self, t: float, now: float) -> bool:
        """Whether a verdict decided at `t` reaches us late at `now`."""
        return now - t > self.bound

    def sift(self, events: list[Event], now: float) -> list[Event]:
        """The events to announce: late transitions held, a current one merged with them."""
        out: list[Event] = []
        for event in events:
            if not isinstance(event, Transition):
                out.append(event)
            elif self.late(event.time, now):
                self.held = event
            elif (told := self._told(event)) is not None:
                out.append(told)
        return out

    def release(
        self, state: State, down: tuple[str, ...], since: float | None, now: float
    ) -> list[Event]:
        """The verdict is current at `now`: announce the change the held transitions made, once."""
        held, self.held = self.held, None
        if held is None or state is self.told:
            return []
        start = held.time if since is None else since
        event = Transition(
            held.monitor_id, now, self.told, state, f"{held.reason} (reported late)", down, start
        )
        self.told = state
        return [event]

    def _told(self, event: Transition) -> Transition | None:
        """A current transition; after held ones, it starts from the state last told (and is
        nothing new when it returns there, unless the locations named regional may differ)."""
        old, self.told, self.held = self.told, event.new, None
        if old is event.old:
            return event
        if old is event.new and old is not State.REGIONAL:
            return None
        return Transition(
            event.monitor_id, event.time, old, event.new, event.reason, event.locations
        )
