"""A monitor's verdict from its locations' verdicts: the quorum rule. Pure.

The one rule, applied live (monitor/locations.py, per check) and over recorded intervals
(sla/evidence.py `combine_locations`):
- down when at least `quorum` locations are down;
- no evidence (dark) when fewer than `quorum` locations have evidence (a location is without
  evidence while its agent is silent or its results are late, or in one of its gaps): never
  down or up, recorded as unmonitored with its reason;
- regional when some, but fewer than `quorum`, locations are down: visible, not an outage;
- otherwise up.
Down wins over dark, as downtime wins over unmonitored time everywhere (SLA.md "Evidence").
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    UP = "up"
    REGIONAL = "regional"
    DOWN = "down"
    DARK = "dark"  # no evidence either way


def verdict(*, down: int, dark: int, total: int, quorum: int) -> Verdict:
    """The monitor's verdict when `down` of its `total` locations are down and `dark` silent."""
    if down >= quorum:
        return Verdict.DOWN
    if total - dark < quorum:
        return Verdict.DARK
    if down:
        return Verdict.REGIONAL
    return Verdict.UP
