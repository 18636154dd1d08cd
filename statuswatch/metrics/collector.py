"""The metric families, built at scrape time from the running state (a custom collector).

Nothing here runs on the probe path: per-result counts come from ResultTally, the SLA gauges
from the last SlaSnapshot, everything else from plain attributes. `collect` runs on the render
thread; dicts the event loop mutates are copied first (see tally.py).
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from statuswatch import __version__
from statuswatch.config import Config
from statuswatch.metrics.exposition import LabelSet, RenderedFamily, sample_lines
from statuswatch.metrics.snapshot import WINDOWS, SlaSnapshot
from statuswatch.metrics.tally import LATENCY_BUCKETS, LATENESS_BUCKETS, Buckets
from statuswatch.monitor.events import State
from statuswatch.monitor.monitoring import Monitoring
from statuswatch.notify.stats import CHANNELS, STATES, NotifyStats
from statuswatch.probes.base import CheckResult
from statuswatch.status.board import StatusBoard
from statuswatch.status.component import ComponentStatus
from statuswatch.store import StoreProtocol

MONITOR = ("monitor", "component", "kind")
CUSTOMER = ("customer", "plan")

# name -> (type, help, labels): every family /metrics exposes (the dashboard test checks
# against it). Counter names carry _total as exposed; histograms and summaries add their suffixes.
FAMILIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "statuswatch_build_info": (
        "gauge",
        "Always 1; the labels say which statuswatch is running.",
        ("version", "python_version"),
    ),
    "statuswatch_config_last_reload_success": (
        "gauge",
        "1 when the last configuration load succeeded (it is loaded once, at start).",
        (),
    ),
    "statuswatch_config_last_reload_success_timestamp_seconds": (
        "gauge",
        "When the configuration in use was loaded.",
        (),
    ),
    # Per monitor.
    "statuswatch_probe_success": (
        "gauge",
        "1 if the monitor's last check passed, 0 if it failed.",
        MONITOR,
    ),
    "statuswatch_probe_duration_seconds": (
        "gauge",
        "Latency of the monitor's last check.",
        MONITOR,
    ),
    "statuswatch_monitor_up": (
        "gauge",
        "Confirmed state: 1 up (degraded included), 0 down after confirm_failures "
        "failures; absent until the first check.",
        MONITOR,
    ),
    "statuswatch_monitor_degraded": (
        "gauge",
        "1 while the monitor is degraded: passing, but slow or near certificate expiry.",
        MONITOR,
    ),
    "statuswatch_probe_checks_total": (
        "counter",
        "Checks since statuswatch started, by result.",
        (*MONITOR, "result"),
    ),
    "statuswatch_probe_failures_total": (
        "counter",
        "Failed checks since statuswatch started, by error class.",
        (*MONITOR, "error_class"),
    ),
    "statuswatch_tls_cert_expiry_timestamp_seconds": (
        "gauge",
        "notAfter of the certificate the monitor last saw.",
        MONITOR,
    ),
    "statuswatch_http_status_code": (
        "gauge",
        "HTTP status code of the monitor's last check.",
        MONITOR,
    ),
    "statuswatch_probe_latency_seconds": (
        "histogram",
        "Check latency of the component's monitors since statuswatch started.",
        ("component",),
    ),
    # Per component.
    "statuswatch_component_status": (
        "gauge",
        "1 for the component's current public status, 0 for the other values.",
        ("component", "status"),
    ),
    "statuswatch_availability_ratio": (
        "gauge",
        "Component availability over the window (SLA.md; maintenance excused, "
        "unmonitored time excluded); absent when nothing was measurable.",
        ("component", "window"),
    ),
    "statuswatch_unmonitored_ratio": (
        "gauge",
        "Share of the window with no evidence either way.",
        ("component", "window"),
    ),
    # Per customer.
    "statuswatch_sla_target_ratio": (
        "gauge",
        "Availability target of the customer's plan.",
        CUSTOMER,
    ),
    "statuswatch_sla_availability_ratio": (
        "gauge",
        "Availability of the customer's covered components over the running plan "
        "period; absent when nothing was measurable.",
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
    "statuswatch_sla_snapshot_duration_seconds": ("gauge", "How long computing them took.", ()),
    # Operations.
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
    "statuswatch_db_write_seconds": ("summary", "Time taken by committed write transactions.", ()),
    "statuswatch_db_writable": ("gauge", "1 while the database accepts writes.", ()),
    "statuswatch_db_pending_writes": ("gauge", "Items submitted to the store, not committed.", ()),
    "statuswatch_notifications_pending": (
        "gauge",
        "Outbox messages waiting to be delivered (read every 15 s).",
        ("channel",),
    ),
    "statuswatch_notification_oldest_pending_age_seconds": (
        "gauge",
        "How long the oldest waiting message has waited (0 when none).",
        ("channel",),
    ),
    "statuswatch_notification_attempts_total": (
        "counter",
        "Delivery attempts since statuswatch started, by outcome.",
        ("channel", "outcome"),
    ),
    "statuswatch_subscribers": ("gauge", "Subscribers by channel and state.", ("channel", "state")),
    "statuswatch_incident_update_commitment_missed_total": (
        "counter",
        "Incident update commitments (first response, then every update_every) "
        "missed, over all incidents, by severity.",
        ("severity",),
    ),
}


def exposed_names() -> set[str]:
    """Every sample name /metrics can carry (histogram and summary suffixes included)."""
    names = set()
    for name, (kind, _help, _labels) in FAMILIES.items():
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif kind == "summary":
            names |= {f"{name}_sum", f"{name}_count"}
    return names


def family(name: str) -> Metric:
    """An empty family of the declared type."""
    kind, text, labels = FAMILIES[name]
    cls = {
        "gauge": GaugeMetricFamily,
        "counter": CounterMetricFamily,
        "histogram": HistogramMetricFamily,
    }[kind]
    return cls(name, text, labels=labels)


def _sample_name(fam: Metric) -> str:
    return fam.name + "_total" if fam.type == "counter" else fam.name


def _put(fam: Metric, labels: dict[str, str], value: float) -> None:
    # What add_metric does, minus building a label dict per sample: the collector's label sets
    # are built once (LabelSet: rendered once too) and shared by every scrape.
    fam.samples.append(Sample(_sample_name(fam), labels, float(value)))


def _gauge(name: str, value: float) -> Metric:
    fam = family(name)
    _put(fam, {}, value)
    return fam


@dataclass(frozen=True, slots=True)
class _MonitorLabels:
    id: str
    component: str
    base: LabelSet
    ok: LabelSet
    fail: LabelSet


class _HistogramLabels:
    """LabelSets of one histogram series: each bucket's, and the base for _sum and _count."""

    __slots__ = ("base", "buckets")

    def __init__(self, base: dict[str, str], bounds: tuple[float, ...]) -> None:
        self.base = LabelSet(base)
        self.buckets = [
            LabelSet({**base, "le": floatToGoString(b)}) for b in (*bounds, float("inf"))
        ]


