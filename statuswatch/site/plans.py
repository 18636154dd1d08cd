"""A plan's public credits: the platform components all its customers share, and its scheme in
words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from statuswatch.config import Config
from statuswatch.config.model import SlaPolicy
from statuswatch.site.stamps import Stamp, stamp
from statuswatch.site.targets import PlanCredit, plan_credits
from statuswatch.sla.credits import PerExcessHour, Tiered
from statuswatch.sla.evidence import ServiceTimeline


@dataclass(frozen=True, slots=True)
class PlanView:
    id: str
    name: str
    target: str
    period: str  # "month" or "year"
    timezone: str
    scheme: str
    components: list[str]
    rows: list[PlanCredit]
    deadlines: list[Stamp | None]


def plan_components(config: Config, plan: SlaPolicy) -> list[str]:
    """The components every customer on the plan has, in config order ([]: no customer, or
    none shared); the public page shows a plan's credits over these only."""
    covered = [set(c.components) for c in config.customers if c.plan == plan.id]
    if not covered:
        return []
    shared = set.intersection(*covered)
    return [c.id for c in config.components if c.id in shared]


def plan_view(
    plan: SlaPolicy, names: Sequence[str], timeline: ServiceTimeline, now: int, tz: ZoneInfo
) -> PlanView:
    """The plan's running and previous periods over `timeline` (its shared components, `names`)."""
    rows = plan_credits(plan, timeline, now)
    return PlanView(
        plan.id,
        plan.name,
        f"{plan.target_percent:g}",
        plan.period,
        plan.timezone,
        scheme_text(plan),
        list(names),
        rows,
        [None if r.claim_deadline is None else stamp(r.claim_deadline, tz) for r in rows],
    )


def scheme_text(plan: SlaPolicy) -> str:
    """The credit scheme in words, from its own fields."""
    credit = plan.credit
    if isinstance(credit, PerExcessHour):
        return (
            f"{credit.percent_per_hour:g}% per started hour beyond the error budget, "
            f"at most {credit.cap_percent:g}%"
        )
    if isinstance(credit, Tiered):
        tiers = sorted(credit.tiers, key=lambda t: -t.below)
        return ", ".join(f"below {t.below:g}%: {t.percent:g}%" for t in tiers)
    return "reported against the target; no credit"
