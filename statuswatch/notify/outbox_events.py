"""What subscribers are told of a change: the NotifyEvent saved with it (pure).

The one place that knows the notification format: the source that makes an event happen once,
the topic that coalesces, and the payload, Statuspage's own incident object with times in UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec

from statuswatch.clock import iso
from statuswatch.config import Config
from statuswatch.config.model import Maintenance, Site
from statuswatch.incidents.model import Incident, IncidentStatus
from statuswatch.maintenance.calendar import Occurrence
from statuswatch.status.changes import Change, IncidentChanged, MaintenanceEdge, WindowSaved
from statuswatch.status.component import ComponentStatus
from statuswatch.status.statuspage_objects import MaintenanceStep, StatuspageObjects, page_id
from statuswatch.store.outbox import NotifyEvent

Statuses = Callable[[], Mapping[str, ComponentStatus]]
# The body of an update to an occurrence already in progress (its end moved, say): the window's
# new times are in the object itself.
EDITED = "The maintenance has been changed. {description}"


class OutboxEvents:
    """Turns the status board's changes into outbox events (its ChangeListener)."""

    def __init__(self, names: Mapping[str, str], site: Site, coalesce: float) -> None:
        self.objects = StatuspageObjects(site.base, page_id(site.base_url), names, iso)
        self.coalesce = coalesce
        self.statuses: Statuses = dict

    def follow(self, statuses: Statuses) -> None:
        """Read the components' current statuses here (the board's), for the messages that tell
        of them: a window scheduled, cancelled or completed."""
        self.statuses = statuses

    @classmethod
    def for_config(cls, config: Config) -> OutboxEvents | None:
        """The listener when anyone can be notified (email or a webhook); else None."""
        if not (config.email.enabled or config.webhooks):
            return None
        return cls(config.component_names, config.site, config.email.coalesce)

    def event_for(self, change: Change) -> NotifyEvent | None:
        """The event to save with this change; None when it has nothing new to announce."""
        match change:
            case IncidentChanged(incident):
                return self._incident(incident)
            case WindowSaved(window, occ, now):
                return self._window_saved(window, occ, change.state, now)
            case MaintenanceEdge(occ, state, now):
                return self._maintenance(
                    occ, state, "", [MaintenanceStep(_edge(occ, state), state, now)]
                )

    def _window_saved(
        self, window: Maintenance, occ: Occurrence, state: str, now: float
    ) -> NotifyEvent:
        """A saved window: scheduled (or cancelled) before it starts; in progress when it starts
        with its save (an emergency window, announced as its start, so the board's edge adds
        nothing); an update of the maintenance in progress when saved after it started (an
        extension), never a second "scheduled"."""
        source = f"maintenance:{window.id}:saved:{now}"
        description = window.description
        if state == "cancelled" or occ.start > now:
            return self._maintenance(occ, state, description, [MaintenanceStep(source, state, now)])
        started = _edge(occ, "in_progress")
        if occ.start >= int(now):
            step = MaintenanceStep(started, "in_progress", now, description or None)
            return self._maintenance(occ, "in_progress", description, [step])
        body = EDITED.format(description=description).strip()
        steps = [
            MaintenanceStep(started, "in_progress", occ.start),
            MaintenanceStep(source, "in_progress", now, body),
        ]
        return self._maintenance(occ, "in_progress", description, steps)

    def _incident(self, incident: Incident) -> NotifyEvent | None:
        """The event for an incident's latest update.

        The source is the update's id, so saving the incident again (a title edit, the board's
        next tick) never notifies twice. A postmortem comes after the one resolution message and
        is not announced by mail.
        """
        if not incident.updates:
            return None
        latest = incident.updates[-1]
        if latest.status is IncidentStatus.POSTMORTEM:
            return None
        listed = self.objects.listed({c: s.value for c, s in incident.components.items()})
        return NotifyEvent(
            source=f"incident-update:{latest.id}",
            topic=f"incident:{incident.id}",
            kind="incident",
            time=latest.time,
            components=tuple(incident.components),
            payload=msgspec.json.encode({"incident": self.objects.incident(incident, listed)}),
            coalesce=self.coalesce,
        )

    def _maintenance(
        self, occ: Occurrence, state: str, description: str, steps: list[MaintenanceStep]
    ) -> NotifyEvent:
        """An occurrence scheduled, cancelled, started, changed or completed, shaped like
        Statuspage's scheduled-maintenance incidents (impact "maintenance"), so email and
        webhooks treat both alike. The newest step is the one announced."""
        components = sorted(occ.components)
        listed = self.objects.listed(self._component_statuses(components, state))
        shown = self.objects.maintenance(occ, occ.window_id, state, steps, description, listed)
        return NotifyEvent(
            source=steps[-1].id,
            topic=f"maintenance:{occ.window_id}:{occ.start}",
            kind="maintenance",
            time=steps[-1].at,
            components=tuple(components),
            payload=msgspec.json.encode({"incident": shown}),
            coalesce=self.coalesce,
        )

    def _component_statuses(self, components: list[str], state: str) -> dict[str, str]:
        """Under maintenance while it is in progress; otherwise (not yet begun, cancelled, over)
        the status each has now, operational when the board has not told us."""
        if state == "in_progress":
            return {c: ComponentStatus.MAINTENANCE.value for c in components}
        now = self.statuses()
        return {c: now.get(c, ComponentStatus.OPERATIONAL).value for c in components}


def _edge(occ: Occurrence, state: str) -> str:
    """The source of an occurrence's start or end: one event per edge, however often seen."""
    return f"maintenance:{occ.window_id}:{occ.start}:{state}"
