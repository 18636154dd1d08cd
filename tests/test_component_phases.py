"""The component page names the phase of an http check that got slow, in words.

The page test probes a real local server through the real pipeline (run_one, the store, the
render) on an injected clock; the server is the one that is slow.
"""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from statuswatch.clock import FakeClock
from statuswatch.probes.base import CheckResult
from statuswatch.site.phases import is_slow, monitor_phases, seconds_text, usual_durations
from statuswatch.web import create_app
from statuswatch.web.keys import MONITORING, STORE
from tests.helpers.browser import rendered
from tests.helpers.config import make_config

UTC = ZoneInfo("UTC")
NOW = 1_794_009_600.0


def check(t: float, ok: bool = True, **phases: float) -> CheckResult:
    return CheckResult("api-health", t, ok, 0.01, 200, phases=tuple(phases.items()) or None)


FAST = {"resolve": 0.00002, "connect": 0.0002, "tls": 0.0, "processing": 0.004}


def test_slow_means_twice_usual_and_ten_ms_more() -> None:
    assert is_slow(0.312, 0.004)
    assert not is_slow(0.0005, 0.0002)  # 2.5 times, but a fraction of a millisecond
    assert not is_slow(0.5, 0.4)  # 100 ms more, but not twice
    assert is_slow(0.8, 0.4)


def test_usual_is_the_median_of_passing_checks() -> None:
    history = [
        check(NOW - 180, processing=0.004),
        check(NOW - 120, processing=0.006),
        check(NOW - 60, processing=0.005),
        check(NOW - 30, ok=False, processing=9.0),  # a failure is no measure of the usual
        check(NOW - 20),  # no phases (before they were timed)
    ]
    usual, samples = usual_durations(history)
    assert usual == {"processing": 0.005} and samples == 3


def test_the_slow_phase_is_named_and_the_others_are_not() -> None:
    history = [check(NOW - 60 * i, **FAST) for i in range(1, 6)]
    last = check(NOW, **{**FAST, "processing": 0.312})
    view = monitor_phases("API health", last, history, UTC)
    assert view.summary == "Slower than usual: Processing took 312 ms, usually 4.0 ms."
    assert [r.phase for r in view.rows if r.slow] == ["processing"]
    transfer = view.rows[-1]
    assert (transfer.last, transfer.usual) == ("not reached", "—")


def test_a_failed_check_says_where_it_stopped() -> None:
    history = [check(NOW - 60 * i, **FAST) for i in range(1, 6)]
    timed_out = check(NOW, ok=False, resolve=0.00002, connect=0.0002, tls=0.0)
    assert (
        monitor_phases("API", timed_out, history, UTC).summary
        == "The last check failed during Processing."
    )
    unresolved = check(NOW, ok=False)
    assert monitor_phases("API", unresolved, history, UTC).summary == (
        "The last check finished no phase."
    )
    assert monitor_phases("API", check(NOW, **FAST), [], UTC).summary == (
        "Not enough checks in the last 24 hours yet to say what is usual."
    )


def test_durations_read_as_people_write_them() -> None:
    assert [seconds_text(s) for s in (0.0, 0.00025, 0.0042, 0.312, 2.414)] == [
        "0 ms",
        "0.25 ms",
        "4.2 ms",
        "312 ms",
        "2.41 s",
    ]


@pytest.mark.system
async def test_the_component_page_names_the_phase_that_got_slow(
    aiohttp_client, aiohttp_server, browser, tmp_path
) -> None:
    delay = {"seconds": 0.0}

    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(delay["seconds"])  # the target's own slowness, before its headers
        return web.Response(text="ok")

    target = web.Application()
    target.router.add_get("/", answer)
    server = await aiohttp_server(target)
    monitors = [
        {
            "id": "api-health",
            "name": "API health",
            "kind": "http",
            "component": "api",
            "url": str(server.make_url("/")),
        }
    ]
    clock = FakeClock(NOW)
    app = create_app(make_config(tmp_path, monitors), clock=clock, probe=False, environ={})
    client = await aiohttp_client(app)
    monitoring = app[MONITORING]
    monitor = monitoring.monitors["api-health"]
    for _ in range(5):  # the usual: a local answer in about a millisecond
        await monitoring.run_one(monitor)
        clock.advance(60)
    delay["seconds"] = 0.3
    await monitoring.run_one(monitor)
    await app[STORE].flush()
    page, text = await rendered(browser, str(client.make_url("/components/api")))
    assert "Last check, phase by phase" in text
    assert "Slower than usual: Processing took 3" in text  # 300-odd ms
    row = page.get_by_role("row", name="Processing")
    assert "slow" in (await row.inner_text()).split("\t")[-1]
    for calm in ("DNS lookup", "TCP connect", "TLS handshake"):
        cells = (await page.get_by_role("row", name=calm).inner_text()).split("\t")
        assert cells[-1].strip() == "as usual", cells
