"""Statuspage's incident and scheduled-maintenance objects, for every reader. Pure.

/api/v2 lists them; webhooks and emails carry them (Statuspage's own webhooks carry its v2
incident object too). The shape and the update wording are written once, here; what differs by
reader is given: how times are written (the site's zone for /api/v2, UTC for messages), and
the component objects an incident lists (the page's component objects on /api/v2; in a message
the status each component had in the incident when it was announced).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from statuswatch.incidents.model import Incident, IncidentUpdate
from statuswatch.maintenance.calendar import Occurrence

# The body of a maintenance update, by the state it announces. A window's announcement is its
# own description (its title when it has none).
MAINTENANCE_UPDATES = {
    "scheduled": "{description}",
    "in_progress": "Maintenance is in progress.",
    "completed": "Maintenance has completed.",
    # Only messages tell of a cancellation: /api/v2 leaves cancelled occurrences out.
    # Its times are the object's own (scheduled_for/until): each reader writes them its way.
    "cancelled": "This maintenance is cancelled: nothing will be done in this window.",
}


def page_id(base_url: str) -> str:
    """A stable opaque page id: the same site always gets the same one."""
    return hashlib.blake2b(base_url.encode(), digest_size=6).hexdigest()


@dataclass(frozen=True, slots=True)
class MaintenanceStep:
    """One update of a maintenance occurrence: the state it reached, and when."""

    id: str
    state: str
    at: float
    body: str | None = None  # None: the state's own wording (MAINTENANCE_UPDATES)


@dataclass(frozen=True, slots=True)
class StatuspageObjects:
    """Builds the incident and maintenance objects of one page, with times written by `time`."""

    base: str  # the site's base URL without its trailing slash
    page_id: str
    names: Mapping[str, str]  # component id -> name
    time: Callable[[float | None], str | None]

    def incident(self, inc: Incident, components: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """An incident, its updates newest first (as Statuspage lists them)."""
        return {
            "id": inc.id,
            "name": inc.title,
            "status": inc.status.value,
            "impact": inc.impact.value,
            "created_at": self.time(inc.created),
            "updated_at": self.time(inc.updated),
            "monitoring_at": self.time(inc.monitoring_at),
            "resolved_at": self.time(inc.resolved_at),
            "started_at": self.time(inc.created),
            "shortlink": f"{self.base}/incidents/{inc.id}",
            "page_id": self.page_id,
            "components": list(components),
            "incident_updates": [self._update(u) for u in reversed(inc.updates)],
        }

    def listed(self, statuses: Mapping[str, str]) -> list[dict[str, Any]]:
        """Components as a message lists them: id, name and the status it tells of each."""
        return [
            {"id": cid, "name": self.names.get(cid, cid), "status": status}
            for cid, status in statuses.items()
        ]

    def _update(self, update: IncidentUpdate) -> dict[str, Any]:
        changes = [
            {
                "code": c.component,
                "name": self.names.get(c.component, c.component),
                "old_status": c.old.value,
                "new_status": c.new.value,
            }
            for c in update.changes
        ]
        return self._update_object(
            update.id, update.status.value, update.body, update.incident_id, update.time, changes
        )

    def maintenance(
        self,
        occ: Occurrence,
        mid: str,
        status: str,
        steps: Sequence[MaintenanceStep],
        description: str,
        components: Sequence[dict[str, Any]],
    ) -> dict[str, Any]:
        """A maintenance occurrence as a Statuspage incident of impact "maintenance".

        Created at its first step, updated at its last, resolved at its last when completed:
        the steps are what this reader has been told, oldest first.
        """
        updates = [
            self._update_object(
                s.id,
                s.state,
                self.maintenance_body(s.state, occ, description) if s.body is None else s.body,
                mid,
                s.at,
            )
            for s in steps
        ]
        started = status != "scheduled" and occ.start <= steps[-1].at
        return {
            "id": mid,
            "name": occ.title,
            "status": status,
            "impact": "maintenance",
            "created_at": self.time(steps[0].at),
            "updated_at": self.time(steps[-1].at),
            "monitoring_at": None,
            "resolved_at": self.time(steps[-1].at) if status == "completed" else None,
            # Null until it has started (as Statuspage): scheduled, or cancelled before its start.
            "started_at": self.time(occ.start) if started else None,
            "shortlink": f"{self.base}/maintenance",
            "page_id": self.page_id,
            "components": list(components),
            "incident_updates": updates[::-1],
            "scheduled_for": self.time(occ.start),
            "scheduled_until": self.time(occ.end),
        }

    def maintenance_body(self, state: str, occ: Occurrence, description: str) -> str:
        """The wording of a maintenance update announcing `state`."""
        return MAINTENANCE_UPDATES[state].format(
            description=description or occ.title, start=self.time(occ.start), end=self.time(occ.end)
        )

    def _update_object(
        self,
        uid: str,
        status: str,
        body: str,
        incident_id: str,
        at: float,
        changes: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        t = self.time(at)
        return {
            "id": uid,
            "status": status,
            "body": body,
            "incident_id": incident_id,
            "created_at": t,
            "updated_at": t,
            "display_at": t,
            "affected_components": changes or [],
            # Statuspage's own fields; statuswatch notifies subscribers of every update and
            # posts to no Twitter account.
            "deliver_notifications": True,
            "custom_tweet": None,
            "tweet_id": None,
        }
