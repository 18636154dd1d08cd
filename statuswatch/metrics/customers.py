"""Per-customer families: the running plan period's SLA figures, and whether the SLA is met now."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric

from statuswatch.config import Config
from statuswatch.metrics.exposition import LabelSet
from statuswatch.metrics.family import Families, put
from statuswatch.metrics.snapshot import SlaFigures
from statuswatch.monitor.events import State
from statuswatch.status.component import ComponentStatus

CUSTOMER = ("customer", "plan")

FAMILIES = Families(
    {
        "statuswatch_sla_target_ratio": (
            "gauge",
            "Availability target of the customer's plan.",
            CUSTOMER,
        ),
        "statuswatch_sla_availability_ratio": (
            "gauge",
            "Availability of the customer's covered components over the running plan "
            "period, time without evidence counted as the plan's unmonitored_policy says; "
            "absent when nothing was measurable.",
            CUSTOMER,
        ),
        "statuswatch_sla_coverage_ratio": (
            "gauge",
            "Share of the running plan period with evidence either way for every covered "
            "component.",
            CUSTOMER,
        ),
        "statuswatch_error_budget_remaining_seconds": (
            "gauge",
            "Unexcused downtime the target still allows in the running period "
            "(negative once overspent).",
            CUSTOMER,
        ),
        "statuswatch_sla_credit_ratio": (
            "gauge",
            "Credit owed for the running period so far, as a share of the fee.",
            CUSTOMER,
        ),
        "statuswatch_sla_credit_amount": (
            "gauge",
            "Credit owed for the running period so far, in the customer's currency.",
            (*CUSTOMER, "currency"),
        ),
        "statuswatch_sla_up": (
            "gauge",
            "1 unless a component the customer's plan covers is down outside maintenance "
            "now (the burn-rate alerts average it).",
            CUSTOMER,
        ),
        "statuswatch_sla_snapshot_timestamp_seconds": (
            "gauge",
            "When the availability, SLA and commitment figures were last computed.",
            (),
        ),
        "statuswatch_sla_snapshot_duration_seconds": (
            "gauge",
            "How long computing them took.",
            (),
        ),
    }
)


class CustomerFamilies:
    """Built from the last SLA figures, and (sla_up) the monitors' states now."""

    def __init__(self, config: Config) -> None:
        self._customers = [(c.id, c.components) for c in config.customers]
        self._monitor_components = [(m.id, m.component) for m in config.monitors]
        self._labels = {
            c.id: LabelSet({"customer": c.id, "plan": c.plan}) for c in config.customers
        }
        self._currency_labels = {
            c.id: LabelSet({"customer": c.id, "plan": c.plan, "currency": c.currency})
            for c in config.customers
        }

    def collect(
        self,
        figures: SlaFigures | None,
        states: dict[str, State],
        statuses: dict[str, ComponentStatus],
    ) -> Iterator[Metric]:
        """The figures, sla_up, then when the figures were computed."""
        target = FAMILIES.new("statuswatch_sla_target_ratio")
        avail = FAMILIES.new("statuswatch_sla_availability_ratio")
        coverage = FAMILIES.new("statuswatch_sla_coverage_ratio")
        budget = FAMILIES.new("statuswatch_error_budget_remaining_seconds")
        credit = FAMILIES.new("statuswatch_sla_credit_ratio")
        amount = FAMILIES.new("statuswatch_sla_credit_amount")
        if figures is not None:
            for cf in figures.customers:
                labels = self._labels.get(cf.customer)
                if labels is None:
                    continue
                put(target, labels, cf.target_ratio)
                if cf.availability_ratio is not None:
                    put(avail, labels, cf.availability_ratio)
                if cf.coverage_ratio is not None:
                    put(coverage, labels, cf.coverage_ratio)
                put(budget, labels, cf.budget_remaining_seconds)
                put(credit, labels, cf.credit_ratio)
                put(amount, self._currency_labels[cf.customer], cf.credit_amount)
        yield from (target, avail, coverage, budget, credit, amount)
        yield self._sla_up(states, statuses)
        if figures is not None:
            yield FAMILIES.gauge("statuswatch_sla_snapshot_timestamp_seconds", figures.computed_at)
            yield FAMILIES.gauge("statuswatch_sla_snapshot_duration_seconds", figures.seconds)

    def _sla_up(self, states: dict[str, State], statuses: dict[str, ComponentStatus]) -> Metric:
        """Live: a customer is down while any covered component has unexcused downtime."""
        down = {c for mid, c in self._monitor_components if states.get(mid) is State.DOWN}
        down -= {c for c in down if statuses.get(c) is ComponentStatus.MAINTENANCE}
        fam = FAMILIES.new("statuswatch_sla_up")
        for cid, components in self._customers:
            is_down = any(c in down for c in components)
            put(fam, self._labels[cid], 0 if is_down else 1)
        return fam
