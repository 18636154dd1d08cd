"""/metrics: values from a running statuswatch, promtool's verdict, auth, the SLA snapshot and
the renderer (which must say exactly what prometheus_client.generate_latest says)."""

from __future__ import annotations

import asyncio
import gzip
import subprocess
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    SummaryMetricFamily,
)
from prometheus_client.parser import text_string_to_metric_families

from statuswatch.clock import FakeClock
from statuswatch.config import ConfigError
from statuswatch.incidents.model import Impact, Incident, IncidentStatus
from statuswatch.metrics.collector import FAMILIES, exposed_names
from statuswatch.metrics.exposition import CONTENT_TYPE, LabelSet, render
from statuswatch.metrics.snapshot import compute_figures, evidence_start
from statuswatch.monitor.tally import Buckets, ResultTally
from statuswatch.probes.base import CheckResult
from statuswatch.sla.availability import UNMONITORED_POLICIES
from statuswatch.sla.load import EvidenceRecords
from statuswatch.store import SaveIncident
from statuswatch.store.models import MonitorRecord, Outage
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD, METRICS_REGISTRY, MONITORING, SLA_SNAPSHOT, STORE
from statuswatch.web.render_cache import accepts_gzip
from tests.helpers.config import make_config
from tests.helpers.net import free_port
from tests.helpers.system import require_tool

