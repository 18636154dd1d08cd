"""The operator's regional warning as a gauge, for SREs who alert from Prometheus.

`[incidents] regional_alert_after` logs a WARNING once a monitor has been regional that long
(status/regional_alerts.py); the gauge is 1 from that moment until the monitor is no longer
regional. It reads the warning's own state rather than exposing how long the monitor has been
regional, so the delay is decided in one place (the config) and a Prometheus rule need not
repeat it. Only monitors probed from two locations or more can be regional: the others have no
series, so a single-location fleet's scrape is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Set

from prometheus_client.core import Metric

from statuswatch.config import Config
from statuswatch.metrics.exposition import LabelSet
from statuswatch.metrics.family import Families, put
from statuswatch.metrics.monitors import MONITOR

FAMILIES = Families(
    {
        "statuswatch_monitor_regional_alert": (
            "gauge",
            "1 while the operator's regional warning stands: the monitor has been down from "
            "fewer locations than its quorum for [incidents] regional_alert_after; 0 otherwise.",
            MONITOR,
        ),
    }
)


class RegionalFamilies:
    """The regional warning of every monitor with several locations."""

    def __init__(self, config: Config) -> None:
        self._labels = [
            (m.id, LabelSet({"monitor": m.id, "component": m.component, "kind": m.kind}))
            for m in config.monitors
            if len(m.locations or ()) > 1
        ]

    def collect(self, alerted: Set[str]) -> Iterator[Metric]:
        """1 for the monitors whose warning stands (`alerted`, a copy), 0 for the others."""
        fam = FAMILIES.new("statuswatch_monitor_regional_alert")
        for monitor_id, labels in self._labels:
            put(fam, labels, 1.0 if monitor_id in alerted else 0.0)
        yield fam
