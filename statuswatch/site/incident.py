"""What the incident page, the history and the feeds show of an incident. Pure: data in.

Bodies are Markdown rendered by statuswatch.site.markdown (sanitised); nothing here is a template.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from markupsafe import Markup

from statuswatch.incidents.model import Incident, IncidentUpdate
from statuswatch.incidents.severity import Severity, next_update_due, update_overdue
from statuswatch.site.markdown import render_markdown
from statuswatch.site.stamps import Stamp, maybe_stamp, stamp
from statuswatch.sla.display import status_label

# Updates never change once posted, and the page, both feeds and every cache expiry render the
# same bodies again; Markdown holds the GIL, so rendering every timeline afresh stalls the probes'
# event loop. Keyed by the text itself, so an edit can never show stale HTML.
markdown_once = functools.lru_cache(maxsize=2048)(render_markdown)


@dataclass(frozen=True, slots=True)
class ChangeView:
    component: str  # display name
    old: str  # status value, e.g. "operational"
    new: str


@dataclass(frozen=True, slots=True)
class UpdateView:
    id: str
    status: str
    status_text: str
    time: Stamp
    body_html: Markup
    changes: tuple[ChangeView, ...]


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: str
    title: str
    impact: str
    status: str
    status_text: str
    severity: str | None  # the severity's name, e.g. "Critical incident"
    created: Stamp
    resolved: Stamp | None
    next_update_due: Stamp | None
    update_overdue: bool  # the next update is past due (the metric counts it missed)
    components: tuple[tuple[str, str], ...]  # (name, status value) as the incident last said
    updates: tuple[UpdateView, ...]  # newest first, as status pages read


def _update(update: IncidentUpdate, names: Mapping[str, str], tz: ZoneInfo) -> UpdateView:
    changes = tuple(
        ChangeView(names.get(c.component, c.component), c.old.value, c.new.value)
        for c in update.changes
    )
    return UpdateView(
        update.id,
        update.status.value,
        status_label(update.status.value),
        stamp(update.time, tz),
        markdown_once(update.body),
        changes,
    )


def incident_view(
    incident: Incident,
    names: Mapping[str, str],
    severities: Mapping[str, Severity],
    tz: ZoneInfo,
    now: float | None = None,
) -> IncidentView:
    """The whole timeline of one incident, ready for a template; `now` None (the feeds, which
    change only with the incident) never says an update is overdue."""
    severity = severities.get(incident.severity or "")
    due = next_update_due(incident, severity)
    overdue = now is not None and update_overdue(incident, severity, now)
    return IncidentView(
        id=incident.id,
        title=incident.title,
        impact=incident.impact.value,
        status=incident.status.value,
        status_text=status_label(incident.status.value),
        severity=None if severity is None else severity.name,
        created=stamp(incident.created, tz),
        resolved=maybe_stamp(incident.resolved_at, tz),
        next_update_due=maybe_stamp(due, tz),
        update_overdue=overdue,
        components=tuple((names.get(cid, cid), s.value) for cid, s in incident.components.items()),
        updates=tuple(_update(u, names, tz) for u in reversed(incident.updates)),
    )