NOW = 1_794_009_600.0  # 2026-11-07T00:00:00Z
DAY = 86400
PLAN = {
    "id": "premium",
    "name": "Premium",
    "target_percent": 99.9,
    "credit": {"scheme": "per_excess_hour", "percent_per_hour": 5, "cap_percent": 50},
    # Measured availability, so three minutes of evidence drive the figures below (the
    # default, "available", would count the rest of the month as up).
    "unmonitored_policy": "excluded",
}
CUSTOMER = {
    "id": "acme",
    "name": "Acme",
    "plan": "premium",
    "fee": 1000,
    "currency": "EUR",
    "components": ["api", "checkout"],
}


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """{(sample name, labels): value} of an exposition."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def value(samples: dict, name: str, **labels: str) -> float | None:
    """The value of the one sample whose labels include `labels`, None when there is none."""
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} samples"
    return found[0] if found else None


def promtool_check(text: str) -> None:
    promtool = require_tool("promtool")
    out = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert (out.returncode, out.stdout + out.stderr) == (0, "")


async def until(predicate, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


# --- a live statuswatch against local targets ------------------------------------------------


async def test_scrape_of_a_running_statuswatch_follows_a_target_going_down(
    aiohttp_server, aiohttp_client, tmp_path
):
    async def ok(_request):
        return web.Response(text="ok")

    target_app = web.Application()
    target_app.router.add_get("/health", ok)
    target = await aiohttp_server(target_app)
    fast = {"interval": "150ms", "timeout": "100ms", "confirm_failures": 2}
    config = make_config(
        tmp_path,
        [
            {
                "id": "api-health",
                "kind": "http",
                "component": "api",
                "url": str(target.make_url("/health")),
                **fast,
            },
            {
                "id": "checkout-tcp",
                "kind": "tcp",
                "component": "checkout",
                "host": "127.0.0.1",
                "port": target.port,
                **fast,
            },
        ],
        sla=[PLAN],
        customers=[CUSTOMER],
        site={"title": "Test", "cache_ttl": "0s"},
    )  # fresh scrapes: this test follows state
    client = await aiohttp_client(create_app(config, environ={}))
    monitoring = client.app[MONITORING]
    await until(lambda: all(s.value == "up" for s in monitoring.states().values()))

    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.headers["Content-Type"] == CONTENT_TYPE
    up = parse(await resp.text())
    for mon in ("api-health", "checkout-tcp"):
        assert value(up, "statuswatch_monitor_up", monitor=mon) == 1
        assert value(up, "statuswatch_probe_success", monitor=mon) == 1
        assert value(up, "statuswatch_probe_checks_total", monitor=mon, result="ok") >= 1
    assert value(up, "statuswatch_http_status_code", monitor="api-health") == 200
    assert 0 < value(up, "statuswatch_probe_duration_seconds", monitor="api-health") < 0.1
    assert (
        value(up, "statuswatch_monitor_up", monitor="api-health", component="api", kind="http") == 1
    )
    assert value(up, "statuswatch_component_status", component="api", status="operational") == 1
    assert value(up, "statuswatch_sla_up", customer="acme", plan="premium") == 1
    assert value(up, "statuswatch_probe_runs_total") >= 2
    assert value(up, "statuswatch_scheduler_lateness_seconds_count") >= 2

    await target.close()  # the target goes away: connections are refused
    await until(lambda: all(s.value == "down" for s in monitoring.states().values()))
    resp = await client.get("/metrics")
    text = await resp.text()
    down = parse(text)
    for mon in ("api-health", "checkout-tcp"):
        assert value(down, "statuswatch_monitor_up", monitor=mon) == 0
        assert value(down, "statuswatch_probe_success", monitor=mon) == 0
        failed = value(down, "statuswatch_probe_checks_total", monitor=mon, result="fail")
        assert failed >= 2  # the confirmations
        # While the target shuts down its socket still accepts: a probe connecting then gets
        # no answer and times out, before the refusals. Every failure is counted by its class.
        by_class = {
            cls: value(down, "statuswatch_probe_failures_total", monitor=mon, error_class=cls) or 0
            for cls in ("connect", "timeout")
        }
        assert by_class["connect"] >= 2 and sum(by_class.values()) == failed, by_class
    assert value(down, "statuswatch_component_status", component="api", status="major_outage") == 1
    assert value(down, "statuswatch_sla_up", customer="acme", plan="premium") == 0
    promtool_check(text)


# --- everything populated, driven by hand ----------------------------------------------------

TOKEN = "metrics-token-0123456789abcdef"


PHASES = (("resolve", 0.001), ("connect", 0.002), ("tls", 0.0), ("processing", 0.06))


def full_config(tmp_path: Path, **metrics):
    return make_config(
        tmp_path,
        [
            {"id": "api-health", "kind": "http", "component": "api", "url": "http://api.test/"},
            {"id": "api-tls", "kind": "tls", "component": "api", "host": "api.test"},
            {"id": "pay", "kind": "tcp", "component": "checkout", "host": "pay.test", "port": 443},
        ],
        sla=[PLAN],
        customers=[CUSTOMER],
        metrics=metrics,
    )


async def feed(app: web.Application, clock: FakeClock) -> None:
    monitoring = app[MONITORING]
    mons = monitoring.monitors
    for _ in range(3):
        clock.advance(60)
        now = clock.time()
        monitoring.handle_result(
            mons["api-health"],
            CheckResult("api-health", now, True, 0.07, 200, phases=PHASES),
        )
        monitoring.handle_result(
            mons["api-tls"],
            CheckResult("api-tls", now, True, 0.02, degraded=True, cert_expiry=NOW + 5 * DAY),
        )
        monitoring.handle_result(
            mons["pay"], CheckResult("pay", now, False, None, None, "timeout", "timed out")
        )
    # An S1 incident nobody answered: its first-response commitment (20 min) is missed.
    app[STORE].submit(
        SaveIncident.of(
            Incident(
                "inc1",
                "Checkout down",
                Impact.MAJOR,
                IncidentStatus.INVESTIGATING,
                created=clock.time() - 3600,
                updated=clock.time() - 3600,
                severity="S1",
            )
        )
    )
    await app[STORE].flush()
    await app[SLA_SNAPSHOT].refresh()


async def test_every_family_with_values_passes_promtool(aiohttp_client, tmp_path):
    clock = FakeClock(NOW)
    app = create_app(full_config(tmp_path), clock=clock, probe=False, environ={})
    client = await aiohttp_client(app)
    await feed(app, clock)
    text = await (await client.get("/metrics")).text()
    got = parse(text)
    assert value(got, "statuswatch_monitor_up", monitor="api-tls") == 1  # degraded is up
    assert value(got, "statuswatch_monitor_degraded", monitor="api-tls") == 1
    assert value(got, "statuswatch_monitor_degraded", monitor="api-health") == 0
    assert (
        value(got, "statuswatch_tls_cert_expiry_timestamp_seconds", monitor="api-tls")
        == NOW + 5 * DAY
    )
    assert value(got, "statuswatch_monitor_up", monitor="pay") == 0
    assert value(got, "statuswatch_probe_failures_total", monitor="pay", error_class="timeout") == 3
    assert value(got, "statuswatch_probe_duration_seconds", monitor="pay") is None
    assert value(got, "statuswatch_probe_latency_seconds_bucket", component="api", le="0.05") == 3
    assert value(got, "statuswatch_probe_latency_seconds_bucket", component="api", le="0.1") == 6
    assert value(got, "statuswatch_probe_latency_seconds_count", component="api") == 6
    assert (
        value(got, "statuswatch_component_status", component="checkout", status="major_outage") == 1
    )
    assert (
        value(got, "statuswatch_component_status", component="api", status="degraded_performance")
        == 1
    )
    assert value(got, "statuswatch_sla_target_ratio", customer="acme", plan="premium") == 0.999
    # Registered at NOW, checkout down since the first failing check (NOW+60) until now
    # (NOW+180): 2 of 3 minutes down, over budget by 2 whole minutes: one hour's 5 % of 1000.
    assert value(got, "statuswatch_sla_availability_ratio", customer="acme") == pytest.approx(1 / 3)
    assert value(got, "statuswatch_sla_credit_ratio", customer="acme") == 0.05
    assert value(got, "statuswatch_sla_credit_amount", customer="acme", currency="EUR") == 50
    # ...and those 3 minutes are all the evidence of November so far: coverage says so.
    month_so_far = 6 * DAY + 180
    assert value(got, "statuswatch_sla_coverage_ratio", customer="acme") == pytest.approx(
        180 / month_so_far
    )
    assert value(got, "statuswatch_coverage_ratio", component="api", window="1d") == 180 / DAY
    assert value(got, "statuswatch_unmonitored_ratio", component="api", window="1d") == (
        1 - 180 / DAY
    )
    assert value(got, "statuswatch_incident_update_commitment_missed_total", severity="S1") == 1
    assert value(got, "statuswatch_incident_update_commitment_missed_total", severity="S2") == 0
    assert value(got, "statuswatch_availability_ratio", component="api", window="1d") == 1
    assert value(got, "statuswatch_notifications_pending", channel="email") == 0
    assert value(got, "statuswatch_notification_oldest_pending_age_seconds", channel="webhook") == 0
    assert value(got, "statuswatch_config_last_reload_success") == 1
    assert value(got, "statuswatch_db_write_seconds_count") >= 1
    assert value(got, "statuswatch_build_info", version="0.1.0") == 1
    phase = "statuswatch_probe_phase_duration_seconds"
    assert value(got, phase, monitor="api-health", kind="http", phase="processing") == 0.06
    assert value(got, phase, monitor="api-health", phase="tls") == 0
    assert value(got, phase, monitor="api-health", phase="transfer") is None  # not finished
    assert value(got, phase, monitor="api-tls") is None  # not an http monitor
    promtool_check(text)
    # Every declared family is exposed (with HELP and TYPE), and nothing undeclared is.
    typed = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    assert typed - {n for n in typed if n.startswith("process_")} == set(FAMILIES)
    # Notifications off: every series is there, at zero (tests/test_notify_metrics.py has them on).
    assert (
        value(got, "statuswatch_notification_attempts_total", channel="email", outcome="retry") == 0
    )
    assert value(got, "statuswatch_subscribers", channel="webhook", state="confirmed") == 0
    # The fast renderer says exactly what prometheus_client's own does.
    registry = app[METRICS_REGISTRY]
    ours = list(text_string_to_metric_families(render(registry).decode()))
    theirs = list(text_string_to_metric_families(generate_latest(registry).decode()))
    ours_by_name = {f.name: f for f in ours if not f.name.startswith("process_")}
    theirs_by_name = {f.name: f for f in theirs if not f.name.startswith("process_")}
    assert ours_by_name == theirs_by_name


async def test_probe_phases_can_be_left_out(aiohttp_client, tmp_path):
    clock = FakeClock(NOW)
    config = full_config(tmp_path, probe_phases=False)
    app = create_app(config, clock=clock, probe=False, environ={})
    client = await aiohttp_client(app)
    await feed(app, clock)
    text = await (await client.get("/metrics")).text()
    assert "statuswatch_probe_phase_duration_seconds" not in text  # no series, no HELP or TYPE
    assert value(parse(text), "statuswatch_probe_duration_seconds", monitor="api-health") == 0.07
    promtool_check(text)


async def test_a_monitor_rendered_again_only_when_its_values_change(aiohttp_client, tmp_path):
    clock = FakeClock(NOW)
    app = create_app(full_config(tmp_path), clock=clock, probe=False, environ={})
    await aiohttp_client(app)
    await feed(app, clock)
    registry = app[METRICS_REGISTRY]
    (collector,) = [c for c in registry._collector_to_names if hasattr(c, "_monitors")]
    series = collector._monitors._series  # each monitor's samples, kept between scrapes
    before = parse(render(registry).decode())
    kept = dict(series)
    monitoring = app[MONITORING]
    clock.advance(60)
    monitoring.handle_result(
        monitoring.monitors["pay"], CheckResult("pay", clock.time(), True, 0.03, None)
    )
    after = parse(render(registry).decode())
    # The monitor that was probed is rendered anew; the others' series are reused as they were.
    assert series["pay"] is not kept["pay"]
    assert all(series[m] is kept[m] for m in ("api-health", "api-tls"))
    assert value(before, "statuswatch_probe_success", monitor="pay") == 0
    assert value(after, "statuswatch_probe_success", monitor="pay") == 1
    assert value(after, "statuswatch_probe_duration_seconds", monitor="pay") == 0.03
    assert value(after, "statuswatch_probe_checks_total", monitor="pay", result="ok") == 1
    assert value(after, "statuswatch_probe_checks_total", monitor="pay", result="fail") == 3
    unchanged = {k: v for k, v in before.items() if ("monitor", "pay") not in k[1]}
    assert {k: after[k] for k in unchanged if k[0].startswith("statuswatch_probe_")} == {
        k: v for k, v in unchanged.items() if k[0].startswith("statuswatch_probe_")
    }
    # And it still says exactly what prometheus_client's own exposition says.
    ours = {f.name: f for f in text_string_to_metric_families(render(registry).decode())}
    theirs = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    assert {n: f for n, f in ours.items() if n.startswith("statuswatch_probe")} == {
        n: f for n, f in theirs.items() if n.startswith("statuswatch_probe")
    }


async def test_bearer_token_and_a_separate_listener(aiohttp_client, tmp_path):
    port = free_port()
    config = full_config(tmp_path, listen=f"127.0.0.1:{port}", token_env="TEST_METRICS_TOKEN")
    client = await aiohttp_client(
        create_app(config, probe=False, environ={"TEST_METRICS_TOKEN": TOKEN})
    )
    assert (await client.get("/metrics")).status == 404  # not on the public site
    url = f"http://127.0.0.1:{port}/metrics"
    async with ClientSession() as session:
        for header in (None, "Bearer wrong", TOKEN, f"Basic {TOKEN}"):
            async with session.get(url, headers={"Authorization": header} if header else {}) as r:
                assert r.status == 401
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
        async with session.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as r:
            assert r.status == 200
            assert "statuswatch_monitor_up" in await r.text()
    await client.close()
    with pytest.raises(OSError):  # the listener stopped with the app
        async with ClientSession() as session, session.get(url):
            pass


async def test_scrapers_asking_for_gzip_get_the_same_exposition_gzipped(aiohttp_client, tmp_path):
    clock = FakeClock(NOW)
    app = create_app(full_config(tmp_path), clock=clock, probe=False, environ={})
    client = await aiohttp_client(app)
    await feed(app, clock)
    url = client.make_url("/metrics")
    async with ClientSession(auto_decompress=False) as session:
        async with session.get(url, headers={"Accept-Encoding": "gzip"}) as r:
            assert r.status == 200
            assert r.headers["Content-Encoding"] == "gzip"
            assert r.headers["Vary"] == "Accept-Encoding"
            zipped = await r.read()
        async with session.get(url, headers={"Accept-Encoding": "identity"}) as r:
            assert "Content-Encoding" not in r.headers
            plain = await r.read()
    assert len(zipped) < len(plain) / 4

    def ours(body: bytes) -> list[str]:  # process_* (CPU, memory) moves between the renders
        return [ln for ln in body.decode().splitlines() if "process_" not in ln]

    assert ours(gzip.decompress(zipped)) == ours(plain)
    samples = parse(plain.decode())
    assert value(samples, "statuswatch_probe_success", monitor="pay") == 0.0
    assert (
        value(samples, "statuswatch_probe_checks_total", monitor="api-health", result="ok") == 3.0
    )


@pytest.mark.parametrize(
    ("header", "gzipped"),
    [
        ("gzip", True),
        ("deflate, GZIP;q=0.5", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0", False),
        ("gzip;q=nonsense", False),
        ("identity", False),
        ("", False),
        ("br, deflate", False),
    ],
)
def test_accept_encoding_negotiation(header, gzipped):
    assert accepts_gzip(header) is gzipped


async def test_token_env_set_but_empty_refuses_everyone(aiohttp_client, tmp_path):
    config = full_config(tmp_path, token_env="TEST_METRICS_TOKEN")
    client = await aiohttp_client(create_app(config, probe=False, environ={}))
    for header in ("Bearer ", "Bearer None", f"Bearer {TOKEN}"):
        assert (await client.get("/metrics", headers={"Authorization": header})).status == 401


async def test_metrics_can_be_switched_off(aiohttp_client, tmp_path):
    client = await aiohttp_client(
        create_app(full_config(tmp_path, enabled=False), probe=False, environ={})
    )
    assert (await client.get("/metrics")).status == 404
    assert SLA_SNAPSHOT not in client.app
    assert client.app[BOARD] is not None


def test_metrics_config_is_checked(tmp_path):
    with pytest.raises(ConfigError, match=r"metrics\.listen: must be host:port"):
        full_config(tmp_path, listen="nowhere")
    with pytest.raises(ConfigError, match=r"metrics\.listen: must differ from site\.listen"):
        full_config(tmp_path, listen="127.0.0.1:8080")
    with pytest.raises(ConfigError, match=r"metrics\.sla_refresh: must be greater than 0"):
        full_config(tmp_path, sla_refresh="0s")


# --- the SLA snapshot (pure) -----------------------------------------------------------------


def test_sla_figures_for_windows_customers_and_commitments(tmp_path):
    config = full_config(tmp_path)
    monitors = [MonitorRecord(m.id, m.kind, m.component, NOW - 400 * DAY) for m in config.monitors]
    outage = Outage("pay", NOW - 2 * DAY, NOW - 2 * DAY + 3600, "timeout", "timed out", "recovered")
    answered = Incident(
        "a", "t", Impact.MINOR, IncidentStatus.RESOLVED, NOW - DAY, NOW - DAY, severity="S2"
    )
    answered.resolved_at = NOW - DAY + 60
    ignored = Incident(
        "b", "t", Impact.MAJOR, IncidentStatus.INVESTIGATING, NOW - 7200, NOW - 7200, severity="S1"
    )
    records = EvidenceRecords(
        evidence_start(config, int(NOW)),
        int(NOW),
        monitors=monitors,
        outages=[outage],
        gaps=[],
        maintenance=[],
    )
    figures = compute_figures(config, records, incidents=[answered, ignored], now=int(NOW))
    checkout = {w.window: w for w in figures.components["checkout"]}
    assert checkout["1d"].availability_ratio == 1
    assert checkout["7d"].availability_ratio == pytest.approx(1 - 3600 / (7 * DAY))
    assert checkout["mtd"].availability_ratio == pytest.approx(1 - 3600 / (6 * DAY))
    assert checkout["365d"].unmonitored_ratio == 0
    (acme,) = figures.customers
    # November to date: 6 days; 0.1 % of it is 518.4 s allowed; 3600 s down.
    assert acme.period == "2026-11"
    assert acme.availability_ratio == pytest.approx(1 - 3600 / (6 * DAY))
    assert acme.budget_remaining_seconds == pytest.approx(518.4 - 3600)
    # 51 whole minutes of excess: one started hour at 5 %.
    assert (acme.credit_ratio, acme.credit_amount, acme.currency) == (0.05, 50.0, "EUR")
    assert figures.commitments_missed == {"S1": 1, "S2": 0, "S3": 0, "S4": 0}


@pytest.mark.parametrize("policy", UNMONITORED_POLICIES)
def test_customer_gauges_count_unmonitored_time_as_the_plan_says(tmp_path, policy):
    """Monitoring began 2 days ago, 1 h down since: the plan's policy decides the figures."""
    config = make_config(
        tmp_path,
        [{"id": "pay", "kind": "tcp", "component": "checkout", "host": "pay.test", "port": 443}],
        sla=[{**PLAN, "unmonitored_policy": policy}],
        customers=[{**CUSTOMER, "components": ["checkout"]}],
    )
    first_seen = NOW - 2 * DAY
    records = EvidenceRecords(
        evidence_start(config, int(NOW)),
        int(NOW),
        monitors=[MonitorRecord("pay", "tcp", "checkout", first_seen)],
        outages=[Outage("pay", NOW - DAY, NOW - DAY + 3600, "timeout", "timed out", "recovered")],
        gaps=[],
        maintenance=[],
    )
    figures = compute_figures(config, records, incidents=[], now=int(NOW))
    (acme,) = figures.customers
    month, dark = 6 * DAY, 4 * DAY  # November to date; before the monitor existed
    expected = {
        "available": 1 - 3600 / month,
        "excluded": 1 - 3600 / (month - dark),
        "downtime": 1 - (3600 + dark) / month,
    }[policy]
    assert acme.availability_ratio == pytest.approx(expected)
    assert acme.coverage_ratio == pytest.approx(2 / 6)
    # The public windows stay measured availability whatever the plans say.
    checkout = {w.window: w for w in figures.components["checkout"]}
    assert checkout["mtd"].availability_ratio == pytest.approx(1 - 3600 / (2 * DAY))
    assert checkout["mtd"].coverage_ratio == pytest.approx(2 / 6)


