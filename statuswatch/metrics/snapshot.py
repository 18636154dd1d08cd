"""The SLA gauges: every component's availability windows, every customer's running period and
the incidents' missed update commitments, recomputed every `metrics.sla_refresh` (housekeeping)
and read by the collector from the last snapshot, never computed per scrape.

The evidence comes by the path every figure takes (sla.load): its store reads run on the store's
reader thread; building the evidence and the figures runs on this module's own thread, so
neither the event loop nor a scrape waits for it (a year of history for 10,000 components takes
about 2 s; see bench/metrics.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from statuswatch.clock import Clock
from statuswatch.config import Config
from statuswatch.incidents.model import Incident
from statuswatch.incidents.severity import commitments, severities_of
from statuswatch.sla import periods
from statuswatch.sla.credits import credit_amount
from statuswatch.sla.evidence import ServiceTimeline
from statuswatch.sla.load import EvidenceRecords, read_records
from statuswatch.sla.report import recent_periods
from statuswatch.store import StoreProtocol

log = logging.getLogger(__name__)

# The `window` label -> the rolling window of periods.py (None: month to date in site.timezone).
WINDOWS: dict[str, str | None] = {
    "1d": "24h",
    "7d": "7d",
    "30d": "30d",
    "90d": "90d",
    "365d": "365d",
    "mtd": None,
}
YEAR = 365 * 86400


@dataclass(frozen=True, slots=True)
class ComponentWindow:
    window: str
    availability_ratio: float | None  # None when nothing in the window was measurable
    unmonitored_ratio: float
    coverage_ratio: float  # the share with evidence either way (1 - unmonitored_ratio)


@dataclass(frozen=True, slots=True)
class CustomerFigures:
    """A customer's running plan period (SLA.md figures, as floats for the exposition)."""

    customer: str
    plan: str
    currency: str
    period: str
    target_ratio: float
    availability_ratio: float | None  # under the plan's unmonitored_policy
    coverage_ratio: float | None  # None only for an empty period
    budget_remaining_seconds: float
    credit_ratio: float
    credit_amount: float


@dataclass(frozen=True, slots=True)
class SlaFigures:
    computed_at: float  # wall-clock time the figures are for
    seconds: float  # how long computing them took
    components: dict[str, list[ComponentWindow]]
    customers: list[CustomerFigures]
    commitments_missed: dict[str, int]  # severity id -> missed update commitments, all incidents


def compute_figures(
    config: Config, records: EvidenceRecords, *, incidents: Iterable[Incident], now: int
) -> SlaFigures:
    """Every SLA gauge from the records the store holds since `evidence_start` (pure)."""
    started = time.perf_counter()
    plans = {p.id: p for p in config.sla}
    running = running_periods(config, now)
    evidence = records.evidence(config, now)
    tz = config.site.tz
    windows = [
        (label, periods.rolling(name, now) if name else periods.month_to_date(now, tz))
        for label, name in WINDOWS.items()
    ]
    components = {}
    for comp in config.components:
        timeline = ServiceTimeline(evidence.component(comp.id))
        rows = []
        for label, period in windows:
            fig = timeline.figures(period, policy="excluded")
            ratio = None if fig.availability is None else float(fig.availability / 100)
            dark = fig.unmonitored / period.seconds if period.seconds else 0.0
            covered = 0.0 if fig.coverage is None else float(fig.coverage)
            rows.append(ComponentWindow(label, ratio, dark, covered))
        components[comp.id] = rows
    customers = []
    for cust in config.customers:
        plan, period = plans[cust.plan], running[cust.id]
        inputs = evidence.service(cust.components, regional_counts_as=plan.regional_counts_as)
        # The contract's figures: time without evidence counts as the plan's policy says.
        fig = inputs.figures(period, plan.target_percent, policy=plan.unmonitored_policy)
        percent = plan.credit.percent(fig)
        customers.append(
            CustomerFigures(
                customer=cust.id,
                plan=plan.id,
                currency=cust.currency,
                period=period.label,
                target_ratio=float(fig.target / 100),
                availability_ratio=None
                if fig.availability is None
                else float(fig.availability / 100),
                coverage_ratio=None if fig.coverage is None else float(fig.coverage),
                budget_remaining_seconds=float(fig.budget_remaining),
                credit_ratio=float(percent / 100),
                credit_amount=float(credit_amount(cust.fee, percent)),
            )
        )
    return SlaFigures(
        computed_at=float(now),
        seconds=time.perf_counter() - started,
        components=components,
        customers=customers,
        commitments_missed=missed_commitments(config, incidents, now),
    )


def running_periods(config: Config, now: int) -> dict[str, periods.Period]:
    """Each customer's running plan period (month or year to date), by customer id."""
    plans = {p.id: p for p in config.sla}
    return {c.id: recent_periods(plans[c.plan], now, 1)[0] for c in config.customers}


def evidence_start(config: Config, now: int) -> int:
    """The earliest time any gauge looks at: a year back, or a yearly plan's period start."""
    return min([now - YEAR, *(p.start for p in running_periods(config, now).values())])


def missed_commitments(config: Config, incidents: Iterable[Incident], now: float) -> dict[str, int]:
    """Update commitments missed so far, per severity (every configured severity, 0 included)."""
    severities = severities_of(config.severities)
    missed = dict.fromkeys(severities, 0)
    for incident in incidents:
        severity = severities.get(incident.severity) if incident.severity else None
        if severity is None:
            continue
        missed[severity.id] += sum(
            1 for c in commitments(incident, severity, now) if c.kept is False
        )
    return missed


class SlaSnapshot:
    """Holds the last SlaFigures; `refresh` (a housekeeping job) replaces them."""

    def __init__(self, config: Config, store: StoreProtocol, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.current: SlaFigures | None = None
        self.failures = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="statuswatch-sla")
        self._task: asyncio.Task | None = None
        self._closed = False

    async def refresh(self) -> SlaFigures | None:
        """Recompute every figure from what is stored now; on failure keep the last figures
        (and log why). Callers at the same time share one computation, but never one that
        began before their call (it could miss what they wrote)."""
        running = self._task
        if running is not None:
            await self._wait(running)
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._refresh_once(), name="metrics-sla-refresh")
        if self._task is not None:
            await self._wait(self._task)
        return self.current

    async def _wait(self, task: asyncio.Task) -> None:
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not (self._closed and task.cancelled()):
                raise  # our caller was cancelled, not the refresh being closed down

    async def _refresh_once(self) -> None:
        try:
            self.current = await self._compute()
        except Exception:
            self.failures += 1
            log.exception("metrics: SLA figures could not be recomputed; keeping the last ones")
        finally:
            self._task = None

    async def _compute(self) -> SlaFigures:
        now = int(self.clock.time())
        records = await read_records(self.store, evidence_start(self.config, now), now)
        incidents = await self.store.incidents()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor,
            lambda: compute_figures(self.config, records, incidents=incidents, now=now),
        )

    async def close(self) -> None:
        """Stop: cancel a refresh in progress (a computation already running finishes alone)."""
        self._closed = True
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._executor.shutdown(wait=False, cancel_futures=True)
