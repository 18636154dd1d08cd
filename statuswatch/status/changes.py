"""What the status board saw change, for whoever tells others about it. Pure.

The board detects; it does not know who is told or how. A listener turns each change into what
it saves with it (an outbox event), in the same store write as the change itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from statuswatch.config.model import Maintenance
from statuswatch.incidents.model import Incident
from statuswatch.maintenance.calendar import MaintenanceCalendar, Occurrence
from statuswatch.store.outbox import NotifyEvent


@dataclass(frozen=True, slots=True)
class IncidentChanged:
    """An incident about to be saved: opened, updated, edited or resolved."""

    incident: Incident


@dataclass(frozen=True, slots=True)
class WindowSaved:
    """A maintenance window saved by an operator, with its next occurrence (not yet over)."""

    window: Maintenance
    occurrence: Occurrence
    now: float

    @property
    def state(self) -> Literal["scheduled", "cancelled"]:
        """What the save announces about the occurrence."""
        return "cancelled" if self.window.cancelled else "scheduled"


@dataclass(frozen=True, slots=True)
class MaintenanceEdge:
    """A maintenance occurrence that started or ended, seen at `now`."""

    occurrence: Occurrence
    state: Literal["in_progress", "completed"]
    now: float


Change = IncidentChanged | WindowSaved | MaintenanceEdge


class ChangeListener(Protocol):
    """Turns a change into the event saved with it; None when it has nothing to announce."""

    def event_for(self, change: Change) -> NotifyEvent | None: ...


def maintenance_edges(
    calendar: MaintenanceCalendar, since: float, now: float
) -> list[MaintenanceEdge]:
    """Occurrences that started or ended in (since, now], in order."""
    found: list[tuple[float, Occurrence, Literal["in_progress", "completed"]]] = []
    for occ in calendar.occurrences(int(since), int(now) + 1):
        if occ.cancelled:
            continue
        if since < occ.start <= now:
            found.append((occ.start, occ, "in_progress"))
        if since < occ.end <= now:
            found.append((occ.end, occ, "completed"))
    found.sort(key=lambda f: (f[0], f[1].window_id, f[2] == "in_progress"))
    return [MaintenanceEdge(occ, state, now) for _, occ, state in found]
