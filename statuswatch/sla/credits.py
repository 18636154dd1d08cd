"""Service credit schemes (SLA.md). Each is one small struct; the tagged union is the registry.

To add a scheme: define a Struct with `tag="name"` and a `percent(figures)` method, and add it to
`CreditScheme`. Config (`[[sla]] credit = {...}`) and `sla evaluate` both decode through it.
"""

from __future__ import annotations

import math
from fractions import Fraction

import msgspec

from statuswatch.sla.availability import Figures, exact_percent


class _Scheme(msgspec.Struct, forbid_unknown_fields=True, frozen=True, tag_field="scheme"):
    pass


class PerExcessHour(_Scheme, tag="per_excess_hour"):
    """`percent_per_hour` for each started hour of whole minutes of excess, up to a cap."""

    percent_per_hour: float
    cap_percent: float = 100

    def percent(self, figures: Figures) -> Fraction:
        if figures.met:
            return Fraction(0)
        # Floor the excess to whole minutes first, then count started hours: 1-60 minutes is
        # one step, 61-120 two ("5% for between 1 and 60 minutes of downtime in excess").
        whole_minutes = math.floor(figures.excess / 60)
        steps = math.ceil(whole_minutes / 60)
        return min(exact_percent(self.cap_percent), exact_percent(self.percent_per_hour) * steps)


class Tier(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    below: float
    percent: float


class Tiered(_Scheme, tag="tiered"):
    """The percent of the tier with the smallest `below` that availability is strictly under."""

    tiers: list[Tier]

    def percent(self, figures: Figures) -> Fraction:
        if figures.met or figures.availability is None:
            return Fraction(0)
        under = [t for t in self.tiers if figures.availability < exact_percent(t.below)]
        if not under:
            return Fraction(0)
        return exact_percent(min(under, key=lambda t: exact_percent(t.below)).percent)


class NoCredit(_Scheme, tag="none"):
    """Availability is reported against the target; no credit is owed."""

    def percent(self, figures: Figures) -> Fraction:
        return Fraction(0)


CreditScheme = PerExcessHour | Tiered | NoCredit


def credit_amount(fee: float | int | str | Fraction, percent: Fraction) -> Fraction:
    """fee x percent / 100, rounded half-up to cents (exactly: no binary float in between)."""
    fee_exact = fee if isinstance(fee, Fraction) else exact_percent(fee)
    raw = fee_exact * percent / 100
    cents = math.floor(raw * 100 + Fraction(1, 2))
    return Fraction(cents, 100)
