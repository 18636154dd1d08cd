"""What a message says, from the event's payload: its headline, subject and the parts' context.

Pure. The payload is Statuspage's incident object with UTC times (webhooks get it as it is);
people read the site's zone with the zone named, and a headline and colours that tell the
status the message is about (the same colours as the status page's light theme).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from statuswatch.site.stamps import stamp

STATUS_LABELS = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
    "scheduled": "Scheduled maintenance",
    "in_progress": "Maintenance in progress",
    "completed": "Maintenance completed",
    "cancelled": "Maintenance cancelled",
    "operational": "operational",
    "degraded_performance": "degraded performance",
    "partial_outage": "partial outage",
    "major_outage": "major outage",
    "under_maintenance": "under maintenance",
}
# A later update of a maintenance already in progress (the window was changed): it tells of
# the change, not of a start.
UPDATED = "Maintenance updated"

# The status page's light-theme colours (static/style.css), as text and as the banner behind
# white text (both at least 4.5:1 against their background).
COLOURS = {
    "operational": ("#1a7f37", "#1a7f37"),
    "degraded_performance": ("#9a6700", "#9a6700"),
    "partial_outage": ("#bc4c00", "#bc4c00"),
    "major_outage": ("#cf222e", "#a40e26"),
    "under_maintenance": ("#0969da", "#0550ae"),
    "none": ("#57606a", "#57606a"),
}
# Which colour a headline wears: an incident its worst component's, maintenance its state's.
HEADLINE_COLOUR = {
    "resolved": "operational",
    "completed": "operational",
    "scheduled": "under_maintenance",
    "in_progress": "under_maintenance",
    "cancelled": "none",
}
_WORST = ("major_outage", "partial_outage", "degraded_performance", "under_maintenance")
# Before a window starts its components are not under maintenance: a message announcing one
# names them (and when), never a status they do not have.
_NAMES_ONLY = frozenset({"scheduled", "cancelled"})


@dataclass(frozen=True, slots=True)
class MailView:
    """One incident or maintenance message as people read it."""

    headline: str
    subject: str
    context: dict[str, Any]


def local_text(value: str | None, tz: ZoneInfo) -> str | None:
    """A payload's UTC ISO time in the site's zone, zone named ("01 Dec 2026 21:49 CET")."""
    if not value:
        return None
    return stamp(datetime.fromisoformat(value).timestamp(), tz).text


def headline(incident: dict[str, Any]) -> str:
    """The status the message is about: the newest update's, or "updated" for a window edit."""
    updates = incident["incident_updates"]
    status = updates[0]["status"]
    edit = incident["impact"] == "maintenance" and status == "in_progress" and len(updates) > 1
    return UPDATED if edit else STATUS_LABELS.get(status, status)


def _headline_colour(incident: dict[str, Any]) -> str:
    status = incident["incident_updates"][0]["status"]
    if status in HEADLINE_COLOUR:
        return HEADLINE_COLOUR[status]
    shown = {c["status"] for c in incident["components"]}
    return next((s for s in _WORST if s in shown), "degraded_performance")


def _components(incident: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": c["name"],
            "status": c["status"],
            "label": STATUS_LABELS.get(c["status"], c["status"]),
            "colour": COLOURS.get(c["status"], COLOURS["none"])[0],
        }
        for c in incident["components"]
    ]


def incident_view(incident: dict[str, Any], site_title: str, tz: ZoneInfo) -> MailView:
    """The headline, subject and template context of one incident or maintenance message."""
    update = incident["incident_updates"][0]
    title = headline(incident)
    components = _components(incident)
    maintenance = incident["impact"] == "maintenance"
    starts = local_text(incident.get("scheduled_for"), tz) if maintenance else None
    names_only = maintenance and update["status"] in _NAMES_ONLY
    if names_only:
        affected = ", ".join(c["name"] for c in components)
    else:
        affected = ", ".join(f"{c['name']}: {c['label']}" for c in components)
    subject = f"[{site_title}] {title}: {incident['name']}"
    if affected:
        subject += f" ({affected})"
    if names_only and starts:
        subject += f", {starts}"
    text, banner = COLOURS[_headline_colour(incident)]
    context = {
        "site_title": site_title,
        "incident": incident,
        "update": update,
        "components": components,
        "names_only": names_only,
        "status_label": title,
        "status_colour": text,
        "banner_colour": banner,
        "maintenance": maintenance,
        "starts": starts,
        "ends": local_text(incident.get("scheduled_until"), tz) if maintenance else None,
        "posted": local_text(update["created_at"], tz),
        "subject": subject,
    }
    return MailView(title, subject, context)
