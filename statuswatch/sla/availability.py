"""The availability engine (SLA.md): intervals in, exact figures out. Pure; one implementation.

Every figure is kept as an exact integer (seconds) or Fraction; floats appear only at the edges.
The target percentage is taken as the decimal number it is written as (99.9 means 999/1000),
so an error budget of 0.1 % of 44,640 minutes is exactly 44.64 minutes, not 44.639999999995.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from statuswatch.sla.intervals import Interval, intersect, measure, normalize, subtract
from statuswatch.sla.periods import Period

# How a plan counts time without evidence (SLA.md "Figures"): as available (the seeds' formula,
# only recorded downtime is downtime), out of the denominator (measured availability), or as
# downtime (excused where it falls inside maintenance).
UnmonitoredPolicy = Literal["available", "excluded", "downtime"]
UNMONITORED_POLICIES: tuple[UnmonitoredPolicy, ...] = ("available", "excluded", "downtime")


@functools.lru_cache(maxsize=1024)  # few distinct targets; parsing a decimal string is slow
def exact_percent(value: float | int | str) -> Fraction:
    """A percentage as written (99.9 -> 999/10), not as its binary float approximation."""
    return Fraction(str(value))


@functools.lru_cache(maxsize=1024)
def _budget_share(target: Fraction) -> Fraction:
    """The share of eligible time the target allows to be down: 99.9 -> 1/1000."""
    return (100 - target) / 100


@dataclass(frozen=True, slots=True)
class Figures:
    """What one service achieved in one period, exactly."""

    period: Period
    unmonitored: int  # seconds with no evidence, downtime excluded (downtime wins)
    excused: int  # downtime inside maintenance (under policy downtime, unmonitored time too)
    unexcused: int  # downtime outside maintenance (likewise)
    eligible: int  # period - excused (- unmonitored under policy excluded)
    target: Fraction  # percent
    availability: Fraction | None  # percent; None when nothing was measurable
    allowed: Fraction  # seconds of unexcused downtime the target allows (the error budget)

    @property
    def met(self) -> bool:
        return self.availability is None or self.availability >= self.target

    @property
    def excess(self) -> Fraction:
        """Seconds of unexcused downtime beyond the error budget."""
        return max(Fraction(0), self.unexcused - self.allowed)

    @property
    def budget_remaining(self) -> Fraction:
        """Seconds of error budget left (negative once it is overspent)."""
        return self.allowed - self.unexcused

    @property
    def coverage(self) -> Fraction | None:
        """Share of the period with evidence either way (0..1)."""
        if self.period.seconds == 0:
            return None
        return Fraction(self.period.seconds - self.unmonitored, self.period.seconds)


def evaluate(
    period: Period,
    target_percent: float | int | str | Fraction,
    *,
    downtime: list[Interval],
    maintenance: list[Interval] = (),  # type: ignore[assignment]
    unmonitored: list[Interval] = (),  # type: ignore[assignment]
    policy: UnmonitoredPolicy = "available",
) -> Figures:
    """Compute the SLA.md figures for one service and one period from raw interval lists."""
    lo, hi = period.start, period.end
    down = normalize(downtime, lo, hi)
    maint = normalize(maintenance, lo, hi)
    gaps = subtract(normalize(unmonitored, lo, hi), down)  # downtime wins over "no evidence"
    excused = measure(intersect(down, maint))
    return from_measures(
        period,
        target_percent,
        unexcused=measure(down) - excused,
        excused=excused,
        unmonitored=measure(gaps),
        unmonitored_in_maintenance=measure(intersect(gaps, maint)),
        policy=policy,
    )


def from_measures(
    period: Period,
    target_percent: float | int | str | Fraction,
    *,
    unexcused: int,
    excused: int,
    unmonitored: int,
    unmonitored_in_maintenance: int = 0,
    policy: UnmonitoredPolicy = "available",
) -> Figures:
    """The SLA.md formula from already measured seconds (unmonitored without downtime)."""
    if policy == "downtime":
        # D' = D ∪ G: time without evidence is downtime, excused inside maintenance.
        excused += unmonitored_in_maintenance
        unexcused += unmonitored - unmonitored_in_maintenance
    eligible = period.seconds - excused - (unmonitored if policy == "excluded" else 0)
    target = (
        target_percent if isinstance(target_percent, Fraction) else exact_percent(target_percent)
    )
    availability = None if eligible == 0 else Fraction(100 * (eligible - unexcused), eligible)
    allowed = _budget_share(target) * eligible
    return Figures(period, unmonitored, excused, unexcused, eligible, target, availability, allowed)
