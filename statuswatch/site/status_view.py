"""A status as the pages show it: its words, its icon, and "no data yet" before any check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from statuswatch.status.component import ComponentStatus, worst

BANNER = {
    ComponentStatus.OPERATIONAL: "All systems operational",
    ComponentStatus.DEGRADED: "Degraded performance",
    ComponentStatus.PARTIAL: "Partial outage",
    ComponentStatus.MAJOR: "Major outage",
    ComponentStatus.MAINTENANCE: "Maintenance in progress",
}
STATUS_TEXT = {
    ComponentStatus.OPERATIONAL: "Operational",
    ComponentStatus.DEGRADED: "Degraded performance",
    ComponentStatus.PARTIAL: "Partial outage",
    ComponentStatus.MAJOR: "Major outage",
    ComponentStatus.MAINTENANCE: "Under maintenance",
}
# Shapes as well as colours, so status never depends on telling colours apart.
ICON = {
    ComponentStatus.OPERATIONAL: "✓",
    ComponentStatus.DEGRADED: "!",
    ComponentStatus.PARTIAL: "◐",
    ComponentStatus.MAJOR: "✕",
    ComponentStatus.MAINTENANCE: "⚒",
}


@dataclass(frozen=True, slots=True)
class StatusView:
    value: str  # Statuspage's enumeration (or "no_data"), for CSS classes
    text: str
    icon: str

    @classmethod
    def of(cls, status: ComponentStatus, texts: Mapping[ComponentStatus, str] = STATUS_TEXT):
        return cls(status.value, texts[status], ICON[status])


NO_DATA = StatusView("no_data", "No data yet", "◌")
NO_DATA_BANNER = StatusView("no_data", "No data yet: waiting for the first checks", "◌")


def shown_status(
    statuses: list[ComponentStatus],
    waiting: bool,
    texts: Mapping[ComponentStatus, str] = STATUS_TEXT,
    no_data: StatusView = NO_DATA,
) -> StatusView:
    """The worst status, or "no data yet" rather than "operational" while any part waits for
    its first check (an outage or maintenance elsewhere is still shown as such)."""
    status = worst(statuses)
    if waiting and status is ComponentStatus.OPERATIONAL:
        return no_data
    return StatusView.of(status, texts)
