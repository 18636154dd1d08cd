"""Operator edits of incidents: the request shapes, their checks, and how they apply. Pure.

Checks yield "field: message" for every problem at once (the API answers 422 naming each), and
run before anything changes: the incident may be the live automatic one the board holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import msgspec

from statuswatch.incidents.auto import AUTHOR
from statuswatch.incidents.model import (
    IMPACT_ORDER,
    ComponentChange,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    impact_of,
    new_id,
)
from statuswatch.status.component import ComponentStatus
from statuswatch.validation import MULTILINE, control_characters

TITLE_MAX = 200
BODY_MAX = 10_000
AUTHOR_MAX = 100
# What an operator may set; `postmortem` only comes with a write-up (PATCH postmortem).
STATUSES = ("investigating", "identified", "monitoring", "resolved")
OUTAGE_LEVELS = ("degraded_performance", "partial_outage", "major_outage")
UPDATE_LEVELS = ("operational", *OUTAGE_LEVELS)
IMPACTS = tuple(i.value for i in Impact)


class _Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


# Enumerations are plain strings here and checked below, so that one answer names every bad
# field (msgspec stops at the first) and says which values are allowed.
class NewIncident(_Request):
    title: str
    body: str
    impact: str | None = None  # None: from the components' statuses
    status: str = "investigating"
    components: dict[str, str] = {}
    severity: str | None = None
    author: str = "operator"


class NewUpdate(_Request):
    body: str
    status: str | None = None  # None: the incident keeps its status
    components: dict[str, str] = {}
    author: str = "operator"


class IncidentPatch(_Request):
    title: str | msgspec.UnsetType = msgspec.UNSET
    impact: str | msgspec.UnsetType = msgspec.UNSET
    severity: str | msgspec.UnsetType | None = msgspec.UNSET
    postmortem: str | msgspec.UnsetType = msgspec.UNSET
    author: str = "operator"


@dataclass(frozen=True, slots=True)
class Known:
    """The ids a request may refer to."""

    components: frozenset[str]
    severities: frozenset[str]


def _one_of(field: str, value: str | None, allowed: tuple[str, ...]) -> Iterator[str]:
    if value is not None and value not in allowed:
        yield f"{field}: must be one of {', '.join(allowed)}; got {value!r}"


def _text(
    field: str, value: str, limit: int, allowed: frozenset[str] = frozenset()
) -> Iterator[str]:
    # One-line texts (title, author) allow no control character; Markdown bodies their breaks.
    if not value.strip():
        yield f"{field}: must not be empty"
    elif len(value) > limit:
        yield f"{field}: at most {limit} characters (got {len(value)})"
    else:
        yield from control_characters(field, value, allowed)


def _author(value: str) -> Iterator[str]:
    yield from _text("author", value, AUTHOR_MAX)
    if value.strip() == AUTHOR:  # statuswatch's own updates do not count as a human response
        yield f"author: {AUTHOR!r} is reserved for automatic updates"


def _components(given: Mapping[str, str], allowed: tuple[str, ...], known: Known) -> Iterator[str]:
    for cid, status in given.items():
        if cid not in known.components:
            yield f"components.{cid}: unknown component"
        else:
            yield from _one_of(f"components.{cid}", status, allowed)


def _severity(value: str | None, known: Known) -> Iterator[str]:
    if value is not None and value not in known.severities:
        yield f"severity: unknown severity {value!r} (known: {', '.join(sorted(known.severities))})"


def check_new(req: NewIncident, known: Known) -> Iterator[str]:
    """Every problem of a new incident."""
    yield from _text("title", req.title, TITLE_MAX)
    yield from _one_of("impact", req.impact, IMPACTS)
    yield from _one_of("status", req.status, STATUSES)
    yield from _components(req.components, OUTAGE_LEVELS, known)
    yield from _text("body", req.body, BODY_MAX, MULTILINE)
    yield from _severity(req.severity, known)
    yield from _author(req.author)


def check_update(req: NewUpdate, known: Known) -> Iterator[str]:
    """Every problem of an update to post."""
    yield from _one_of("status", req.status, STATUSES)
    yield from _text("body", req.body, BODY_MAX, MULTILINE)
    yield from _components(req.components, UPDATE_LEVELS, known)
    yield from _author(req.author)


def check_patch(req: IncidentPatch, incident: Incident, known: Known) -> Iterator[str]:
    """Every problem of a change to an incident's title, impact, severity or postmortem."""
    if all(v is msgspec.UNSET for v in (req.title, req.impact, req.severity, req.postmortem)):
        yield "$: nothing to change (give title, impact, severity or postmortem)"
    if isinstance(req.title, str):
        yield from _text("title", req.title, TITLE_MAX)
    if isinstance(req.impact, str):
        yield from _one_of("impact", req.impact, IMPACTS)
    if req.severity is not msgspec.UNSET:
        yield from _severity(req.severity, known)
    if isinstance(req.postmortem, str):
        yield from _text("postmortem", req.postmortem, BODY_MAX, MULTILINE)
        if not incident.status.closed:
            yield f"postmortem: allowed once the incident is resolved (it is {incident.status})"
    yield from _author(req.author)


def _changes(
    incident: Incident | None, given: Mapping[str, str], live: Mapping[str, ComponentStatus]
) -> tuple[ComponentChange, ...]:
    # "old" is what the incident last said about the component, else what the page shows now.
    out = []
    for cid, status in given.items():
        old = live.get(cid, ComponentStatus.OPERATIONAL)
        if incident is not None:
            old = incident.components.get(cid, old)
        out.append(ComponentChange(cid, old, ComponentStatus(status)))
    return tuple(out)


def open_incident(req: NewIncident, now: float, live: Mapping[str, ComponentStatus]) -> Incident:
    """A new operator incident with its first update (checked with check_new first)."""
    changes = _changes(None, req.components, live)
    implied = (impact_of(c.new) for c in changes)  # the worst component, as Statuspage does
    impact = (
        Impact(req.impact)
        if req.impact is not None
        else max(implied, key=IMPACT_ORDER.__getitem__, default=Impact.NONE)
    )
    status = IncidentStatus(req.status)
    incident = Incident(
        new_id(), req.title.strip(), impact, status, now, now, severity=req.severity
    )
    incident.post(now, status, req.body.strip(), req.author.strip(), changes)
    return incident


def post_update(
    incident: Incident, req: NewUpdate, now: float, live: Mapping[str, ComponentStatus]
) -> IncidentUpdate:
    """Append an operator's update (checked with check_update first)."""
    status = incident.status if req.status is None else IncidentStatus(req.status)
    changes = _changes(incident, req.components, live)
    return incident.post(now, status, req.body.strip(), req.author.strip(), changes)


def apply_patch(incident: Incident, req: IncidentPatch, now: float) -> None:
    """Apply a checked patch; a postmortem is posted as the final update."""
    if isinstance(req.title, str):
        incident.title = req.title.strip()
        incident.title_by_operator = True  # an automatic incident's title stops following
    if isinstance(req.impact, str):
        incident.impact = Impact(req.impact)
    if req.severity is not msgspec.UNSET:
        incident.severity = req.severity
    incident.updated = max(incident.updated, now)  # never back, whatever the wall clock does
    if isinstance(req.postmortem, str):
        incident.post(now, IncidentStatus.POSTMORTEM, req.postmortem.strip(), req.author.strip())
