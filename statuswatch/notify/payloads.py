"""What a change tells subscribers: the NotifyEvent saved with it (pure)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from statuswatch.clock import iso
from statuswatch.incidents.model import Incident, IncidentStatus
from statuswatch.maintenance.calendar import MaintenanceCalendar, Occurrence
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
            "shortlink": f"{base_url}/incidents/{incident.id}",
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


MAINTENANCE_TEXT = {
    "scheduled": "Maintenance is scheduled from {start} to {end} (UTC).",
    "cancelled": "The maintenance planned from {start} to {end} (UTC) is cancelled.",
    "in_progress": "Maintenance has started; it is planned to end at {end} (UTC).",
    "completed": "Maintenance is complete.",
}


def maintenance_event(
    occurrence: Occurrence,
    state: str,
    description: str,
    source: str,
    now: float,
    names: Mapping[str, str],
    base_url: str,
    coalesce: float,
) -> NotifyEvent:
    """An event for a maintenance occurrence: scheduled, cancelled, in_progress or completed.

    Shaped like Statuspage's scheduled-maintenance incidents (impact "maintenance"), so email
    and webhooks treat both alike.
    """
    start, end = iso(occurrence.start), iso(occurrence.end)
    body = MAINTENANCE_TEXT[state].format(start=start, end=end)
    if description and state in ("scheduled", "in_progress"):
        body = f"{body}\n\n{description}"
    components = sorted(occurrence.components)
    payload = {
        "incident": {
            "id": occurrence.window_id,
            "name": occurrence.title,
            "status": state,
            "impact": "maintenance",
            "created_at": iso(now),
            "updated_at": iso(now),
            "resolved_at": iso(now) if state == "completed" else None,
            "scheduled_for": start,
            "scheduled_until": end,
            "shortlink": f"{base_url}/maintenance",
            "components": [
                {"id": cid, "name": names.get(cid, cid), "status": "under_maintenance"}
                for cid in components
            ],
            "incident_updates": [
                {"id": source, "status": state, "body": body, "created_at": iso(now)}
            ],
        }
    }
    return NotifyEvent(
        source=source,
        topic=f"maintenance:{occurrence.window_id}:{occurrence.start}",
        kind="maintenance",
        time=now,
        components=tuple(components),
        payload=msgspec.json.encode(payload),
        coalesce=coalesce,
    )


def maintenance_edges(
    calendar: MaintenanceCalendar, since: float, now: float
) -> list[tuple[Occurrence, str]]:
    """Occurrences that started or ended in (since, now], as (occurrence, state), in order."""
    found = []
    for occ in calendar.occurrences(int(since), int(now) + 1):
        if occ.cancelled:
            continue
        if since < occ.start <= now:
            found.append((occ.start, occ, "in_progress"))
        if since < occ.end <= now:
            found.append((occ.end, occ, "completed"))
    found.sort(key=lambda f: (f[0], f[1].window_id, f[2] == "in_progress"))
    return [(occ, state) for _, occ, state in found]
