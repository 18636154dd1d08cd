"""What a change tells subscribers: the NotifyEvent saved with it (pure)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from statuswatch.clock import iso
from statuswatch.incidents.model import Incident, IncidentStatus
from statuswatch.store.outbox import NotifyEvent


def incident_event(
    incident: Incident, names: Mapping[str, str], base_url: str, coalesce: float
) -> NotifyEvent | None:
    """The event for an incident's latest update; None when it has nothing new to announce.

    The source is the update's id, so saving the incident again (a title edit, the board's next
    tick) never notifies twice. A postmortem comes after the one resolution message and is not
    announced by mail.
    """
    if not incident.updates:
        return None
    latest = incident.updates[-1]
    if latest.status is IncidentStatus.POSTMORTEM:
        return None
    payload = {
        "incident": {
            "id": incident.id,
            "name": incident.title,
            "status": latest.status.value,
            "impact": incident.impact.value,
            "created_at": iso(incident.created),
            "updated_at": iso(latest.time),
            "resolved_at": iso(incident.resolved_at),
            "shortlink": f"{base_url.rstrip('/')}/incidents/{incident.id}",
            "components": [
                {"id": cid, "name": names.get(cid, cid), "status": status.value}
                for cid, status in incident.components.items()
            ],
            "incident_updates": [
                {
                    "id": latest.id,
                    "status": latest.status.value,
                    "body": latest.body,
                    "created_at": iso(latest.time),
                }
            ],
        }
    }
    return NotifyEvent(
        source=f"incident-update:{latest.id}",
        topic=f"incident:{incident.id}",
        kind="incident",
        time=latest.time,
        components=tuple(incident.components),
        payload=msgspec.json.encode(payload),
        coalesce=coalesce,
    )
