"""Figures beside promises: rolling windows, targets with their error budgets, plans' credits.

Every figure is ServiceTimeline.figures (SLA.md's formula) over a period; this module only picks
the periods and shapes the rows. Durations are shown by sla.display's one rule (floored,
seconds under a minute), percentages truncated. The windows
and the targets table are measured availability, shown with their coverage (site.measured);
the plans' credits count unobserved time as their plan says.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from zoneinfo import ZoneInfo

from statuswatch.config.model import SlaPolicy
from statuswatch.site.measured import SPANS, Measured, measured
from statuswatch.sla import periods
from statuswatch.sla.availability import Figures
from statuswatch.sla.display import budget_text, duration_text, truncate_percent, whole_minutes
from statuswatch.sla.evidence import ServiceTimeline
from statuswatch.sla.report import claim_deadline, recent_periods, window_period

WINDOWS = ("24h", "7d", "30d", "90d")
TARGET_WINDOWS = (("30d", "Rolling 30 days"), ("mtd", "Month to date"))


def percent_text(fig: Figures) -> str:
    """Availability as shown: truncated (SLA.md), "n/a" when nothing was measurable."""
    return truncate_percent(fig.availability)


@dataclass(frozen=True, slots=True)
class WindowFigure:
    window: str
    measured: Measured
    downtime_minutes: int

    @property
    def availability(self) -> str:
        return self.measured.availability


def window_figures(timeline: ServiceTimeline, now: int) -> list[WindowFigure]:
    """Measured availability over 24 h, 7 d, 30 d and 90 d, ending now."""
    out = []
    for window in WINDOWS:
        fig = timeline.figures(periods.rolling(window, now), policy="excluded")
        shown = measured(fig, SPANS[window])
        out.append(WindowFigure(window, shown, whole_minutes(fig.unexcused)))
    return out


@dataclass(frozen=True, slots=True)
class TargetCell:
    target: str  # as configured, "99.9"
    met: bool
    budget_seconds: Fraction  # the error budget of the window, exact
    used_seconds: int  # unexcused downtime

    @property
    def budget(self) -> str:
        """ "budget 43 min · used 41 s · 42 min left": all three from the exact seconds."""
        return budget_text(self.budget_seconds, self.used_seconds)


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One service (the platform or a component) over one window, against every target."""

    window: str
    window_label: str
    measured: Measured
    cells: list[TargetCell]

    @property
    def availability(self) -> str:
        return self.measured.availability


def target_rows(
    timeline: ServiceTimeline, now: int, tz: ZoneInfo, targets: list[float]
) -> list[TargetRow]:
    """Rolling 30 days and month to date (in the site's timezone) against each target."""
    rows = []
    for window, label in TARGET_WINDOWS:
        period = window_period(window, now, tz)
        cells = []
        for target in targets:
            fig = timeline.figures(period, target, policy="excluded")
            cells.append(
                TargetCell(
                    f"{target:g}",
                    fig.met,
                    fig.allowed,
                    fig.unexcused,
                )
            )
        shown = measured(timeline.figures(period, policy="excluded"), SPANS[window])
        rows.append(TargetRow(window, label, shown, cells))
    return rows


@dataclass(frozen=True, slots=True)
class PlanCredit:
    """A plan's public figures for one of its periods: no fee, no customer."""

    period: str
    running: bool
    availability: str
    downtime: str  # unexcused, as sla.display shows every duration
    met: bool
    credit_percent: str
    claim_deadline: int | None  # UTC seconds; None without a claim window


def plan_credits(plan: SlaPolicy, timeline: ServiceTimeline, now: int) -> list[PlanCredit]:
    """The running period (to date) and the one before it, under the plan's own scheme."""
    out = []
    for period in recent_periods(plan, now, count=2):
        fig = timeline.figures(period, plan.target_percent, policy=plan.unmonitored_policy)
        deadline = claim_deadline(plan, period)
        out.append(
            PlanCredit(
                period.label,
                period.end == now,
                percent_text(fig),
                duration_text(fig.unexcused),
                fig.met,
                f"{float(plan.credit.percent(fig)):g}",
                deadline,
            )
        )
    return out


def plan_periods_start(plans: list[SlaPolicy], now: int) -> int:
    """The earliest instant any plan's previous period starts (how far back evidence must go)."""
    return min((recent_periods(p, now, count=2)[-1].start for p in plans), default=now)
