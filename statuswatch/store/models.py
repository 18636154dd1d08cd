"""What goes into the store besides results and events, and the read-model types that come out."""

from __future__ import annotations

import math
from dataclasses import dataclass

import msgspec

from statuswatch.config.durations import Duration
from statuswatch.config.model import Maintenance
from statuswatch.incidents.model import Incident
from statuswatch.monitor.events import LOCAL as _LOCAL
from statuswatch.store.outbox import NotifyEvent

# Upper bounds (seconds) of the latency histogram, Prometheus `le` style; the last is +Inf.
LATENCY_BUCKETS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, math.inf)

HOUR = 3600
# Where a result was observed (the monitor role's own probes, or an agent's location): outages
# and gaps carry it, so results from several locations can be told apart.
LOCAL = _LOCAL


@dataclass(frozen=True, slots=True)
class Prune:
    """Delete passing raw checks before `raw_before` and rollups whose hour ends by `rollup_before`.

    Failing checks, outages, transitions and gaps are evidence and are never pruned; finished
    outbox messages go after `email.retention`, pending ones never.
    """

    now: float
    raw_before: float
    rollup_before: float
    # Outbox messages done (sent, failed, cancelled) before this go, with their delivery
    # attempts; pending ones never do. None: keep them all.
    outbox_before: float | None = None


@dataclass(frozen=True, slots=True)
class RegisterMonitors:
    """Upsert the configured monitors as (id, kind, component); first_seen keeps its first value."""

    monitors: list[tuple[str, str, str]]
    now: float


@dataclass(frozen=True, slots=True)
class SaveIncident:
    """Create or replace an incident. Built with `of()`: the JSON is taken at submit time, so
    the event loop may go on editing the incident while the writer thread saves this copy."""

    id: str
    created: float
    updated: float
    status: str
    resolved_at: float | None
    auto: bool
    doc: bytes
    event: NotifyEvent | None = None  # the notification it causes, written in the same commit

    @classmethod
    def of(cls, incident: Incident, event: NotifyEvent | None = None) -> SaveIncident:
        return cls(
            incident.id,
            incident.created,
            incident.updated,
            incident.status.value,
            incident.resolved_at,
            incident.auto,
            msgspec.json.encode(incident),
            event,
        )


@dataclass(frozen=True, slots=True)
class SaveMaintenance:
    """Create or replace a run-time maintenance window (same shape as a [[maintenance]] entry)."""

    window: Maintenance
    now: float
    event: NotifyEvent | None = None  # the notification it causes, written in the same commit


def encode_window(window: Maintenance) -> bytes:
    """A window as stored: JSON with its duration in seconds."""
    # msgspec knows float but not our float subclass Duration: store it as plain seconds.
    return msgspec.json.encode(window, enc_hook=_seconds)


def decode_window(doc: bytes | str) -> Maintenance:
    """A stored window back into the struct config uses."""
    return msgspec.json.decode(doc, type=Maintenance, dec_hook=_duration)


def _seconds(obj: object) -> float:
    if isinstance(obj, Duration):
        return float(obj)
    raise NotImplementedError(f"cannot store a {type(obj).__name__}")


def _duration(type_: type, obj: object) -> object:
    if type_ is Duration and isinstance(obj, int | float) and not isinstance(obj, bool):
        return Duration(obj)
    raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Publish:
    """What the monitor role tells the web role: its board's output and health, as one row.

    `generation` changes whenever something the public pages show changed (the web role then
    reloads and re-renders); `beat` is when the monitor last wrote it (its heartbeat: a web
    worker says "as of" once it is old); `body` is JSON (statuses, no-data ids, health).
    """

    generation: str
    beat: float
    body: str


@dataclass(frozen=True, slots=True)
class ReportToken:
    """Set a customer's private report token (its SHA-256 digest; the token is never stored)."""

    customer_id: str
    digest: bytes
    created: float


@dataclass(frozen=True, slots=True)
class Outage:
    """A confirmed down interval; `end` is None while it is open."""

    monitor_id: str
    start: float
    end: float | None
    error_class: str
    message: str
    end_reason: str | None
    location: str = LOCAL


@dataclass(frozen=True, slots=True)
class Gap:
    """An interval [start, end) with no evidence either way."""

    monitor_id: str
    start: float
    end: float
    reason: str
    location: str = LOCAL


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """A stored state change of a monitor."""

    monitor_id: str
    time: float
    old: str
    new: str
    reason: str


@dataclass(frozen=True, slots=True)
class HourlyRollup:
    """All checks of one monitor in one UTC hour starting at `hour` (epoch seconds).

    `buckets` are cumulative counts per LATENCY_BUCKETS bound (Prometheus `le` semantics), so
    `buckets[-1]` is the number of checks that had a latency; the latency fields cover only those.
    """

    monitor_id: str
    hour: int
    count: int
    failures: int
    degraded: int
    latency_sum: float
    latency_min: float | None
    latency_max: float | None
    buckets: tuple[int, ...]

    @property
    def latency_count(self) -> int:
        """Return how many checks of the hour had a latency."""
        return self.buckets[-1]

    @property
    def latency_mean(self) -> float | None:
        """Return the mean latency of the hour, or None when no check had one."""
        return self.latency_sum / self.latency_count if self.latency_count else None


@dataclass(frozen=True, slots=True)
class MonitorRecord:
    """A monitor the store knows; kind and component are None if only seen, never registered."""

    id: str
    kind: str | None
    component: str | None
    first_seen: float | None
