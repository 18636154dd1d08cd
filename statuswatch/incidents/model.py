"""The incident model (Statuspage's vocabulary)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from statuswatch.status.component import ComponentStatus


class Impact(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"  # resolved, with a write-up

    @property
    def closed(self) -> bool:
        return self in (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM)


IMPACT_ORDER = {Impact.NONE: 0, Impact.MINOR: 1, Impact.MAJOR: 2, Impact.CRITICAL: 3}


def impact_of(status: ComponentStatus) -> Impact:
    """The impact a component status implies (an outage level maps onto Statuspage's scale)."""
    return {
        ComponentStatus.MAJOR: Impact.MAJOR,
        ComponentStatus.PARTIAL: Impact.MINOR,
        ComponentStatus.DEGRADED: Impact.MINOR,
    }.get(status, Impact.NONE)


def new_id() -> str:
    """A short random id, like Statuspage's ("p31zjtct2jer"): no row counts leak through ids."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


@dataclass(frozen=True, slots=True)
class ComponentChange:
    component: str
    old: ComponentStatus
    new: ComponentStatus


@dataclass(frozen=True, slots=True)
class IncidentUpdate:
    id: str
    incident_id: str
    time: float
    status: IncidentStatus
    body: str
    author: str  # "statuswatch" for automatic updates
    changes: tuple[ComponentChange, ...] = ()


@dataclass
class Incident:
    """One incident and its timeline. Mutable: the lifecycle edits it, the store saves it whole."""

    id: str
    title: str
    impact: Impact
    status: IncidentStatus
    created: float
    updated: float
    severity: str | None = None
    components: dict[str, ComponentStatus] = field(default_factory=dict)
    updates: list[IncidentUpdate] = field(default_factory=list)
    auto: bool = False  # opened by statuswatch from monitor transitions
    taken_over: bool = False  # an operator has posted: statuswatch no longer resolves it
    title_by_operator: bool = False  # an operator set the title: statuswatch never changes it
    monitoring_at: float | None = None
    resolved_at: float | None = None
    recovered_at: float | None = None  # all affected components operational again (auto)

    def post(
        self,
        time: float,
        status: IncidentStatus,
        body: str,
        author: str,
        changes: tuple[ComponentChange, ...] = (),
    ) -> IncidentUpdate:
        """Append an update, apply its status and component changes, return it."""
        # A timeline reads in the order it happened: after the wall clock steps back, an update
        # is stamped at the previous update's time, never before it.
        time = max(time, self.updated, self.updates[-1].time if self.updates else time)
        update = IncidentUpdate(new_id(), self.id, time, status, body, author, changes)
        self.updates.append(update)
        for change in changes:
            self.components[change.component] = change.new
        self.status = status
        self.updated = time
        if status is IncidentStatus.MONITORING and self.monitoring_at is None:
            self.monitoring_at = time
        if status.closed and self.resolved_at is None:
            self.resolved_at = time
        if not status.closed:
            self.resolved_at = None
        return update
