"""Probe scheduling: how late runs start, how many are in flight, started and skipped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric

from statuswatch.metrics.family import Families, HistogramLabels, put, put_histogram
from statuswatch.monitor.scheduler import SchedulerStats
from statuswatch.monitor.tally import Buckets
from statuswatch.probes.base import Inconclusive

# How late a probe run started after its slot (seconds); runs later than max_lateness are skipped.
LATENESS_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0)

FAMILIES = Families(
    {
        "statuswatch_scheduler_lateness_seconds": (
            "histogram",
            "How long after its slot each probe run started.",
            (),
        ),
        "statuswatch_probes_in_flight": ("gauge", "Probe runs in progress.", ()),
        "statuswatch_probe_runs_total": ("counter", "Probe runs started.", ()),
        "statuswatch_probe_runs_skipped_total": (
            "counter",
            "Probe runs skipped: late (past probing.max_lateness) or in_flight (the "
            "previous run of the monitor was still going).",
            ("reason",),
        ),
        "statuswatch_probe_runs_inconclusive_total": (
            "counter",
            "Probe runs that were no evidence because the failure was statuswatch's own: "
            "descriptors (EMFILE/ENFILE), memory (ENOMEM/ENOBUFS), stalled (the event loop "
            "missed the deadline), resolver (its own resolver answers nothing). Recorded as "
            "unmonitored time, never as a failure.",
            ("reason",),
        ),
    }
)


class SchedulingFamilies:
    """Built from the scheduler's stats and the lateness histogram its hook feeds."""

    def __init__(self, lateness: Buckets | None = None) -> None:
        self.lateness = lateness or Buckets(LATENESS_BUCKETS)
        self._lateness_labels = HistogramLabels({}, self.lateness.bounds)

    def collect(
        self, stats: SchedulerStats | None, inconclusive: dict[str, int] | None = None
    ) -> Iterator[Metric]:
        """Lateness, in flight, runs, skipped, inconclusive (zeros when not probing)."""
        lateness = FAMILIES.new("statuswatch_scheduler_lateness_seconds")
        put_histogram(lateness, self._lateness_labels, self.lateness)
        yield lateness
        yield FAMILIES.gauge("statuswatch_probes_in_flight", stats.in_flight if stats else 0)
        runs = FAMILIES.new("statuswatch_probe_runs_total")
        put(runs, {}, stats.runs if stats else 0)
        yield runs
        skipped = FAMILIES.new("statuswatch_probe_runs_skipped_total")
        put(skipped, {"reason": "late"}, stats.skipped_late if stats else 0)
        put(skipped, {"reason": "in_flight"}, stats.skipped_in_flight if stats else 0)
        yield skipped
        counts = inconclusive or {}
        runs_inconclusive = FAMILIES.new("statuswatch_probe_runs_inconclusive_total")
        for reason in Inconclusive:  # every reason from the start, so rate() works
            put(runs_inconclusive, {"reason": reason.value}, counts.get(reason.value, 0))
        yield runs_inconclusive
