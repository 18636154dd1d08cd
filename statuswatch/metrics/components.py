"""Per-component families: the public status now, and availability over rolling windows."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric

from statuswatch.config import Config
from statuswatch.metrics.exposition import LabelSet
from statuswatch.metrics.family import Families, put
from statuswatch.metrics.snapshot import WINDOWS, SlaFigures
from statuswatch.status.component import ComponentStatus

FAMILIES = Families(
    {
        "statuswatch_component_status": (
            "gauge",
            "1 for the component's current public status, 0 for the other values.",
            ("component", "status"),
        ),
        "statuswatch_availability_ratio": (
            "gauge",
            "Component availability over the window (SLA.md; maintenance excused, "
            "unmonitored time excluded); absent when nothing was measurable.",
            ("component", "window"),
        ),
        "statuswatch_unmonitored_ratio": (
            "gauge",
            "Share of the window with no evidence either way.",
            ("component", "window"),
        ),
        "statuswatch_coverage_ratio": (
            "gauge",
            "Share of the window with evidence either way, that the availability rests on.",
            ("component", "window"),
        ),
    }
)


class ComponentFamilies:
    """Built from the board's statuses and the last SLA figures."""

    def __init__(self, config: Config) -> None:
        self._status_labels = {
            c.id: [(s, LabelSet({"component": c.id, "status": s.value})) for s in ComponentStatus]
            for c in config.components
        }
        self._window_labels = {
            (c.id, w): LabelSet({"component": c.id, "window": w})
            for c in config.components
            for w in WINDOWS
        }

    def collect(
        self, statuses: dict[str, ComponentStatus], figures: SlaFigures | None
    ) -> Iterator[Metric]:
        """Status, then availability, unmonitored share and coverage per window."""
        fam = FAMILIES.new("statuswatch_component_status")
        for cid, pairs in self._status_labels.items():
            current = statuses.get(cid, ComponentStatus.OPERATIONAL)
            for status, labels in pairs:
                put(fam, labels, 1 if status is current else 0)
        yield fam
        avail = FAMILIES.new("statuswatch_availability_ratio")
        dark = FAMILIES.new("statuswatch_unmonitored_ratio")
        coverage = FAMILIES.new("statuswatch_coverage_ratio")
        if figures is not None:
            for cid, rows in figures.components.items():
                for row in rows:
                    labels = self._window_labels.get((cid, row.window))
                    if labels is None:
                        continue
                    if row.availability_ratio is not None:
                        put(avail, labels, row.availability_ratio)
                    put(dark, labels, row.unmonitored_ratio)
                    put(coverage, labels, row.coverage_ratio)
        yield avail
        yield dark
        yield coverage
