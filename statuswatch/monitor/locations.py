"""One monitor probed from several locations: a tracker per location, the quorum verdict live.

Each location reaches its own verdict with the usual confirmations (monitor/tracker.py); the
monitor's state follows monitor/quorum.py, re-evaluated after every result and on the
housekeeping tick, so a location that falls silent ages out instead of keeping its last word:
- a location has evidence while its last run is at most GAP_INTERVALS intervals plus the
  timeout old, it is not in an inconclusive episode, and its tracker knows a state;
- down: the outage starts at the first check time at which the quorum was reached (the
  quorum-th earliest start among the locations' open outages);
- no evidence: state unknown, reason naming the silent locations; their gaps are recorded with
  reason "silent" by their trackers when they are heard from again;
- up is degraded when a location with evidence is degraded.
"""

from __future__ import annotations

from dataclasses import dataclass

from statuswatch.config import Monitor
from statuswatch.monitor.events import (
    Event,
    OutageClosed,
    OutageOpened,
    State,
    Transition,
)
from statuswatch.monitor.late import LateVerdicts
from statuswatch.monitor.quorum import Verdict, verdict
from statuswatch.monitor.tracker import GAP_INTERVALS, MonitorTracker
from statuswatch.probes.base import CheckResult

_STATE = {Verdict.DOWN: State.DOWN, Verdict.REGIONAL: State.REGIONAL, Verdict.DARK: State.UNKNOWN}


@dataclass(frozen=True, slots=True)
class LocationView:
    """One location's view of a monitor, as the API shows it."""

    state: State
    last_result: CheckResult | None
    last_seen: float | None


class LocatedMonitor:
    """The trackers of one monitor's locations and their combined, quorum verdict."""

    def __init__(self, monitor: Monitor, trackers: dict[str, MonitorTracker]) -> None:
        self.monitor = monitor
        self.trackers = trackers
        self.quorum = monitor.quorum or len(trackers) // 2 + 1
        self.last: dict[str, CheckResult] = {}
        self.last_seen: dict[str, float] = {}  # each location's last run of any kind (wall)
        # When each location was last heard from (its results' arrival): a location replaying
        # a backlog is not silent, though its results are old.
        self.heard: dict[str, float] = {}
        self.outage_starts: dict[str, float] = {}  # each location's open outage
        self.state = State.UNKNOWN
        self.down: tuple[str, ...] = ()
        self.outage_start: float | None = None
        assert monitor.interval is not None and monitor.timeout is not None
        self.max_age = GAP_INTERVALS * monitor.interval + monitor.timeout
        # A verdict decided by a result older than its freshness window is late: not announced
        # until the verdict is current again.
        self.late = LateVerdicts(self.max_age)

    def observe(
        self, location: str, result: CheckResult, mono: float | None, arrived: float | None = None
    ) -> tuple[list[Event], list[Event]]:
        """Feed one location's result (reaching us at `arrived`, default its time); return (its
        own events, the monitor's transitions)."""
        events = self.trackers[location].observe(result, mono)
        self.last_seen[location] = max(result.time, self.last_seen.get(location, result.time))
        self.heard[location] = max(self.heard.get(location, 0.0), arrived or result.time)
        if result.inconclusive is None:
            self.last[location] = result
        self._follow(events)
        return events, self.evaluate(result.time)

    def _follow(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, OutageOpened):
                self.outage_starts[event.location] = event.start
            elif isinstance(event, OutageClosed):
                self.outage_starts.pop(event.location, None)

    def has_evidence(self, location: str, now: float) -> bool:
        """A fresh, conclusive result and a known state from `location`."""
        tracker, seen = self.trackers[location], self.last_seen.get(location)
        if seen is None or now - seen > self.max_age or tracker.dark_since is not None:
            return False
        return tracker.state is not State.UNKNOWN

    def evaluate(self, now: float) -> list[Event]:
        """The monitor's verdict now; a Transition when it (or who sees it down) changed."""
        fresh = [loc for loc in self.trackers if self.has_evidence(loc, now)]
        down = tuple(sorted(loc for loc in fresh if self.trackers[loc].state is State.DOWN))
        found = verdict(
            down=len(down),
            dark=len(self.trackers) - len(fresh),
            total=len(self.trackers),
            quorum=self.quorum,
        )
        new = _STATE.get(found, State.UP)
        if found is Verdict.UP and any(self.trackers[loc].state is State.DEGRADED for loc in fresh):
            new = State.DEGRADED
        if new is State.DOWN and self.outage_start is None:
            starts = sorted(self.outage_starts.get(loc, now) for loc in down)
            self.outage_start = starts[self.quorum - 1]
        elif new is not State.DOWN:
            self.outage_start = None
        shown = down if new in (State.DOWN, State.REGIONAL) else ()
        if new is self.state and shown == self.down:
            return []
        silent = sorted(set(self.trackers) - set(fresh))
        reason = {
            State.DOWN: f"down from {', '.join(down)} (quorum {self.quorum})",
            State.REGIONAL: f"regional: down from {', '.join(down)} only",
            State.UNKNOWN: f"no evidence: no fresh result from {', '.join(silent)}",
        }.get(new, "passing")
        event = Transition(self.monitor.id, now, self.state, new, reason, shown)
        self.state, self.down = new, shown
        return [event]

    def age_out(self, now: float) -> list[Event]:
        """Housekeeping: a silent location's open outage ends at its last evidence (a location
        uploading its backlog is heard from, not silent: its outage goes on as its results say)."""
        events: list[Event] = []
        for location, tracker in self.trackers.items():
            seen = self.last_seen.get(location)
            heard = max(seen or 0.0, self.heard.get(location, 0.0))
            if tracker.outage_open and seen is not None and now - heard > self.max_age:
                # Closed at the last evidence, as a gap closes it; the tracker keeps its state,
                # so a location still failing when heard from continues its outage at once.
                tracker.outage_open = False
                end = tracker.last_evidence if tracker.last_evidence is not None else seen
                events.append(OutageClosed(self.monitor.id, end, "silent", location))
        self._follow(events)
        return events

    def views(self, now: float) -> dict[str, LocationView]:
        """Each location's state, last conclusive result and last run."""
        # A location with no fresh evidence shows unknown, not its last word (which would
        # keep a silent location "up" or "down" for ever).
        return {
            loc: LocationView(
                t.state if self.has_evidence(loc, now) else State.UNKNOWN,
                self.last.get(loc),
                self.last_seen.get(loc),
            )
            for loc, t in self.trackers.items()
        }
