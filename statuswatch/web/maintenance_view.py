"""/maintenance: windows in progress, upcoming and past, recurring ones expanded. Pure.

Expansion is bounded twice: a horizon (HORIZON days each way) and a few occurrences per window,
so a daily window does not push everything else off the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from markupsafe import Markup

from statuswatch.maintenance import MaintenanceCalendar, Occurrence
from statuswatch.markdown import render_markdown
from statuswatch.web.local_time import Shown, shown, status_label

HORIZON = 90 * 86400
UPCOMING_PER_WINDOW = 5
PAST_PER_WINDOW = 3


@dataclass(frozen=True, slots=True)
class OccurrenceView:
    window_id: str
    title: str
    kind: str  # scheduled | emergency
    state: str  # scheduled | in_progress | completed | cancelled
    state_text: str
    start: Shown
    end: Shown
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


def maintenance_view(calendar: MaintenanceCalendar, names: Mapping[str, str], now: float,
                     tz: ZoneInfo) -> MaintenanceView:  # fmt: skip
    """Occurrences within HORIZON of `now`, sorted into the three lists."""
    specs = {s.spec.id: s.spec for s in calendar.schedules}
    descriptions = {wid: render_markdown(spec.description) for wid, spec in specs.items()}

    def view(occ: Occurrence) -> OccurrenceView:
        state = occ.state(now)
        comps = tuple(sorted(names.get(c, c) for c in occ.components))
        return OccurrenceView(occ.window_id, occ.title, occ.kind, state, status_label(state),
                              shown(occ.start, tz), shown(occ.end, tz), comps,
                              specs[occ.window_id].rrule is not None,
                              descriptions[occ.window_id])  # fmt: skip

    occs = calendar.occurrences(int(now) - HORIZON, int(now) + HORIZON)
    # A cancelled window during its slot is not in progress: it stays listed as cancelled.
    current = [o for o in occs if o.start <= now < o.end and not o.cancelled]
    ahead = [o for o in occs if o.start > now or (o.cancelled and o.start <= now < o.end)]
    behind = sorted((o for o in occs if o.end <= now), key=lambda o: -o.start)
    return MaintenanceView(
        in_progress=tuple(view(o) for o in current),
        upcoming=tuple(view(o) for o in _limited(ahead, UPCOMING_PER_WINDOW)),
        past=tuple(view(o) for o in _limited(behind, PAST_PER_WINDOW)),
    )