def _histogram(fam: Metric, labels: _HistogramLabels, hist: Buckets) -> None:
    counts, total = list(hist.counts), hist.sum  # copy first: observe() may run meanwhile
    add, name = fam.samples.append, fam.name
    running = 0
    for bucket, count in zip(labels.buckets, counts, strict=True):
        running += count
        add(Sample(name + "_bucket", bucket, float(running)))
    add(Sample(name + "_count", labels.base, float(running)))
    add(Sample(name + "_sum", labels.base, total))


# The per-monitor families whose series _per_monitor keeps between scrapes, in _monitor_series'
# order (the failures by error class are few, and built per scrape).
PER_MONITOR = (
    "statuswatch_probe_success",
    "statuswatch_probe_duration_seconds",
    "statuswatch_monitor_up",
    "statuswatch_monitor_degraded",
    "statuswatch_probe_checks_total",
    "statuswatch_tls_cert_expiry_timestamp_seconds",
    "statuswatch_http_status_code",
)


def rendered_family(name: str) -> RenderedFamily:
    """An empty family of the declared type whose lines the collector renders itself."""
    kind, text, _labels = FAMILIES[name]
    # Counter families are named without _total, as prometheus_client's own are.
    return RenderedFamily(name.removesuffix("_total") if kind == "counter" else name, text, kind)


