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
from statuswatch.store.models import LOCAL

MONITOR = ("monitor", "component", "kind")
# The probe families are per location (where the check ran: "local" or an agent's location);
# the confirmed state (monitor_up, monitor_degraded) is the monitor's verdict over all its
# locations (the quorum rule), so it has no location label.
PROBE = (*MONITOR, "location")

FAMILIES = Families(
    {
        "statuswatch_probe_success": (
            "gauge",
            "1 if the monitor's last check from the location passed, 0 if it failed.",
            PROBE,
        ),
        "statuswatch_probe_duration_seconds": (
            "gauge",
            "Latency of the monitor's last check from the location.",
            PROBE,
        ),
        "statuswatch_monitor_up": (
            "gauge",
            "Confirmed state over all the monitor's locations: 1 up (degraded and regional "
            "included), 0 down after confirm_failures failures from a quorum; absent until the "
            "first check.",
            MONITOR,
        ),
        "statuswatch_monitor_degraded": (
            "gauge",
            "1 while the monitor is degraded: passing, but slow or near certificate expiry.",
            MONITOR,
        ),
        "statuswatch_probe_checks_total": (
            "counter",
            "Checks since statuswatch started, by location and result.",
            (*PROBE, "result"),
        ),
        "statuswatch_probe_failures_total": (
            "counter",
            "Failed checks since statuswatch started, by location and error class.",
            (*PROBE, "error_class"),
        ),
        "statuswatch_tls_cert_expiry_timestamp_seconds": (
            "gauge",
            "notAfter of the certificate the monitor last saw from the location.",
            PROBE,
        ),
        "statuswatch_http_status_code": (
            "gauge",
            "HTTP status code of the monitor's last check from the location.",
            PROBE,
        ),
        "statuswatch_probe_phase_duration_seconds": (
            "gauge",
            "Duration of each phase (resolve, connect, tls, processing, transfer) of the http "
            "monitor's last check, summed over redirects; only the phases it finished.",
            (*PROBE, "phase"),
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
class _Where:
    """One location of a monitor: the label sets of its probe series."""

    location: str
    base: LabelSet
    ok: LabelSet
    fail: LabelSet
    phases: dict[str, LabelSet]  # by phase; empty when not shown (not http, or switched off)


@dataclass(frozen=True, slots=True)
class _MonitorLabels:
    id: str
    verdict: LabelSet  # monitor, component, kind: the confirmed state's labels
    where: tuple[_Where, ...]  # in the monitor's configured order of locations
    local_only: bool  # probed from "local" alone: its last result is Monitoring's (restarts)


@dataclass(frozen=True, slots=True)
class _Series:
    """One monitor's samples per CACHED family, their text, and what they were built from."""

    # (state, then per location: last result, passed, failed, certificate expiry)
    key: tuple[object, ...]
    samples: tuple[tuple[Sample, ...], ...]
    lines: tuple[str, ...]


def _series(ml: _MonitorLabels, key: tuple[object, ...]) -> _Series:
    state = key[0]
    # The FAMILIES names are the sample names (the counter's carries its _total).
    success, duration, up, degraded, checks, cert, status, phase = CACHED
    own: list[list[Sample]] = [[] for _ in CACHED]
    for i, where in enumerate(ml.where):
        result, passed, failed, expiry = key[1 + 4 * i : 5 + 4 * i]
        labels = where.base
        if result is not None:
            assert isinstance(result, CheckResult)
            own[0].append(Sample(success, labels, 1.0 if result.ok else 0.0))
            if result.latency is not None:
                own[1].append(Sample(duration, labels, result.latency))
            if result.status_code is not None:
                own[6].append(Sample(status, labels, float(result.status_code)))
            if where.phases and result.phases is not None:
                own[7].extend(Sample(phase, where.phases[p], sec) for p, sec in result.phases)
        own[4].append(Sample(checks, where.ok, float(passed)))  # type: ignore[arg-type]
        own[4].append(Sample(checks, where.fail, float(failed)))  # type: ignore[arg-type]
        if expiry is not None:
            own[5].append(Sample(cert, labels, float(expiry)))  # type: ignore[arg-type]
    if state is not State.UNKNOWN:
        own[2].append(Sample(up, ml.verdict, 0.0 if state is State.DOWN else 1.0))
        own[3].append(Sample(degraded, ml.verdict, 1.0 if state is State.DEGRADED else 0.0))
    samples = tuple(tuple(x) for x in own)
    return _Series(key, samples, tuple(sample_lines(x) for x in samples))


class MonitorFamilies:
    """The per-monitor families, from a MonitoringSnapshot (collect runs on the render thread)."""

    def __init__(self, config: Config) -> None:
        self._monitors = []
        self._phases = config.metrics.probe_phases
        for m in config.monitors:
            verdict = {"monitor": m.id, "component": m.component, "kind": m.kind}
            timed = self._phases and m.kind == "http"
            where = []
            for loc in m.locations or [LOCAL]:
                base = {**verdict, "location": loc}
                where.append(
                    _Where(
                        loc,
                        LabelSet(base),
                        LabelSet({**base, "result": "ok"}),
                        LabelSet({**base, "result": "fail"}),
                        {p: LabelSet({**base, "phase": p}) for p in PHASES} if timed else {},
                    )
                )
            local_only = [w.location for w in where] == [LOCAL]
            self._monitors.append(_MonitorLabels(m.id, LabelSet(verdict), tuple(where), local_only))
        self._where = {(ml.id, w.location): w for ml in self._monitors for w in ml.where}
        self._series: dict[str, _Series] = {}  # only the render thread touches it
        self._failure_labels: dict[tuple[str, str, str], LabelSet] = {}
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
        by_location = tally.last
        cache = self._series
        fams = [FAMILIES.rendered(name) for name in CACHED]
        samples = [fam.samples for fam in fams]
        lines = [fam.lines for fam in fams]
        per_family = tuple(zip(samples, lines, strict=True))
        unknown = State.UNKNOWN
        for ml in self._monitors:
            mid = ml.id
            key: list[object] = [states.get(mid, unknown)]
            for where in ml.where:
                at = (mid, where.location)
                # A local-only monitor's last result survives a restart (read from the store).
                result = last.get(mid) if ml.local_only else by_location.get(at)
                key += (result, *(checks.get(at) or (0, 0)), certs.get(at))
            frozen = tuple(key)
            series = cache.get(mid)
            if series is None or series.key != frozen:
                series = cache[mid] = _series(ml, frozen)
            for (fam_samples, fam_lines), own, text in zip(
                per_family, series.samples, series.lines, strict=True
            ):
                if own:
                    fam_samples.extend(own)
                    fam_lines.append(text)
        yield from fams[:5]  # success, duration, up, degraded, checks
        failures = FAMILIES.new("statuswatch_probe_failures_total")
        for fkey, count in sorted(tally.failures.items()):
            labels = self._failure_labels.get(fkey)
            if labels is None:
                where = self._where.get(fkey[:2])
                if where is None:
                    continue
                labels = LabelSet({**where.base, "error_class": fkey[2]})
                self._failure_labels[fkey] = labels
            put(failures, labels, count)
        yield from (failures, *fams[5:7])  # then cert expiry, status code
        if self._phases:  # metrics.probe_phases: the family is left out whole, not empty
            yield fams[7]
        latency = FAMILIES.new("statuswatch_probe_latency_seconds")
        for component, hist in sorted(tally.latency.items()):
            if component in self._latency_labels:
                put_histogram(latency, self._latency_labels[component], hist)
        yield latency
