"""/history: past incidents by calendar month in the site's timezone, three months a page. Pure.

Pages are counted back from the current month, so page N is the same three months all month
long (stable URLs for people and caches). `?page=` that is not a whole number from 1 is a 400:
clamping would make endless URLs serve the same page and fill the render cache with copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from statuswatch.incidents.model import Incident
from statuswatch.site.stamps import Stamp, maybe_stamp, stamp
from statuswatch.sla.display import status_label
from statuswatch.sla.periods import Period, month

MONTHS_PER_PAGE = 3
MAX_PAGE = 4000  # a thousand years back: anything past it is a made-up URL


class BadPage(ValueError):
    """The page parameter is not a page number."""


def parse_page(raw: str | None) -> int:
    """The page number from `?page=` (absent: 1); BadPage names the problem."""
    if raw is None:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise BadPage(f"page: must be a whole number from 1 to {MAX_PAGE}, got {raw[:20]!r}")
    return int(raw)


def page_months(page: int, now: float, tz: ZoneInfo) -> list[Period]:
    """The calendar months shown on `page`, newest first."""
    local = datetime.fromtimestamp(now, tz)
    current = local.year * 12 + local.month - 1
    first = current - (page - 1) * MONTHS_PER_PAGE
    return [month(n // 12, n % 12 + 1, tz) for n in range(first, first - MONTHS_PER_PAGE, -1)]


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: str
    title: str
    impact: str
    status: str
    status_text: str
    created: Stamp
    resolved: Stamp | None


@dataclass(frozen=True, slots=True)
class MonthView:
    name: str  # "November 2026"
    incidents: tuple[HistoryRow, ...]  # newest first


def _row(inc: Incident, tz: ZoneInfo) -> HistoryRow:
    return HistoryRow(
        inc.id,
        inc.title,
        inc.impact.value,
        inc.status.value,
        status_label(inc.status.value),
        stamp(inc.created, tz),
        maybe_stamp(inc.resolved_at, tz),
    )


def group_by_month(incidents: list[Incident], months: list[Period]) -> list[MonthView]:
    """Each month with the incidents created in it (an empty month is shown as such)."""
    out = []
    for period in months:
        year, mon = (int(x) for x in period.label.split("-"))
        name = datetime(year, mon, 1).strftime("%B %Y")
        rows = [_row(i, period.tz) for i in incidents if period.start <= i.created < period.end]
        out.append(MonthView(name, tuple(sorted(rows, key=lambda r: r.created.iso, reverse=True))))
    return out
