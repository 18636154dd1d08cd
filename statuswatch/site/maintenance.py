"""/maintenance: windows in progress, upcoming and past, recurring ones expanded. Pure.

Expansion is bounded twice: a horizon (HORIZON days each way) and a few occurrences per window,
so a daily window does not push everything else off the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from markupsafe import Markup

from statuswatch.maintenance.calendar import MaintenanceCalendar, Occurrence, Schedule
from statuswatch.site.incident import markdown_once
from statuswatch.site.stamps import Stamp, stamp
from statuswatch.sla.display import status_label

HORIZON = 90 * 86400
SPANS = (7 * 86400, 31 * 86400, HORIZON)  # widening looks around now, up to the horizon
UPCOMING_PER_WINDOW = 5
PAST_PER_WINDOW = 3


@dataclass(frozen=True, slots=True)
class OccurrenceView:
    window_id: str
    title: str
    kind: str  # scheduled | emergency
    state: str  # scheduled | in_progress | completed | cancelled
    state_text: str
    start: Stamp
    end: Stamp
    components: tuple[str, ...]  # display names
    recurring: bool
    description_html: Markup


@dataclass(frozen=True, slots=True)
class MaintenanceView:
    in_progress: tuple[OccurrenceView, ...]
    upcoming: tuple[OccurrenceView, ...]  # soonest first
    past: tuple[OccurrenceView, ...]  # latest first


def _limited(occs: list[Occurrence], per_window: int) -> list[Occurrence]:
    seen: dict[str, int] = {}
    out = []
    for occ in occs:
        seen[occ.window_id] = seen.get(occ.window_id, 0) + 1
        if seen[occ.window_id] <= per_window:
            out.append(occ)
    return out


def _nearby(schedule: Schedule, now: float) -> list[Occurrence]:
    """A window's occurrences around `now`, looking only as far as needed for the lists.

    Expanding 90 days each way of twenty daily windows took 70 ms of dateutil (GIL held); a
    week usually finds enough, and the nearest ones are the same whatever the span.
    """
    occs: list[Occurrence] = []
    for span in SPANS:
        occs = schedule.occurrences(int(now) - span, int(now) + span)
        ahead = sum(1 for o in occs if o.start > now)
        behind = sum(1 for o in occs if o.end <= now)
        if ahead >= UPCOMING_PER_WINDOW and behind >= PAST_PER_WINDOW:
            break
    return occs


def maintenance_view(
    calendar: MaintenanceCalendar, names: Mapping[str, str], now: float, tz: ZoneInfo
) -> MaintenanceView:
    """Occurrences within HORIZON of `now`, sorted into the three lists."""
    specs = {s.spec.id: s.spec for s in calendar.schedules}
    descriptions = {wid: markdown_once(spec.description) for wid, spec in specs.items()}

    def view(occ: Occurrence) -> OccurrenceView:
        state = occ.state(now)
        comps = tuple(sorted(names.get(c, c) for c in occ.components))
        return OccurrenceView(
            occ.window_id,
            occ.title,
            occ.kind,
            state,
            status_label(state),
            stamp(occ.start, tz),
            stamp(occ.end, tz),
            comps,
            specs[occ.window_id].rrule is not None,
            descriptions[occ.window_id],
        )

    found = [o for schedule in calendar.schedules for o in _nearby(schedule, now)]
    occs = sorted(found, key=lambda o: (o.start, o.window_id))
    # A cancelled window during its slot is not in progress: it stays listed as cancelled.
    current = [o for o in occs if o.start <= now < o.end and not o.cancelled]
    ahead = [o for o in occs if o.start > now or (o.cancelled and o.start <= now < o.end)]
    behind = sorted((o for o in occs if o.end <= now), key=lambda o: -o.start)
    return MaintenanceView(
        in_progress=tuple(view(o) for o in current),
        upcoming=tuple(view(o) for o in _limited(ahead, UPCOMING_PER_WINDOW)),
        past=tuple(view(o) for o in _limited(behind, PAST_PER_WINDOW)),
    )
