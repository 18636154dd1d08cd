"""Per-monitor families: the last check, the confirmed state, counts since start, latency."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import Metric
from prometheus_client.samples import Sample

from statuswatch.config import Config
from statuswatch.metrics.exposition import LabelSet, sample_lines
from statuswatch.metrics.family import Families, HistogramLabels, put, put_histogram
from statuswatch.monitor.events import State
from statuswatch.monitor.monitoring import MonitoringSnapshot
from statuswatch.monitor.tally import LATENCY_BUCKETS
from statuswatch.probes.base import CheckResult
from statuswatch.probes.phases import PHASES

MONITOR = ("monitor", "component", "kind")

FAMILIES = Families(
    {
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
        "statuswatch_probe_phase_duration_seconds": (
            "gauge",
            "Duration of each phase (resolve, connect, tls, processing, transfer) of the http "
            "monitor's last check, summed over redirects; only the phases it finished.",
            (*MONITOR, "phase"),
        ),
        "statuswatch_probe_latency_seconds": (
            "histogram",
            "Check latency of the component's monitors since statuswatch started.",
            ("component",),
        ),
    }
)

# The families whose series MonitorFamilies keeps between scrapes, in _series' order (the
# failures by error class are few, and built per scrape).
CACHED = (
    "statuswatch_probe_success",
    "statuswatch_probe_duration_seconds",
    "statuswatch_monitor_up",
    "statuswatch_monitor_degraded",
    "statuswatch_probe_checks_total",
    "statuswatch_tls_cert_expiry_timestamp_seconds",
    "statuswatch_http_status_code",
    "statuswatch_probe_phase_duration_seconds",
)


@dataclass(frozen=True, slots=True)
class _MonitorLabels:
    id: str
    base: LabelSet
    ok: LabelSet
    fail: LabelSet
    phases: dict[str, LabelSet]  # by phase; empty when not shown (not http, or switched off)


@dataclass(frozen=True, slots=True)
class _Series:
    """One monitor's samples per CACHED family, their text, and what they were built from."""

    key: tuple[object, ...]  # (last result, state, passed, failed, certificate expiry)
    samples: tuple[tuple[Sample, ...], ...]
    lines: tuple[str, ...]


def _series(ml: _MonitorLabels, key: tuple[object, ...]) -> _Series:
    result, state, passed, failed, expiry = key
    # The FAMILIES names are the sample names (the counter's carries its _total).
    success, duration, up, degraded, checks, cert, status, phase = CACHED
    labels = ml.base
    own: list[tuple[Sample, ...]] = [()] * len(CACHED)
    if result is not None:
        assert isinstance(result, CheckResult)
        own[0] = (Sample(success, labels, 1.0 if result.ok else 0.0),)
        if result.latency is not None:
            own[1] = (Sample(duration, labels, result.latency),)
        if result.status_code is not None:
            own[6] = (Sample(status, labels, float(result.status_code)),)
        if ml.phases and result.phases is not None:
            own[7] = tuple(Sample(phase, ml.phases[p], sec) for p, sec in result.phases)
    if state is not State.UNKNOWN:
        own[2] = (Sample(up, labels, 0.0 if state is State.DOWN else 1.0),)
        own[3] = (Sample(degraded, labels, 1.0 if state is State.DEGRADED else 0.0),)
    own[4] = (
        Sample(checks, ml.ok, float(passed)),  # type: ignore[arg-type]
        Sample(checks, ml.fail, float(failed)),
    )  # type: ignore[arg-type]
    if expiry is not None:
        own[5] = (Sample(cert, labels, float(expiry)),)  # type: ignore[arg-type]
    return _Series(key, tuple(own), tuple(sample_lines(x) for x in own))


class MonitorFamilies:
    """The per-monitor families, from a MonitoringSnapshot (collect runs on the render thread)."""

    def __init__(self, config: Config) -> None:
        self._monitors = []
        self._phases = config.metrics.probe_phases
        for m in config.monitors:
            base = {"monitor": m.id, "component": m.component, "kind": m.kind}
            timed = self._phases and m.kind == "http"
            self._monitors.append(
                _MonitorLabels(
                    m.id,
                    LabelSet(base),
                    LabelSet({**base, "result": "ok"}),
                    LabelSet({**base, "result": "fail"}),
                    {p: LabelSet({**base, "phase": p}) for p in PHASES} if timed else {},
                )
            )
        self._by_id = {ml.id: ml for ml in self._monitors}
        self._series: dict[str, _Series] = {}  # only the render thread touches it
        self._failure_labels: dict[tuple[str, str], LabelSet] = {}
        self._latency_labels = {
            c.id: HistogramLabels({"component": c.id}, LATENCY_BUCKETS) for c in config.components
        }

    def collect(self, snap: MonitoringSnapshot) -> Iterator[Metric]:
        """Every per-monitor family, then the latency histograms by component."""
        # The hottest loop of a scrape (10,000 monitors, 7 samples each). Each monitor's samples
        # and text are kept until its values change: at a 60 s interval and a scrape a second,
        # almost every monitor is unchanged since the last scrape, so reusing them skips most of
        # the work (bench/metrics.py measures it).
        tally = snap.tally
        last, states, checks, certs = snap.last, snap.states, tally.checks, tally.cert_expiry
        cache = self._series
        fams = [FAMILIES.rendered(name) for name in CACHED]
        samples = [fam.samples for fam in fams]
        lines = [fam.lines for fam in fams]
        per_family = tuple(zip(samples, lines, strict=True))
        unknown = State.UNKNOWN
        for ml in self._monitors:
            mid = ml.id
            counts = checks.get(mid)
            key = (
                last.get(mid),
                states.get(mid, unknown),
                *(counts or (0, 0)),
                certs.get(mid),
            )
            series = cache.get(mid)
            if series is None or series.key != key:
                series = cache[mid] = _series(ml, key)
            for (fam_samples, fam_lines), own, text in zip(
                per_family, series.samples, series.lines, strict=True
            ):
                if own:
                    fam_samples.extend(own)
                    fam_lines.append(text)
        yield from fams[:5]  # success, duration, up, degraded, checks
        failures = FAMILIES.new("statuswatch_probe_failures_total")
        for key, count in sorted(tally.failures.items()):
            labels = self._failure_labels.get(key)
            if labels is None:
                ml = self._by_id.get(key[0])
                if ml is None:
                    continue
                labels = self._failure_labels[key] = LabelSet({**ml.base, "error_class": key[1]})
            put(failures, labels, count)
        yield from (failures, *fams[5:7])  # then cert expiry, status code
        if self._phases:  # metrics.probe_phases: the family is left out whole, not empty
            yield fams[7]
        latency = FAMILIES.new("statuswatch_probe_latency_seconds")
        for component, hist in sorted(tally.latency.items()):
            if component in self._latency_labels:
                put_histogram(latency, self._latency_labels[component], hist)
        yield latency
