"""Credits and availability reports: load evidence from the store, evaluate with the engine.

Handlers and CLI commands call these and only format the result; every figure comes from
ServiceInputs.figures (availability.evaluate) and the plan's credit scheme (SLA.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from statuswatch.config import Config
from statuswatch.config.model import Customer, SlaPolicy
from statuswatch.sla import periods
from statuswatch.sla.availability import Figures
from statuswatch.sla.credits import credit_amount
from statuswatch.sla.evaluate import figures_json
from statuswatch.sla.evidence import Evidence, whole_span
from statuswatch.sla.intervals import Interval, intersect, measure, normalize
from statuswatch.sla.load import load_evidence, read_records
from statuswatch.store import Gap, Outage, StoreProtocol
from statuswatch.store.models import LOCAL

WINDOWS = (*periods.ROLLING_WINDOWS, "mtd", "ytd")


class ReportError(ValueError):
    """A report request that cannot be answered; the message names the parameter."""


@dataclass(frozen=True, slots=True)
class GapLine:
    """A stretch with no evidence (statuswatch stopped, or its own fault) and why."""

    start: int
    end: int
    reason: str


@dataclass(frozen=True, slots=True)
class OutageLine:
    """One outage behind a customer's figures."""

    monitor_id: str
    component: str
    start: int
    end: int
    excused_seconds: int
    error_class: str
    message: str
    # Gaps in monitoring that split this outage from the same monitor's outage before or
    # after it: one outage of the target, recorded as two because statuswatch had no evidence.
    split_by: tuple[GapLine, ...] = ()
    # Still open when the report was made: `end` is then only where the evidence stops (now).
    ongoing: bool = False
    # Where it was observed, and how much of it the component was regional (down from fewer
    # locations than the quorum): downtime only under a plan that counts regional time so.
    location: str = LOCAL
    regional_seconds: int = 0

    @property
    def seconds(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class CreditLine:
    """A customer's figures and credit for one period of their plan."""

    customer: Customer
    plan: SlaPolicy
    figures: Figures
    credit_percent: Fraction
    credit_amount: Fraction
    claim_deadline: int | None
    outages: list[OutageLine]
    # The period's regional time (some locations saw it down, fewer than the quorum), whichever
    # way the plan counts it.
    regional: list[Interval] = field(default_factory=list)

    @property
    def regional_seconds(self) -> int:
        return measure(self.regional)

    @property
    def regional_is_downtime(self) -> bool:
        return self.plan.regional_counts_as == "downtime"

    def claim_passed(self, now: int) -> bool:
        return self.claim_deadline is not None and now > self.claim_deadline

    def to_json(self, now: int) -> dict[str, Any]:
        """The SLA.md output object plus who, which plan and the outages behind it."""
        fig = self.figures
        out = {
            "customer": self.customer.id,
            "name": self.customer.name,
            "plan": self.plan.id,
            "unmonitored_policy": self.plan.unmonitored_policy,
            "period": fig.period.label,
            "currency": self.customer.currency,
            "fee": self.customer.fee,
            **figures_json(fig, self.plan.credit, self.customer.fee, self.plan.claim_window_days),
            "coverage_percent": None if fig.coverage is None else float(fig.coverage * 100),
            "budget_remaining_minutes": float(fig.budget_remaining / 60),
            "claim_deadline_passed": self.claim_passed(now),
            # Regional time whichever way the plan counts it, and which way that is: under
            # "downtime" it is already inside the downtime figures, under "available" not.
            "regional_minutes": self.regional_seconds / 60,
            "regional_counts_as": self.plan.regional_counts_as,
        }
        if self.claim_deadline is not None:  # a running period's deadline follows its real end
            out["claim_deadline"] = periods.iso_z(self.claim_deadline)
        out["outages"] = [outage_json(o) for o in self.outages]
        return out


def outage_json(o: OutageLine) -> dict[str, Any]:
    return {
        "monitor": o.monitor_id,
        "component": o.component,
        "start": periods.iso_z(o.start),
        "end": None if o.ongoing else periods.iso_z(o.end),
        "ongoing": o.ongoing,
        "duration_minutes": o.seconds / 60,  # so far, for an ongoing outage
        "excused_minutes": o.excused_seconds / 60,
        "excused": o.excused_seconds == o.seconds,
        "error_class": o.error_class,
        "message": o.message,
        "location": o.location,
        "regional_minutes": o.regional_seconds / 60,
        "split_by_gaps": [
            {"start": periods.iso_z(g.start), "end": periods.iso_z(g.end), "reason": g.reason}
            for g in o.split_by
        ],
    }


def parse_month(label: str) -> tuple[int, int]:
    """ "2026-10" -> (2026, 10), or a ReportError naming `period`."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", label or "")
    if not match or not 1 <= int(match[2]) <= 12:
        raise ReportError(f"period: must be YYYY-MM, got {label!r}")
    return int(match[1]), int(match[2])


def plan_period(plan: SlaPolicy, label: str, now: int) -> periods.Period:
    """The plan's period containing month `label`; a running period ends now."""
    year, month = parse_month(label)
    tz = ZoneInfo(plan.timezone)
    full = periods.month(year, month, tz) if plan.period == "month" else periods.year(year, tz)
    if full.start >= now:
        raise ReportError(f"period: {label} has not started yet")
    if full.end > now:
        return periods.Period(full.start, now, tz, full.label)
    return full


def window_period(window: str, now: int, tz: ZoneInfo) -> periods.Period:
    """A rolling window ending now, or month/year to date in `tz`."""
    if window in periods.ROLLING_WINDOWS:
        return periods.rolling(window, now)
    if window == "mtd":
        return periods.month_to_date(now, tz)
    if window == "ytd":
        return periods.year_to_date(now, tz)
    raise ReportError(f"window: must be one of {', '.join(WINDOWS)}, got {window!r}")


def credit_line(
    config: Config,
    evidence: Evidence,
    customer: Customer,
    period: periods.Period,
    gaps: list[Gap] = (),  # type: ignore[assignment]
) -> CreditLine:
    """Evaluate one customer's plan for one period; `gaps` explain outages split by them."""
    plan = next(p for p in config.sla if p.id == customer.plan)
    # The contract decides how time without evidence counts (the plan's unmonitored_policy).
    inputs = evidence.service(customer.components, regional_counts_as=plan.regional_counts_as)
    figures = inputs.figures(period, plan.target_percent, policy=plan.unmonitored_policy)
    percent = plan.credit.percent(figures)
    deadline = claim_deadline(plan, period)
    lines = _outage_lines(config, evidence, customer, period, split_outages(config, evidence, gaps))
    amount = credit_amount(customer.fee, percent)
    # Regional time apart from downtime (the default plan's view), to say what it was.
    regional = normalize(evidence.service(customer.components).regional, period.start, period.end)
    return CreditLine(customer, plan, figures, percent, amount, deadline, lines, regional)


def full_period(plan: SlaPolicy, period: periods.Period) -> periods.Period:
    """The whole calendar period a (possibly running, to-date) period of the plan belongs to."""
    tz = ZoneInfo(plan.timezone)
    if plan.period == "month":
        return periods.month(*parse_month(period.label), tz)
    return periods.year(int(period.label), tz)


def claim_deadline(plan: SlaPolicy, period: periods.Period) -> int | None:
    """The period's real end plus the claim window, also while the period is still running."""
    if plan.claim_window_days is None:
        return None
    return full_period(plan, period).add_days_local(plan.claim_window_days)


def split_outages(
    config: Config, evidence: Evidence, gaps: list[Gap]
) -> dict[tuple[str, float], tuple[GapLine, ...]]:
    """{(monitor, outage start): gaps} for outages a gap split in two.

    An outage that a gap closed (it ended where the gap began) continues when the same monitor
    is down again within two intervals of the gap's end: the first check after a restart.
    """
    interval = {m.id: float(m.interval) for m in config.monitors}
    by_monitor: dict[str, list[Outage]] = {}
    for o in sorted(evidence.outages, key=lambda o: o.start):
        by_monitor.setdefault(o.monitor_id, []).append(o)
    gap_at = {(g.monitor_id, math.floor(g.start)): g for g in gaps}
    out: dict[tuple[str, float], tuple[GapLine, ...]] = {}
    for monitor, outages in by_monitor.items():
        for before, after in pairwise(outages):
            end = None if before.end is None else math.floor(before.end)
            gap = gap_at.get((monitor, end)) if end is not None else None
            slack = 2 * interval.get(monitor, 60.0)
            if gap is None or not gap.end <= after.start <= gap.end + slack:
                continue
            line = GapLine(math.floor(gap.start), math.ceil(gap.end), gap.reason)
            for o in (before, after):
                key = (monitor, o.start)
                out[key] = (*out.get(key, ()), line)
    return out


def _outage_lines(
    config: Config,
    evidence: Evidence,
    customer: Customer,
    period: periods.Period,
    split: dict[tuple[str, float], tuple[GapLine, ...]],
) -> list[OutageLine]:
    component_of = {m.id: m.component for m in config.monitors}
    lines = []
    for o in evidence.outages:
        comp = component_of.get(o.monitor_id)
        if comp not in customer.components:
            continue
        span = normalize([whole_span(o.start, o.end, evidence.now)], period.start, period.end)
        if not span:
            continue
        excused = measure(intersect(span, evidence.component(comp).maintenance))
        regional = measure(intersect(span, evidence.component(comp).regional))
        lines.append(
            OutageLine(
                o.monitor_id,
                comp,
                span[0][0],
                span[0][1],
                excused,
                o.error_class,
                o.message,
                split.get((o.monitor_id, o.start), ()),
                o.end is None and span[0][1] == evidence.now,
                o.location,
                regional,
            )
        )
    return sorted(lines, key=lambda line: (line.start, line.monitor_id))


async def credits_report(
    store: StoreProtocol, config: Config, label: str, now: int, customer_id: str | None = None
) -> list[CreditLine]:
    """Each customer's (or one customer's) credit line for the plan period containing `label`."""
    parse_month(label)  # a bad period is an error even when there is no customer to report on
    customers = config.customers
    if customer_id is not None:
        customers = [c for c in customers if c.id == customer_id]
        if not customers:
            raise ReportError(f"customer: unknown customer {customer_id!r}")
    plans = {p.id: p for p in config.sla}
    spans = {c.id: plan_period(plans[c.plan], label, now) for c in customers}
    if not spans:
        return []
    lo = min(p.start for p in spans.values())
    hi = max(p.end for p in spans.values())
    records = await read_records(store, lo, hi)
    evidence = records.evidence(config, now)
    return [credit_line(config, evidence, c, spans[c.id], records.gaps) for c in customers]


def totals_by_currency(lines: list[CreditLine]) -> dict[str, Fraction]:
    """Credit owed per currency."""
    totals: dict[str, Fraction] = {}
    for line in lines:
        cur = line.customer.currency
        totals[cur] = totals.get(cur, Fraction(0)) + line.credit_amount
    return dict(sorted(totals.items()))


async def component_availability(
    store: StoreProtocol, config: Config, component_id: str, window: str, now: int
) -> dict[str, Any]:
    """Public figures of one component over a window: no fees, no customers."""
    if component_id not in {c.id for c in config.components}:
        raise ReportError(f"component: unknown component {component_id!r}")
    period = window_period(window, now, config.site.tz)
    evidence = await load_evidence(store, config, period.start, period.end, now)
    fig = evidence.component(component_id).figures(period, 100, policy="excluded")
    return {
        "component": component_id,
        "window": window,
        "period_start": periods.iso_z(period.start),
        "period_end": periods.iso_z(period.end),
        "availability_percent": None if fig.availability is None else float(fig.availability),
        "coverage_percent": None if fig.coverage is None else float(fig.coverage * 100),
        "unexcused_downtime_minutes": fig.unexcused / 60,
        "excused_downtime_minutes": fig.excused / 60,
        "unmonitored_minutes": fig.unmonitored / 60,
        "eligible_minutes": fig.eligible / 60,
    }


def recent_periods(plan: SlaPolicy, now: int, count: int = 12) -> list[periods.Period]:
    """The plan's last `count` periods, newest (running, to date) first."""
    tz = ZoneInfo(plan.timezone)
    local = datetime.fromtimestamp(now, tz)
    out = []
    for back in range(count if plan.period == "month" else 2):
        if plan.period == "month":
            index = local.year * 12 + local.month - 1 - back
            full = periods.month(index // 12, index % 12 + 1, tz)
        else:
            full = periods.year(local.year - back, tz)
        end = min(full.end, now)
        out.append(periods.Period(full.start, end, tz, full.label))
    return out


async def customer_history(
    store: StoreProtocol, config: Config, customer: Customer, now: int
) -> list[CreditLine]:
    """A customer's credit lines for their plan's recent periods (12 months, or 2 years)."""
    plan = next(p for p in config.sla if p.id == customer.plan)
    spans = recent_periods(plan, now)
    records = await read_records(store, spans[-1].start, spans[0].end)
    evidence = records.evidence(config, now)
    return [credit_line(config, evidence, customer, p, records.gaps) for p in spans]
