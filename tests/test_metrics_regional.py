"""/metrics carries the operator's regional warning: statuswatch_monitor_regional_alert is 1 from
the moment `[incidents] regional_alert_after` logs it until the monitor is no longer regional.

A real app on a real store; results from three locations are fed through
Monitoring.handle_result on an injected clock, the board ticks as housekeeping would, and each
scrape is a real GET /metrics checked by promtool. Nothing sleeps.
"""

from __future__ import annotations

import pytest

from statuswatch.clock import FakeClock
from statuswatch.probes.base import CheckResult
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD, MONITORING
from tests.test_metrics import parse, promtool_check, value
from tests.test_metrics_locations import config_for as locations_config

START = 1_793_000_000.0
ENV = {"EU_TOKEN": "eu-token-0123456789abcdef", "US_TOKEN": "us-token-0123456789abcdef"}
ALERT = "statuswatch_monitor_regional_alert"


def config_for(tmp_path, after: str):
    return locations_config(
        tmp_path, ("local", "eu", "us"), incidents={"regional_alert_after": after}
    )


def step(app, clock, down=()) -> float:
    """One 60 s check interval: every location reports, those in `down` failing."""
    clock.advance(60)
    now = clock.time()
    monitoring = app[MONITORING]
    api = monitoring.monitors["api-health"]
    for loc in ("local", "eu", "us"):
        ok = loc not in down
        result = CheckResult("api-health", now, ok, 0.05, 200 if ok else 503)
        monitoring.handle_result(api, result, location=loc)
    monitoring.handle_result(monitoring.monitors["pay"], CheckResult("pay", now, True, 0.02))
    app[BOARD].tick()
    return now


async def scrape(client) -> dict:
    text = await (await client.get("/metrics")).text()
    promtool_check(text)
    return parse(text)


@pytest.mark.parametrize("after", ["10m", "0s"])
async def test_the_regional_warning_is_a_gauge_while_it_stands(aiohttp_client, tmp_path, after):
    clock = FakeClock(START)
    client = await aiohttp_client(
        create_app(config_for(tmp_path, after), clock=clock, probe=False, environ=ENV)
    )
    app = client.app
    labels = {"monitor": "api-health", "component": "api", "kind": "http"}
    step(app, clock)
    got = await scrape(client)
    assert value(got, ALERT, **labels) == 0  # exposed at 0 from the start: no series appears
    assert value(got, ALERT, monitor="pay") is None  # probed from one location: never regional
    while app[MONITORING].states()["api-health"].value != "regional":
        regional_at = step(app, clock, down=("eu",))
    while clock.time() < regional_at + 9 * 60:
        step(app, clock, down=("eu",))
    assert value(await scrape(client), ALERT, **labels) == 0  # nine minutes: not yet
    step(app, clock, down=("eu",))  # ten minutes: the WARNING is logged (unless never)
    warned = 0 if after == "0s" else 1
    assert value(await scrape(client), ALERT, **labels) == warned
    for _ in range(5):
        step(app, clock, down=("eu",))
    assert value(await scrape(client), ALERT, **labels) == warned  # stands while regional
    step(app, clock)
    step(app, clock)  # recovered from Europe too: the warning no longer stands
    assert app[MONITORING].states()["api-health"].value == "up"
    assert value(await scrape(client), ALERT, **labels) == 0
