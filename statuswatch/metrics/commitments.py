"""Incident update commitments missed, from the last SLA figures."""

from __future__ import annotations

from prometheus_client.core import Metric

from statuswatch.metrics.family import Families, put
from statuswatch.metrics.snapshot import SlaFigures

FAMILIES = Families(
    {
        "statuswatch_incident_update_commitment_missed_total": (
            "counter",
            "Incident update commitments (first response, then every update_every) "
            "missed, over all incidents, by severity.",
            ("severity",),
        ),
    }
)


def collect(figures: SlaFigures | None) -> Metric:
    """Missed commitments by severity (no samples before the first figures)."""
    missed = FAMILIES.new("statuswatch_incident_update_commitment_missed_total")
    if figures is not None:
        for severity, count in sorted(figures.commitments_missed.items()):
            put(missed, {"severity": severity}, count)
    return missed
