"""Maintenance windows: one-off or recurring (RFC 5545 RRULE), expanded within bounds. Pure.

Recurring windows follow local time: a 02:00-04:00 America/New_York window is 02:00-04:00 local
on both sides of a DST change, so its UTC times move by an hour. Expansion only ever looks at a
bounded range, and never yields more than MAX_OCCURRENCES (an unbounded generator burned 100 %
CPU in Uptime Kuma #2889).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from statuswatch.config.model import Config, Maintenance
from statuswatch.maintenance.rule_words import rule_words
from statuswatch.sla.intervals import Interval, normalize

MAX_OCCURRENCES = 10_000
# How far ahead "the next occurrence" is looked for: a year covers any sensible rule (yearly
# ones too) and, at most hourly, stays under MAX_OCCURRENCES.
LOOKAHEAD = 366 * 86400


class ExpansionLimitError(RuntimeError):
    """A query asked for more occurrences than MAX_OCCURRENCES."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One concrete window: [start, end) in UTC seconds."""

    window_id: str
    title: str
    kind: str
    components: frozenset[str]
    start: int
    end: int
    cancelled: bool = False

    def state(self, now: float) -> str:
        """scheduled -> in_progress -> completed, by the clock; or cancelled."""
        if self.cancelled:
            return "cancelled"
        if now < self.start:
            return "scheduled"
        return "in_progress" if now < self.end else "completed"


@dataclass(frozen=True)
class Schedule:
    """A configured window, ready to expand."""

    spec: Maintenance

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.spec.timezone)

    @cached_property
    def rule(self) -> rrule | None:
        if self.spec.rrule is None:
            return None
        return rrulestr(self.spec.rrule, dtstart=self._local(self.spec.start))  # type: ignore[return-value]

    @cached_property
    def words(self) -> str | None:
        """The recurrence in words ("every Sunday at 03:00 Europe/Berlin"); None: one-off."""
        if self.spec.rrule is None:
            return None
        return rule_words(self.spec.rrule, self._local(self.spec.start), self.spec.timezone)

    def _local(self, dt: datetime) -> datetime:
        """The window's naive local wall time for `dt` (which may carry an offset)."""
        if dt.tzinfo is None:
            return dt
        return dt.astimezone(self.tz).replace(tzinfo=None)

    def utc_seconds(self, dt: datetime) -> int:
        """A datetime of this window (naive means local in its timezone) as UTC seconds."""
        return self._utc(self._local(dt))

    def upcoming(self, now: float) -> Occurrence | None:
        """The occurrence in progress at `now`, else the next one; a one-off window's only one."""
        if self.rule is None:
            return self.occurrences(-(2**40), 2**40)[0]  # one span: nothing to expand
        # Widening steps: a rule several times an hour still finds its next occurrence
        # without expanding a whole year past MAX_OCCURRENCES.
        for ahead in (86400, 31 * 86400, LOOKAHEAD):
            if found := self.occurrences(int(now), int(now) + ahead):
                return found[0]
        return None

    def _utc(self, local: datetime) -> int:
        return int(local.replace(tzinfo=self.tz).timestamp())

    def _length(self) -> timedelta:
        assert self.spec.duration is not None
        return timedelta(seconds=self.spec.duration)

    def occurrences(self, lo: int, hi: int) -> list[Occurrence]:
        """Every occurrence that overlaps [lo, hi)."""
        spans = self._spans(lo, hi)
        comps = frozenset(self.spec.components)
        return [
            Occurrence(
                self.spec.id, self.spec.title, self.spec.kind, comps, s, e, self.spec.cancelled
            )
            for s, e in spans
            if s < hi and e > lo
        ]

    def _spans(self, lo: int, hi: int) -> list[Interval]:
        start = self._local(self.spec.start)
        if self.rule is None:
            if self.spec.end is not None:
                end = self._local(self.spec.end)
            else:
                end = start + self._length()
            return [(self._utc(start), self._utc(end))]
        length = self._length()
        # A day of slack on each side covers any UTC offset; exact filtering happens in UTC.
        lo_local = datetime.fromtimestamp(lo, UTC).replace(tzinfo=None) - length - timedelta(days=1)
        hi_local = datetime.fromtimestamp(hi, UTC).replace(tzinfo=None) + timedelta(days=1)
        spans = []
        for n, occ in enumerate(self.rule.xafter(lo_local, inc=True)):
            if occ >= hi_local:
                break
            if n >= MAX_OCCURRENCES:
                raise ExpansionLimitError(
                    f"maintenance {self.spec.id}: more than {MAX_OCCURRENCES} occurrences asked"
                )
            spans.append((self._utc(occ), self._utc(occ + length)))
        return spans


class MaintenanceCalendar:
    """All configured windows; answers "which maintenance covers these components, when"."""

    def __init__(self, windows: list[Maintenance]) -> None:
        # One schedule per window id: a later window replaces an earlier one (see `merged`).
        by_id = {w.id: w for w in windows}
        self.schedules = [Schedule(w) for w in by_id.values()]

    @classmethod
    def merged(cls, config: Config, stored: Iterable[Maintenance]) -> MaintenanceCalendar:
        """Return the configured windows and those stored at run time, stored ones winning."""
        # A window rescheduled, extended or cancelled through the API is stored under its
        # config id: it overrides that config entry rather than standing beside it.
        return cls([*config.maintenance, *stored])

    def occurrences(self, lo: int, hi: int) -> list[Occurrence]:
        """Every occurrence of every window overlapping [lo, hi), by start time."""
        found = [o for s in self.schedules for o in s.occurrences(lo, hi)]
        return sorted(found, key=lambda o: (o.start, o.window_id))

    def intervals(self, component: str, lo: int, hi: int) -> list[Interval]:
        """The merged maintenance time of one component within [lo, hi) (cancelled excluded)."""
        spans = [
            (o.start, o.end)
            for s in self.schedules
            if component in s.spec.components and not s.spec.cancelled
            for o in s.occurrences(lo, hi)
        ]
        return normalize(spans, lo, hi)

    def active(self, component: str, now: int) -> Occurrence | None:
        """The occurrence covering `component` at `now`, if any."""
        for occ in self.occurrences(now, now + 1):
            if component in occ.components and not occ.cancelled:
                return occ
        return None
