"""The 90-day bar: one cell per local calendar day, classed by that day's availability. Pure.

A day's class comes from the same figures as every other number on the page (ServiceTimeline,
SLA.md): no evidence at all is `no-data`; no unexcused downtime is `operational`, or
`maintenance` when a window covered part of the day; otherwise the unexcused downtime's share of
the whole calendar day decides: up to 1 % (about 14 minutes) `degraded`, up to 5 % (72 minutes)
`partial`, beyond that `major`. The whole day, not its eligible time: a 2-minute outage on a day
observed for 19 minutes is 10 % of what was observed but still a short outage, and the colour
tells how long the service was down, not how little was seen. A day statuswatch observed only in
part says how much of it (coverage, site.measured): its percentage is measured availability over
that part, and under LOW_COVERAGE the cell is also marked `low-coverage` (drawn faded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

from statuswatch.site.measured import coverage_text
from statuswatch.site.stamps import day_label
from statuswatch.sla.availability import Figures
from statuswatch.sla.display import truncate_percent
from statuswatch.sla.evidence import ServiceTimeline
from statuswatch.sla.intervals import Timeline
from statuswatch.sla.periods import Period

DAYS = 90
DEGRADED_UP_TO = Fraction(1, 100)  # share of the whole calendar day down
PARTIAL_UP_TO = Fraction(5, 100)
LOW_COVERAGE = Fraction(1, 2)  # under half the day observed: the cell says so by its look
CLASSES = ("no-data", "operational", "maintenance", "degraded", "partial", "major")


@dataclass(frozen=True, slots=True)
class IncidentRef:
    """An incident as a day cell names it."""

    id: str
    title: str
    start: int
    end: int  # resolution, or now while it is open


@dataclass(frozen=True, slots=True)
class DayCell:
    date: str  # local calendar date
    availability: str  # truncated percent, or "no data"
    downtime_minutes: int  # unexcused, whole minutes (floored, like every minute shown)
    cls: str
    incidents: tuple[IncidentRef, ...]
    coverage: str | None = None  # truncated percent of the day observed, when under 100 %
    low_coverage: bool = False  # under LOW_COVERAGE of the day observed

    @property
    def classes(self) -> str:
        """The cell's CSS classes: its colour, and `day-low-coverage` when little was seen."""
        return f"day day-{self.cls}" + (" day-low-coverage" if self.low_coverage else "")

    @property
    def label(self) -> str:
        """The cell's tooltip and accessible name: date, availability, coverage, downtime,
        incidents."""
        text = f"{self.date}: "
        text += "no data" if self.availability == "no data" else f"{self.availability}% available"
        if self.coverage is not None and self.cls != "no-data":
            text += f", coverage {self.coverage}%"
        text += f", {self.downtime_minutes} min down"
        if self.incidents:
            text += "; incidents: " + "; ".join(i.title for i in self.incidents)
        return text


def day_starts(now: int, tz: ZoneInfo, days: int = DAYS) -> list[int]:
    """Local midnights of the last `days` days (today last), and the midnight after today."""
    today = datetime.fromtimestamp(now, tz).date()
    first = today - timedelta(days=days - 1)
    # Wall-clock midnights, converted one by one: a DST day is 23 or 25 hours long.
    dates = [first + timedelta(days=n) for n in range(days + 1)]
    return [int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()) for d in dates]


def day_class(fig: Figures, maintenance_seconds: int, day_seconds: int) -> str:
    """The colour class of one day of `day_seconds` (see the module docstring)."""
    if fig.availability is None and fig.unexcused == 0:
        return "no-data"
    if fig.unexcused == 0:
        return "maintenance" if maintenance_seconds else "operational"
    share = Fraction(fig.unexcused, day_seconds)
    if share <= DEGRADED_UP_TO:
        return "degraded"
    return "partial" if share <= PARTIAL_UP_TO else "major"


def day_cells(
    timeline: ServiceTimeline,
    maintenance: Timeline,
    starts: list[int],
    now: int,
    tz: ZoneInfo,
    incidents: list[IncidentRef],
) -> list[DayCell]:
    """One cell per day [starts[i], starts[i+1]); today ends now."""
    cells = []
    for lo, hi in pairwise(starts):
        period = Period(lo, min(hi, now), tz, day_label(lo, tz))
        fig = timeline.figures(period, policy="excluded")
        # Today too is measured against its whole length (a DST day is 23 or 25 hours).
        cls = day_class(fig, maintenance.measure(period.start, period.end), hi - lo)
        shown = "no data" if cls == "no-data" else truncate_percent(fig.availability)
        of_day = tuple(i for i in incidents if i.start < hi and i.end > lo)
        # Full coverage is the common case: no Fraction for it (4,500 cells on a big page).
        coverage = fig.coverage if fig.unmonitored else None
        partial = None if coverage is None else coverage_text(coverage)
        low = coverage is not None and cls != "no-data" and coverage < LOW_COVERAGE
        cells.append(DayCell(period.label, shown, fig.unexcused // 60, cls, of_day, partial, low))
    return cells