@dataclass(frozen=True, slots=True)
class _MonitorSeries:
    """One monitor's samples per PER_MONITOR family, their text, and what they were built from."""

    key: tuple[object, ...]  # (last result, state, passed, failed, certificate expiry)
    samples: tuple[tuple[Sample, ...], ...]
    lines: tuple[str, ...]


def _monitor_series(ml: _MonitorLabels, key: tuple[object, ...]) -> _MonitorSeries:
    result, state, passed, failed, expiry = key
    # The FAMILIES names are the sample names (the counter's carries its _total).
    success, duration, up, degraded, checks, cert, status = PER_MONITOR
    labels = ml.base
    own: list[tuple[Sample, ...]] = [()] * len(PER_MONITOR)
    if result is not None:
        assert isinstance(result, CheckResult)
        own[0] = (Sample(success, labels, 1.0 if result.ok else 0.0),)
        if result.latency is not None:
            own[1] = (Sample(duration, labels, result.latency),)
        if result.status_code is not None:
            own[6] = (Sample(status, labels, float(result.status_code)),)
    if state is not State.UNKNOWN:
        own[2] = (Sample(up, labels, 0.0 if state is State.DOWN else 1.0),)
        own[3] = (Sample(degraded, labels, 1.0 if state is State.DEGRADED else 0.0),)
    own[4] = (
        Sample(checks, ml.ok, float(passed)),  # type: ignore[arg-type]
        Sample(checks, ml.fail, float(failed)),
    )  # type: ignore[arg-type]
    if expiry is not None:
        own[5] = (Sample(cert, labels, float(expiry)),)  # type: ignore[arg-type]
    return _MonitorSeries(key, tuple(own), tuple(sample_lines(x) for x in own))


