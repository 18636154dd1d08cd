"""A component's public status from its monitors' confirmed states. Pure.

Statuspage's values: operational, degraded_performance, partial_outage, major_outage,
under_maintenance. Two rules:
- `any` (default): the worst monitor decides (down -> major_outage, degraded or regional ->
  degraded).
- `fraction`: for fleets such as "Storefronts", thresholds on the share of monitors down, so one
  merchant's storefront failing shows as a small blip on the public page (while it still counts
  fully for that merchant's own SLA).
Maintenance wins while a window covering the component is in progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from statuswatch.monitor.events import State


class ComponentStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded_performance"
    PARTIAL = "partial_outage"
    MAJOR = "major_outage"
    MAINTENANCE = "under_maintenance"


SEVERITY = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.MAINTENANCE: 1,
    ComponentStatus.DEGRADED: 2,
    ComponentStatus.PARTIAL: 3,
    ComponentStatus.MAJOR: 4,
}
OUTAGE_STATUSES = frozenset({ComponentStatus.PARTIAL, ComponentStatus.MAJOR})


@dataclass(frozen=True, slots=True)
class FractionRule:
    """Percent of monitors down at which the component is degraded / partial / major."""

    degraded: float = 1.0
    partial: float = 5.0
    major: float = 50.0


# What a monitor's state weighs in its component's status. Regional (down from fewer locations
# than the quorum) is visible, but not an outage.
DOWN_STATES = frozenset({State.DOWN})
DEGRADED_STATES = frozenset({State.DEGRADED, State.REGIONAL})


def component_status(
    states: Sequence[State], *, rule: FractionRule | None = None, in_maintenance: bool = False
) -> ComponentStatus:
    """The component's status; `rule` None means the worst monitor decides."""
    down = sum(1 for s in states if s in DOWN_STATES)
    degraded = sum(1 for s in states if s in DEGRADED_STATES)
    return status_of_counts(len(states), down, degraded, rule=rule, in_maintenance=in_maintenance)


def status_of_counts(
    monitors: int,
    down: int,
    degraded: int,
    *,
    rule: FractionRule | None = None,
    in_maintenance: bool = False,
) -> ComponentStatus:
    """The status of a component of `monitors` monitors, `down` of them down and `degraded`
    degraded or regional: the rule itself, for a caller that keeps the counts as states change
    (status/tally.py) rather than scanning the states."""
    if in_maintenance:
        return ComponentStatus.MAINTENANCE
    if not monitors:
        return ComponentStatus.OPERATIONAL
    if rule is None:
        if down:
            return ComponentStatus.MAJOR
        return ComponentStatus.DEGRADED if degraded else ComponentStatus.OPERATIONAL
    share = 100 * down / monitors
    if down and share >= rule.major:
        return ComponentStatus.MAJOR
    if down and share >= rule.partial:
        return ComponentStatus.PARTIAL
    if (down and share >= rule.degraded) or degraded:
        return ComponentStatus.DEGRADED
    return ComponentStatus.OPERATIONAL


def worst(statuses: Sequence[ComponentStatus]) -> ComponentStatus:
    """The most severe of several statuses (operational when there are none)."""
    return max(statuses, key=SEVERITY.__getitem__, default=ComponentStatus.OPERATIONAL)
