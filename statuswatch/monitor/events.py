"""What the monitor state machine emits; the store persists these, later issues react to them.

All times are UTC epoch seconds (floats). The store applies them in submission order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Where a result was observed: the monitor role's own probes; agents report their location's id.
LOCAL = "local"


class State(StrEnum):
    UNKNOWN = "unknown"  # no evidence yet
    UP = "up"
    DEGRADED = "degraded"  # passing but slow or close to certificate expiry; not downtime
    DOWN = "down"  # a confirmed outage is open
    # Down from some of a monitor's locations, fewer than its quorum: visible, not an outage.
    REGIONAL = "regional"


@dataclass(frozen=True, slots=True)
class Transition:
    """A monitor's confirmed state changed."""

    monitor_id: str
    time: float
    old: State
    new: State
    reason: str
    # The locations that see it down, when it is probed from several (regional or down).
    locations: tuple[str, ...] = ()
    # When the new state began, for a verdict announced after the fact (monitor/late.py): the
    # outage's true start. None: it began at `time`.
    since: float | None = None


@dataclass(frozen=True, slots=True)
class OutageOpened:
    """A confirmed outage began at `start` (the first failing check of the confirmed run)."""

    monitor_id: str
    start: float
    error_class: str
    message: str
    location: str = LOCAL


@dataclass(frozen=True, slots=True)
class OutageClosed:
    """The monitor's open outage ended at `end`.

    reason: "recovered" (first passing check of the confirmed recovery) or "stopped"
    (statuswatch stopped: closed at the last evidence, the time after that is a gap).
    """

    monitor_id: str
    end: float
    reason: str
    location: str = LOCAL


@dataclass(frozen=True, slots=True)
class GapRecorded:
    """No evidence either way in [start, end), and why.

    reason: "stopped" (not running), "stalled" (the loop was late: no runs, or runs that missed
    their deadline), or statuswatch's other own faults, "descriptors", "memory", "resolver"
    (probes.base.Inconclusive).
    """

    monitor_id: str
    start: float
    end: float
    reason: str
    location: str = LOCAL


@dataclass(frozen=True, slots=True)
class MonitorSnapshot:
    """Everything needed to resume a monitor's state machine after a restart."""

    monitor_id: str
    state: State
    fail_count: int
    fail_start: float | None
    fail_error_class: str | None
    fail_message: str
    pass_count: int
    pass_start: float | None
    last_evidence: float | None
    location: str = LOCAL  # each location's tracker of a monitor has its own


Event = Transition | OutageOpened | OutageClosed | GapRecorded
