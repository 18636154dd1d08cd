"""Fold check results into per-monitor hourly aggregates, in Python, before touching SQL."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from statuswatch.probes.base import CheckResult
from statuswatch.store.models import HOUR, LATENCY_BUCKETS

# bisect_left over the finite bounds gives the first bucket whose bound is >= the latency.
_FINITE_BOUNDS = LATENCY_BUCKETS[:-1]


def hour_of(t: float) -> int:
    """Return the whole UTC hour since the epoch that contains `t`."""
    return int(t // HOUR)


def bucket_index(latency: float) -> int:
    """Return the index of the smallest LATENCY_BUCKETS bound that is >= latency."""
    return bisect.bisect_left(_FINITE_BOUNDS, latency)


@dataclass(slots=True)
class Aggregate:
    """Running totals for one (monitor, hour); buckets are disjoint until `row()`."""

    n: int = 0
    failures: int = 0
    degraded: int = 0
    latency_sum: float = 0.0
    latency_min: float | None = None
    latency_max: float | None = None
    counts: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))

    def add(self, result: CheckResult) -> None:
        """Count one result."""
        self.n += 1
        self.failures += not result.ok
        self.degraded += result.degraded
        latency = result.latency
        if latency is None:  # a check that never got a timing still counts, just not here
            return
        self.latency_sum += latency
        self.latency_min = latency if self.latency_min is None else min(self.latency_min, latency)
        self.latency_max = latency if self.latency_max is None else max(self.latency_max, latency)
        self.counts[bucket_index(latency)] += 1

    def merge(self, other: Aggregate) -> None:
        """Count everything `other` counted too (the same monitor and hour)."""
        self.n += other.n
        self.failures += other.failures
        self.degraded += other.degraded
        self.latency_sum += other.latency_sum
        if other.latency_min is not None:
            low = self.latency_min
            self.latency_min = other.latency_min if low is None else min(low, other.latency_min)
        if other.latency_max is not None:
            high = self.latency_max
            self.latency_max = other.latency_max if high is None else max(high, other.latency_max)
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]

    def row(self) -> tuple[object, ...]:
        """Return the column values, with buckets made cumulative (`le` semantics)."""
        cumulative, total = [], 0
        for count in self.counts:
            total += count
            cumulative.append(total)
        fixed = (self.n, self.failures, self.degraded, self.latency_sum)
        return (*fixed, self.latency_min, self.latency_max, *cumulative)


class RollupBatch:
    """Aggregates of one write batch, keyed by (monitor key, hour)."""

    def __init__(self) -> None:
        self.groups: dict[tuple[int, int], Aggregate] = {}

    def add(self, monitor_key: int, result: CheckResult) -> None:
        """Fold one result into its hour."""
        key = (monitor_key, hour_of(result.time))
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Aggregate()
        group.add(result)

    def absorb(self, other: RollupBatch) -> None:
        """Fold another batch's aggregates into these; `other` must not be used afterwards."""
        groups = self.groups
        for key, agg in other.groups.items():
            mine = groups.get(key)
            if mine is None:
                groups[key] = agg
            else:
                mine.merge(agg)

    def rows(self) -> list[tuple[object, ...]]:
        """Return one upsert row per group: monitor, hour, then the aggregate columns."""
        return [(*key, *agg.row()) for key, agg in self.groups.items()]

    def clear(self) -> None:
        """Forget what was folded (after it has been written)."""
        self.groups.clear()
