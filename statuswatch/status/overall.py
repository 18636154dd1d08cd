"""The status the public is told: one rule for the banner, status.json and the badges. Pure.

Worst wins. A component's public status is the worse of what its monitors say (maintenance
already folded in: a window makes its own downtime expected) and what every open incident says
of it; the page's status is the worst of those and of the open incidents' impacts. Maintenance
ranks just above operational, so it is shown only when nothing worse is going on: an operator's
"checkout degraded" during a window on checkout shows degraded, on the banner, in status.json and
on the badge alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from statuswatch.incidents.model import Impact, Incident
from statuswatch.status.component import ComponentStatus, worst

# An incident's impact as a status (the inverse of Statuspage's indicator mapping: minor is
# degraded, major a partial outage, critical a major outage).
IMPACT_STATUS = {
    Impact.NONE: ComponentStatus.OPERATIONAL,
    Impact.MINOR: ComponentStatus.DEGRADED,
    Impact.MAJOR: ComponentStatus.PARTIAL,
    Impact.CRITICAL: ComponentStatus.MAJOR,
}


def _open(incidents: Iterable[Incident]) -> list[Incident]:
    return [i for i in incidents if not i.status.closed]


def public_statuses(
    board: Mapping[str, ComponentStatus], incidents: Iterable[Incident]
) -> dict[str, ComponentStatus]:
    """Each component's status: the worst of its own and of what open incidents say of it."""
    out = dict(board)
    for inc in _open(incidents):
        for cid, status in inc.components.items():
            if cid in out:
                out[cid] = worst([out[cid], status])
    return out


def page_status(
    board: Mapping[str, ComponentStatus], incidents: Iterable[Incident]
) -> ComponentStatus:
    """The whole page's status: the worst component (as public_statuses) or open impact."""
    found = _open(incidents)
    statuses = list(public_statuses(board, found).values())
    return worst([*statuses, *(IMPACT_STATUS[i.impact] for i in found)])
