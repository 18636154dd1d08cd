"""What subscribers are told of a change: the NotifyEvent saved with it (pure).

The one place that knows the notification format: the source that makes an event happen once,
the topic that coalesces, and the payload, Statuspage's own incident object with times in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from statuswatch.clock import iso
from statuswatch.config import Config
from statuswatch.config.model import Site
from statuswatch.incidents.model import Incident, IncidentStatus
from statuswatch.maintenance.calendar import Occurrence
from statuswatch.status.changes import Change, IncidentChanged, MaintenanceEdge, WindowSaved
from statuswatch.status.component import ComponentStatus
from statuswatch.status.statuspage_objects import MaintenanceStep, StatuspageObjects, page_id
from statuswatch.store.outbox import NotifyEvent


class OutboxEvents:
    """Turns the status board's changes into outbox events (its ChangeListener)."""

    def __init__(self, names: Mapping[str, str], site: Site, coalesce: float) -> None:
        self.objects = StatuspageObjects(site.base, page_id(site.base_url), names, iso)
        self.coalesce = coalesce

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
                source = f"maintenance:{window.id}:saved:{now}"
                return self._maintenance(occ, change.state, window.description, source, now)
            case MaintenanceEdge(occ, state, now):
                source = f"maintenance:{occ.window_id}:{occ.start}:{state}"
                return self._maintenance(occ, state, "", source, now)

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
        self, occ: Occurrence, state: str, description: str, source: str, now: float
    ) -> NotifyEvent:
        """An occurrence scheduled, cancelled, started or completed, shaped like Statuspage's
        scheduled-maintenance incidents (impact "maintenance"), so email and webhooks treat both
        alike."""
        components = sorted(occ.components)
        listed = self.objects.listed({c: ComponentStatus.MAINTENANCE.value for c in components})
        steps = [MaintenanceStep(source, state, now)]
        shown = self.objects.maintenance(occ, occ.window_id, state, steps, description, listed)
        return NotifyEvent(
            source=source,
            topic=f"maintenance:{occ.window_id}:{occ.start}",
            kind="maintenance",
            time=now,
            components=tuple(components),
            payload=msgspec.json.encode({"incident": shown}),
            coalesce=self.coalesce,
        )