# --- hot-path counts and the renderer --------------------------------------------------------


def test_tally_and_buckets():
    tally = ResultTally()
    tally.add("api", CheckResult("m", 0, True, 0.01, 200))
    tally.add("api", CheckResult("m", 1, False, 0.5, 503, "http_status"))
    tally.add("api", CheckResult("m", 2, False, None, None, None))
    tally.add("api", CheckResult("m", 3, True, 0.02, cert_expiry=99.0))
    tally.add("api", CheckResult("m", 4, False, None, None, "timeout"), "eu")
    assert tally.checks == {("m", "local"): [2, 2], ("m", "eu"): [0, 1]}
    assert tally.failures == {
        ("m", "local", "http_status"): 1,
        ("m", "local", "unknown"): 1,
        ("m", "eu", "timeout"): 1,
    }
    assert tally.cert_expiry == {("m", "local"): 99.0}
    assert tally.last[("m", "eu")].time == 4 and tally.last[("m", "local")].time == 3
    hist = Buckets((0.01, 0.1))
    for v in (0.01, 0.05, 0.1, 7):  # a bound belongs to its own bucket (le)
        hist.observe(v)
    assert hist.counts == [1, 2, 1] and hist.sum == pytest.approx(7.16)


class _Odd:
    """Families of every kind, with labels that need escaping."""

    def collect(self):
        g = GaugeMetricFamily("odd_gauge", "help with \\ and\nnewline", labels=["a", "b"])
        g.add_metric(['quote " back \\ nl \n', "ü"], 1.5)
        g.add_metric(["x", "y"], float("inf"))
        g.add_metric(["x", "z"], float("-inf"))
        g.add_metric(["x", "n"], 1e21)
        g.samples.append(g.samples[0]._replace(labels=LabelSet({"a": 'q"', "b": "1"}), value=3))
        yield g
        c = CounterMetricFamily("odd_events", "counter", labels=["k"], created=None)
        c.add_metric(["v"], 7, created=1_700_000_000.5)
        yield c
        h = HistogramMetricFamily("odd_seconds", "histogram", labels=["k"])
        h.add_metric(["v"], [("0.1", 1), ("1.0", 3), ("+Inf", 4)], 2.5)
        yield h
        yield SummaryMetricFamily("odd_write_seconds", "summary", count_value=3, sum_value=0.25)
        i = InfoMetricFamily("odd_build", "info")
        i.add_metric([], {"version": "1"})
        yield i
        yield GaugeMetricFamily("odd_empty", "no samples", labels=["x"])
        yield GaugeMetricFamily("odd_nan", "nan", value=float("nan"))


def test_renderer_says_what_generate_latest_says():
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Odd())
    ours = render(registry).decode()
    theirs = generate_latest(registry).decode()

    def families(text: str):
        fams = list(text_string_to_metric_families(text))
        for fam in fams:  # NaN != NaN: compare its text instead
            fam.samples = [s._replace(value=repr(s.value)) for s in fam.samples]
        return fams

    assert families(ours) == families(theirs)
    # Same lines up to label order and float spelling (1e+21 vs 1e21).
    assert len(ours.splitlines()) == len(theirs.splitlines())
    assert [line for line in ours.splitlines() if line.startswith("#")] == [
        line for line in theirs.splitlines() if line.startswith("#")
    ]


def test_exposed_names_cover_histogram_and_summary_suffixes():
    names = exposed_names()
    assert {
        "statuswatch_probe_latency_seconds_bucket",
        "statuswatch_db_write_seconds_sum",
        "statuswatch_probe_checks_total",
    } <= names


def test_readme_lists_every_metric(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Metrics") : readme.index("## Configuration reference")]
    missing = [name for name in FAMILIES if f"`{name}`" not in section]
    assert missing == []
