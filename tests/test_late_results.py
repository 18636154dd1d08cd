"""Late results: an agent's spool replayed after a partition corrects history (outages with
their true times) but announces only what is still current, once, with its true start.

A monitor probed from one agent location; results reach Monitoring.receive as the agent API
hands them over, on a real SQLite store, with the whole app around it (board, incidents, the
outbox) and mail through aiosmtpd. Time is injected, nothing sleeps.
"""

from __future__ import annotations

import time

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import State
from statuswatch.status.component import ComponentStatus
from statuswatch.web.keys import BOARD, MONITORING
from tests.helpers.notify import email_config, start_rig, text_part
from tests.helpers.regional import EUROPE, HEALTH, health_result

START = 1_793_000_000.0
INTERVAL = 60.0
SECTIONS = {
    "locations": [EUROPE],
    "probing": {"locations": ["eu"]},
}


async def partitioned(aiohttp_client, tmp_path, smtp, failing):
    """Up, then cut off for 30 minutes; the spool (failing where `failing(t)`) replayed at the
    end, then live for 5 minutes. Returns the rig, the monitoring, the replayed results' times
    and the monitor's state and component's status at the end."""
    clock = FakeClock(START)
    config = email_config(tmp_path, smtp.port, [HEALTH], sections=SECTIONS)
    rig = await start_rig(aiohttp_client, config, clock)
    await rig.confirmed(smtp.mailbox, "all@example.com")
    monitoring, board = rig.client.app[MONITORING], rig.client.app[BOARD]
    clock.advance(INTERVAL)
    monitoring.receive("eu", [health_result(clock.time(), True)])
    board.tick()
    assert monitoring.states()["api-health"] is State.UP
    first = clock.time() + INTERVAL
    clock.advance(30 * 60)  # the partition: the agent probes and spools, nobody hears it
    board.tick()
    assert monitoring.states()["api-health"] is State.UNKNOWN  # silent: no evidence
    times = [first + i * INTERVAL for i in range(int((clock.time() - first) // INTERVAL) + 1)]
    backlog = [health_result(t, not failing(t)) for t in times]
    for i in range(0, len(backlog), 10):  # uploaded in batches, as the agent does
        monitoring.receive("eu", backlog[i : i + 10])
        board.tick()
    for _ in range(5):  # live again, past the mail coalescing window
        clock.advance(INTERVAL)
        monitoring.receive("eu", [health_result(clock.time(), not failing(clock.time()))])
        board.tick()
        await rig.deliver()
    return rig, monitoring, times, (monitoring.states()["api-health"], board.status["api"])


async def test_a_replayed_past_outage_is_history_only(aiohttp_client, tmp_path, smtp):
    down_from, up_from = START + 600, START + 1200
    rig, monitoring, _, after = await partitioned(
        aiohttp_client, tmp_path, smtp, lambda t: down_from <= t < up_from
    )
    await monitoring.store.flush()
    outages = await monitoring.store.outages()
    assert [(o.location, o.start, o.end) for o in outages] == [("eu", down_from, up_from)]
    assert await monitoring.store.gaps() == []  # the spool covers the partition: no gap
    assert await monitoring.store.incidents() == []
    assert smtp.mailbox.messages == []
    assert after == (State.UP, ComponentStatus.OPERATIONAL)
    await rig.settle()


async def test_a_replayed_outage_still_current_opens_one_incident_now(
    aiohttp_client, tmp_path, smtp
):
    down_from = START + 600
    rig, monitoring, times, after = await partitioned(
        aiohttp_client, tmp_path, smtp, lambda t: t >= down_from
    )
    await monitoring.store.flush()
    outages = await monitoring.store.outages()
    assert [(o.location, o.start, o.end) for o in outages] == [("eu", down_from, None)]
    (incident,) = await monitoring.store.incidents()
    opened = incident.updates[0]
    assert opened.time == times[-1]  # when the replay arrived: now, not at the outage start
    began = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(down_from))
    assert began in opened.body
    assert after == (State.DOWN, ComponentStatus.MAJOR)
    (message,) = smtp.mailbox.to("all@example.com")
    assert began in text_part(message)
    await rig.settle()