class StatuswatchCollector:
    """Register on the app's CollectorRegistry once the runtime objects exist."""

    def __init__(
        self,
        config: Config,
        *,
        monitoring: Monitoring,
        board: StatusBoard,
        store: StoreProtocol,
        snapshot: SlaSnapshot,
        lateness: Buckets | None = None,
        loaded_at: float,
        notify: NotifyStats | None = None,
    ) -> None:
        self.config = config
        self.monitoring = monitoring
        self.board = board
        self.store = store
        self.snapshot = snapshot
        self.lateness = lateness or Buckets(LATENESS_BUCKETS)
        self.loaded_at = loaded_at
        self.notify = notify
        self._monitors = []
        for m in config.monitors:
            base = {"monitor": m.id, "component": m.component, "kind": m.kind}
            self._monitors.append(
                _MonitorLabels(
                    m.id,
                    m.component,
                    LabelSet(base),
                    LabelSet({**base, "result": "ok"}),
                    LabelSet({**base, "result": "fail"}),
                )
            )
        self._by_id = {ml.id: ml for ml in self._monitors}
        self._series: dict[str, _MonitorSeries] = {}  # only the render thread touches it
        self._failure_labels: dict[tuple[str, str], LabelSet] = {}
        self._latency_labels = {
            c.id: _HistogramLabels({"component": c.id}, LATENCY_BUCKETS) for c in config.components
        }
        self._lateness_labels = _HistogramLabels({}, self.lateness.bounds)
        self._status_labels = {
            c.id: [(s, LabelSet({"component": c.id, "status": s.value})) for s in ComponentStatus]
            for c in config.components
        }
        self._window_labels = {
            (c.id, w): LabelSet({"component": c.id, "window": w})
            for c in config.components
            for w in WINDOWS
        }
        self._customer_labels = {
            c.id: LabelSet({"customer": c.id, "plan": c.plan}) for c in config.customers
        }
        self._currency_labels = {
            c.id: LabelSet({"customer": c.id, "plan": c.plan, "currency": c.currency})
            for c in config.customers
        }

    def collect(self) -> Iterator[Metric]:
        yield from self._process()
        yield from self._per_monitor()
        yield from self._per_component()
        yield from self._per_customer()
        yield from self._operations()

    def _process(self) -> Iterator[Metric]:
        info = family("statuswatch_build_info")
        _put(info, {"version": __version__, "python_version": platform.python_version()}, 1)
        yield info
        # The config is parsed once at start and a bad one stops statuswatch, so a running
        # statuswatch always has a good one; the names follow Prometheus's own.
        yield _gauge("statuswatch_config_last_reload_success", 1)
        yield _gauge("statuswatch_config_last_reload_success_timestamp_seconds", self.loaded_at)

    def _per_monitor(self) -> Iterator[Metric]:
        # The hottest loop of a scrape (10,000 monitors, 7 samples each). Each monitor's samples
        # and text are kept until its values change: at a 60 s interval and a scrape a second,
        # almost every monitor is unchanged since the last scrape, so reusing them skips most of
        # the work (bench/metrics.py measures it).
        mon = self.monitoring
        tally = mon.tally
        last = mon.last.copy()
        checks = tally.checks.copy()
        certs = tally.cert_expiry.copy()
        trackers = mon.trackers
        cache = self._series
        fams = [rendered_family(name) for name in PER_MONITOR]
        samples = [fam.samples for fam in fams]
        lines = [fam.lines for fam in fams]
        per_family = tuple(zip(samples, lines, strict=True))
        unknown = State.UNKNOWN
        for ml in self._monitors:
            tracker = trackers.get(ml.id)
            counts = checks.get(ml.id)
            key = (
                last.get(ml.id),
                tracker.state if tracker is not None else unknown,
                *(counts or (0, 0)),
                certs.get(ml.id),
            )
            series = cache.get(ml.id)
            if series is None or series.key != key:
                series = cache[ml.id] = _monitor_series(ml, key)
            for (fam_samples, fam_lines), own, text in zip(
                per_family, series.samples, series.lines, strict=True
            ):
                if own:
                    fam_samples.extend(own)
                    fam_lines.append(text)
        yield from fams[:5]  # success, duration, up, degraded, checks
        failures = family("statuswatch_probe_failures_total")
        for key, count in sorted(tally.failures.copy().items()):
            labels = self._failure_labels.get(key)
            if labels is None:
                ml = self._by_id.get(key[0])
                if ml is None:
                    continue
                labels = self._failure_labels[key] = LabelSet({**ml.base, "error_class": key[1]})
            _put(failures, labels, count)
        yield from (failures, *fams[5:])  # then cert expiry, status code
        latency = family("statuswatch_probe_latency_seconds")
        for component, hist in sorted(tally.latency.copy().items()):
            if component in self._latency_labels:
                _histogram(latency, self._latency_labels[component], hist)
        yield latency

    def _per_component(self) -> Iterator[Metric]:
        statuses = self.board.status.copy()
        fam = family("statuswatch_component_status")
        for cid, pairs in self._status_labels.items():
            current = statuses.get(cid, ComponentStatus.OPERATIONAL)
            for status, labels in pairs:
                _put(fam, labels, 1 if status is current else 0)
        yield fam
        figures = self.snapshot.current
        avail = family("statuswatch_availability_ratio")
        dark = family("statuswatch_unmonitored_ratio")
        if figures is not None:
            for cid, rows in figures.components.items():
                for row in rows:
                    labels = self._window_labels.get((cid, row.window))
                    if labels is None:
                        continue
                    if row.availability_ratio is not None:
                        _put(avail, labels, row.availability_ratio)
                    _put(dark, labels, row.unmonitored_ratio)
        yield avail
        yield dark

    def _per_customer(self) -> Iterator[Metric]:
        figures = self.snapshot.current
        target = family("statuswatch_sla_target_ratio")
        avail = family("statuswatch_sla_availability_ratio")
        budget = family("statuswatch_error_budget_remaining_seconds")
        credit = family("statuswatch_sla_credit_ratio")
        amount = family("statuswatch_sla_credit_amount")
        if figures is not None:
            for cf in figures.customers:
                labels = self._customer_labels.get(cf.customer)
                if labels is None:
                    continue
                _put(target, labels, cf.target_ratio)
                if cf.availability_ratio is not None:
                    _put(avail, labels, cf.availability_ratio)
                _put(budget, labels, cf.budget_remaining_seconds)
                _put(credit, labels, cf.credit_ratio)
                _put(amount, self._currency_labels[cf.customer], cf.credit_amount)
        yield from (target, avail, budget, credit, amount)
        yield self._sla_up()
        if figures is not None:
            yield _gauge("statuswatch_sla_snapshot_timestamp_seconds", figures.computed_at)
            yield _gauge("statuswatch_sla_snapshot_duration_seconds", figures.seconds)

    def _sla_up(self) -> Metric:
        """Live: a customer is down while any covered component has unexcused downtime."""
        trackers = self.monitoring.trackers
        statuses = self.board.status.copy()
        down = {
            ml.component
            for ml in self._monitors
            if (t := trackers.get(ml.id)) is not None and t.state is State.DOWN
        }
        down -= {c for c in down if statuses.get(c) is ComponentStatus.MAINTENANCE}
        fam = family("statuswatch_sla_up")
        for cust in self.config.customers:
            is_down = any(c in down for c in cust.components)
            _put(fam, self._customer_labels[cust.id], 0 if is_down else 1)
        return fam

    def _operations(self) -> Iterator[Metric]:
        lateness = family("statuswatch_scheduler_lateness_seconds")
        _histogram(lateness, self._lateness_labels, self.lateness)
        yield lateness
        sched = self.monitoring.scheduler
        stats = sched.stats if sched is not None else None
        yield _gauge("statuswatch_probes_in_flight", stats.in_flight if stats else 0)
        runs = family("statuswatch_probe_runs_total")
        _put(runs, {}, stats.runs if stats else 0)
        yield runs
        skipped = family("statuswatch_probe_runs_skipped_total")
        _put(skipped, {"reason": "late"}, stats.skipped_late if stats else 0)
        _put(skipped, {"reason": "in_flight"}, stats.skipped_in_flight if stats else 0)
        yield skipped
        db = self.store.write_stats()
        yield SummaryMetricFamily(
            "statuswatch_db_write_seconds",
            FAMILIES["statuswatch_db_write_seconds"][1],
            count_value=db["commits"],
            sum_value=db["commit_seconds"],
        )
        yield _gauge("statuswatch_db_writable", 1 if db["writable"] else 0)
        yield _gauge("statuswatch_db_pending_writes", db["pending"])
        yield from self._notifications()
        missed = family("statuswatch_incident_update_commitment_missed_total")
        figures = self.snapshot.current
        if figures is not None:
            for severity, count in sorted(figures.commitments_missed.items()):
                _put(missed, {"severity": severity}, count)
        yield missed

    def _notifications(self) -> Iterator[Metric]:
        # Always exposed, zeros when notifications are off: every channel and state has a
        # series, so "pending > 0" and rate() queries never see a series appear from nothing.
        stats = self.notify
        counts = stats.counts if stats is not None else None
        pending = family("statuswatch_notifications_pending")
        oldest = family("statuswatch_notification_oldest_pending_age_seconds")
        for channel in CHANNELS:
            labels = {"channel": channel}
            _put(pending, labels, counts.pending.get(channel, 0) if counts else 0)
            _put(oldest, labels, stats.oldest_pending_age(channel) if stats else 0)
        yield pending
        yield oldest
        attempts = family("statuswatch_notification_attempts_total")
        tried = stats.attempts.copy() if stats is not None else {}
        for (channel, outcome), count in sorted(tried.items()):
            _put(attempts, {"channel": channel, "outcome": outcome}, count)
        yield attempts
        subs = family("statuswatch_subscribers")
        known = counts.subscribers.copy() if counts else {}
        keys = sorted({(c, s) for c in CHANNELS for s in STATES} | set(known))
        for channel, state in keys:
            _put(subs, {"channel": channel, "state": state}, known.get((channel, state), 0))
        yield subs
