"""Severities and their communication commitments: when the next update is due, and whether
each commitment was kept. Pure.

Only updates written by people count as a response: statuswatch's own automatic "we are
investigating" is immediate and would make every first-response target trivially met.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from statuswatch.incidents.auto import AUTHOR
from statuswatch.incidents.model import Incident

if TYPE_CHECKING:
    from statuswatch.config.model import SeverityLevel


@dataclass(frozen=True, slots=True)
class Severity:
    id: str
    name: str
    first_response: float  # seconds from opening to the first human update
    update_every: float | None = None  # then at most this long between human updates


# The premium SLA's table: S1 critical 20 min then every 30 min; S2 90 min; S3 6 h; S4 24 h.
DEFAULT_SEVERITIES = (
    Severity("S1", "Critical incident", 20 * 60, 30 * 60),
    Severity("S2", "Incident", 90 * 60),
    Severity("S3", "Problem", 6 * 3600),
    Severity("S4", "Question", 24 * 3600),
)


def severities_of(levels: Sequence[SeverityLevel]) -> dict[str, Severity]:
    """The configured [[severities]] by id, or DEFAULT_SEVERITIES when none are configured."""
    if not levels:
        return {s.id: s for s in DEFAULT_SEVERITIES}
    return {
        lv.id: Severity(
            lv.id,
            lv.name,
            float(lv.first_response),
            None if lv.update_every is None else float(lv.update_every),
        )
        for lv in levels
    }


@dataclass(frozen=True, slots=True)
class Commitment:
    kind: str  # "first_response" or "update"
    due: float
    kept: bool | None  # None while still open and not yet due


def _human_updates(incident: Incident) -> list[float]:
    return [u.time for u in incident.updates if u.author != AUTHOR]


def next_update_due(incident: Incident, severity: Severity | None) -> float | None:
    """When the next human update is due; None when closed or nothing is promised."""
    if severity is None or incident.status.closed:
        return None
    human = _human_updates(incident)
    if not human:
        return incident.created + severity.first_response
    if severity.update_every is None:
        return None
    return human[-1] + severity.update_every


def update_overdue(incident: Incident, severity: Severity | None, now: float) -> bool:
    """Whether the next update is past due: judged as the missed-commitments metric judges."""
    due = next_update_due(incident, severity)
    return due is not None and _judge("update", due, None, now).kept is False


def commitments(incident: Incident, severity: Severity | None, now: float) -> list[Commitment]:
    """Every commitment of the incident so far, kept or missed (or pending)."""
    if severity is None:
        return []
    human = _human_updates(incident)
    end = incident.resolved_at if incident.resolved_at is not None else now
    out = [
        _judge(
            "first_response",
            incident.created + severity.first_response,
            human[0] if human else None,
            end,
        )
    ]
    if severity.update_every is not None and human:
        for prev, nxt in zip(human, [*human[1:], None], strict=True):
            due = prev + severity.update_every
            if nxt is None and due >= end:
                break  # the incident ended (or it is now) before another update was due
            out.append(_judge("update", due, nxt, end))
    return out


def _judge(kind: str, due: float, done: float | None, end: float) -> Commitment:
    if done is not None and done <= due:
        return Commitment(kind, due, True)
    if done is None and end <= due:  # not due yet, or the incident ended before it was
        return Commitment(kind, due, None)
    return Commitment(kind, due, False)
