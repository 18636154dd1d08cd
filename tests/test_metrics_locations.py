"""/metrics with several locations: probe series per location, each location's liveness and
last word, each agent's clock skew; promtool accepts it all.

A real app on a real store is fed results from "local" and "eu" through
Monitoring.handle_result (and one upload through the agents' API, so the eu agent is heard);
time is injected, nothing sleeps.
"""

from __future__ import annotations

from statuswatch.clock import FakeClock
from statuswatch.probes.base import CheckResult
from statuswatch.web import create_app
from statuswatch.web.keys import MONITORING
from tests.helpers.config import make_config
from tests.helpers.regional import LOCATIONS
from tests.test_metrics import parse, promtool_check, value

NOW = 1_794_009_600.0
EU = "metrics-eu-agent-token-0123456789"


# An HTTP monitor probed from every location of the default, a TCP one only centrally.
MONITORS = [
    {"id": "api-health", "kind": "http", "component": "api", "url": "http://api.test/"},
    {
        "id": "pay",
        "kind": "tcp",
        "component": "checkout",
        "host": "pay.test",
        "port": 443,
        "locations": ["local"],
    },
]


def config_for(tmp_path, probed_from=("local", "eu"), **sections):
    return make_config(
        tmp_path,
        MONITORS,
        locations=LOCATIONS,
        probing={"locations": list(probed_from)},
        **sections,
    )


async def test_probe_series_per_location_and_each_location_up_and_last_seen(
    aiohttp_client, tmp_path
):
    clock = FakeClock(NOW)
    app = create_app(
        config_for(tmp_path), clock=clock, probe=False, environ={"EU_TOKEN": EU, "US_TOKEN": "x"}
    )
    client = await aiohttp_client(app)
    monitoring = app[MONITORING]
    api, pay = monitoring.monitors["api-health"], monitoring.monitors["pay"]
    # The eu agent uploads one failing check (sent 2 s before it arrives: a 2 s skew).
    upload = {
        "location": "eu",
        "agent": "eu-1",
        "sent_at": clock.time() - 2,
        "results": [
            {
                "monitor": "api-health",
                "time": clock.time() - 5,
                "ok": False,
                "error_class": "timeout",
            }
        ],
    }
    resp = await client.post(
        "/api/v1/agent/results", json=upload, headers={"Authorization": f"Bearer {EU}"}
    )
    assert resp.status == 200, await resp.text()
    heard = clock.time()
    for _ in range(3):
        clock.advance(5)
        now = clock.time()
        monitoring.handle_result(api, CheckResult("api-health", now, True, 0.07, 200))
        failed = CheckResult("api-health", now, False, None, None, "timeout", location="eu")
        monitoring.handle_result(api, failed, location="eu")
        monitoring.handle_result(pay, CheckResult("pay", now, True, 0.02))
    text = await (await client.get("/metrics")).text()
    promtool_check(text)
    got = parse(text)
    success = "statuswatch_probe_success"
    assert value(got, success, monitor="api-health", location="local") == 1
    assert value(got, success, monitor="api-health", location="eu") == 0
    assert value(got, success, monitor="pay", location="local") == 1  # local only: labelled so
    assert value(got, success, monitor="pay", location="eu") is None
    checks = "statuswatch_probe_checks_total"
    assert value(got, checks, monitor="api-health", location="eu", result="fail") == 4
    assert value(got, checks, monitor="api-health", location="eu", result="ok") == 0
    assert value(got, checks, monitor="api-health", location="local", result="ok") == 3
    failures = "statuswatch_probe_failures_total"
    assert value(got, failures, monitor="api-health", location="eu", error_class="timeout") == 4
    assert value(got, failures, monitor="api-health", location="local") is None
    assert value(got, "statuswatch_probe_duration_seconds", location="local", kind="http") == 0.07
    # The confirmed state is the monitor's verdict over its locations: down from eu alone is
    # regional, so up, and it carries no location label.
    up = [ls for (n, ls), _v in got.items() if n == "statuswatch_monitor_up"]
    assert all("location" not in dict(ls) for ls in up)
    assert value(got, "statuswatch_monitor_up", monitor="api-health") == 1
    assert value(got, "statuswatch_location_up", location="local") == 1
    assert value(got, "statuswatch_location_up", location="eu") == 1
    assert value(got, "statuswatch_location_up", location="us") == 0  # no agent ever heard
    last = "statuswatch_location_last_seen_timestamp_seconds"
    assert value(got, last, location="eu") == heard
    assert value(got, last, location="local") == clock.time()
    assert value(got, last, location="us") is None
    assert value(got, "statuswatch_location_agents", location="eu") == 1
    assert value(got, "statuswatch_agent_clock_skew_seconds", location="eu", agent="eu-1") == 2
    assert value(got, "statuswatch_agent_upload_lag_seconds", location="eu", agent="eu-1") == 5

    # Past the agent's TTL (2.5 polls of 10 s) the location is down; its last word stays.
    clock.advance(26 - 15)
    text = await (await client.get("/metrics")).text()
    promtool_check(text)
    got = parse(text)
    assert value(got, "statuswatch_location_up", location="eu") == 0
    assert value(got, "statuswatch_location_agents", location="eu") == 0
    assert value(got, last, location="eu") == heard
    assert value(got, "statuswatch_location_up", location="local") == 1
