"""Monitoring's own record of results: cheap counts kept on the hot path.

Every probe result passes through `ResultTally.add` (a few dict and list updates, no
prometheus_client objects), every probe run through `Buckets.observe`. Readers on another
thread (the metrics render thread) take `ResultTally.copy()`: `dict.copy()` runs without
releasing the GIL in CPython, so a copy never sees a half-made change, and a count read a moment
late is only a moment late.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from statuswatch.probes.base import CheckResult, Inconclusive
from statuswatch.store.models import LOCAL

# Probe latency (seconds): from a local health check to a storefront near its timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# How late a probe run started after its slot (seconds); runs later than max_lateness are skipped.
LATENESS_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0)


class Buckets:
    """One histogram's raw counts: counts[i] for values <= bounds[i], the last for +Inf."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


class ResultTally:
    """Counts of every check result since start: per monitor and location, per failure class,
    per component (the metrics' series are per location, so the counts are kept so)."""

    __slots__ = (
        "cert_expiry",
        "checks",
        "failures",
        "inconclusive",
        "last",
        "last_inconclusive",
        "latency",
    )

    def __init__(self) -> None:
        self.checks: dict[tuple[str, str], list[int]] = {}  # (monitor, location) -> [pass, fail]
        # (monitor id, location, error class) -> count
        self.failures: dict[tuple[str, str, str], int] = {}
        self.last: dict[tuple[str, str], CheckResult] = {}  # (monitor, location) -> last result
        self.latency: dict[str, Buckets] = {}  # component id -> latency histogram
        # Last certificate expiry seen per monitor: a failed check that could not read the
        # certificate (connect error) must not make an expiring certificate's series vanish.
        self.cert_expiry: dict[tuple[str, str], float] = {}  # by (monitor, location)
        # Runs that were no evidence, by reason: every reason from the start, so rate() works.
        self.inconclusive: dict[str, int] = {r.value: 0 for r in Inconclusive}
        self.last_inconclusive: CheckResult | None = None

    def add_inconclusive(self, result: CheckResult) -> None:
        """Count one inconclusive run (not a check: it says nothing about the target)."""
        reason = result.inconclusive or "unknown"
        self.inconclusive[reason] = self.inconclusive.get(reason, 0) + 1
        self.last_inconclusive = result

    def add(self, component: str, result: CheckResult, location: str = LOCAL) -> None:
        """Count one result from `location` (called for every result: keep it cheap)."""
        mid = (result.monitor_id, location)
        self.last[mid] = result
        counts = self.checks.get(mid)
        if counts is None:
            counts = self.checks[mid] = [0, 0]
        if result.ok:
            counts[0] += 1
        else:
            counts[1] += 1
            key = (*mid, result.error_class or "unknown")
            self.failures[key] = self.failures.get(key, 0) + 1
        if result.latency is not None:
            hist = self.latency.get(component)
            if hist is None:
                hist = self.latency[component] = Buckets(LATENCY_BUCKETS)
            hist.observe(result.latency)
        if result.cert_expiry is not None:
            self.cert_expiry[mid] = result.cert_expiry

    def copy(self) -> ResultTally:
        """The counts as they are now, safe to read from another thread (the dicts are copied;
        a monitor's [passed, failed] and a histogram's counts stay shared and keep counting)."""
        out = ResultTally()
        out.checks = self.checks.copy()
        out.failures = self.failures.copy()
        out.last = self.last.copy()
        out.latency = self.latency.copy()
        out.cert_expiry = self.cert_expiry.copy()
        out.inconclusive = self.inconclusive.copy()
        out.last_inconclusive = self.last_inconclusive
        return out
