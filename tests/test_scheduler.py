"""Probe dispatch driven by a fake clock: spread, phase, skips, stalls and clock steps."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from statuswatch.clock import FakeClock, SystemClock
from statuswatch.config import Duration, TcpMonitor
from statuswatch.monitor.scheduler import ProbeScheduler, first_due, phase_offset
from statuswatch.probes import ProbeContext, run_probe


def monitors(n: int, interval: float = 60.0, timeout: float = 5.0, **kw) -> list[TcpMonitor]:
    return [
        TcpMonitor(
            id=f"m{i}",
            component="c",
            host=kw.get("host", "127.0.0.1"),
            port=kw.get("port", 1),
            interval=Duration(interval),
            timeout=Duration(timeout),
            confirm_failures=2,
            confirm_recoveries=1,
        )
        for i in range(n)
    ]


def scheduler(mons, clock, *, max_in_flight=1000, max_lateness=10.0, run=None):
    async def noop(_mon, _lateness):
        return None

    return ProbeScheduler(
        mons, run or noop, clock=clock, max_in_flight=max_in_flight, max_lateness=max_lateness
    )


def dispatched_ids(sched: ProbeScheduler) -> list[str]:
    ids = []
    while not sched._queue.empty():
        ids.append(sched._queue.get_nowait()[1].id)
    return ids


def release(sched: ProbeScheduler, ids: list[str]) -> None:
    for monitor_id in ids:  # what a worker does when a run ends
        sched._busy.discard(monitor_id)


async def test_monitors_spread_evenly_over_the_interval():
    clock = FakeClock()
    sched = scheduler(monitors(6000), clock)
    per_second, seen = [], Counter()
    for _ in range(60):
        clock.advance(1)
        sched.tick()
        ids = dispatched_ids(sched)
        release(sched, ids)
        per_second.append(len(ids))
        seen.update(ids)
    assert len(seen) == 6000 and max(seen.values()) == 1  # each once in the first interval
    assert max(per_second) < 160  # 100 expected per second; no burst


async def test_phase_is_stable_across_restarts():
    wall = 1_800_000_123.4
    for mid in ("api", "checkout", "store-42"):
        slot = wall + first_due(mid, 60, wall)
        later = wall + 3601.7
        slot_after_restart = later + first_due(mid, 60, later)
        assert (slot_after_restart - slot) % 60 == pytest.approx(0, abs=1e-6)
        assert 0 <= phase_offset(mid, 60) < 60


async def test_a_run_still_in_flight_is_skipped_not_queued():
    clock = FakeClock()
    sched = scheduler(monitors(1, interval=1, timeout=0.5), clock)
    clock.advance(1)
    sched.tick()
    assert dispatched_ids(sched) == ["m0"]  # never released: still in flight
    clock.advance(1)
    assert sched.tick() == 0
    assert sched.stats.skipped_in_flight == 1


async def test_a_stall_skips_missed_slots_instead_of_bursting():
    clock = FakeClock()
    sched = scheduler(monitors(100), clock, max_lateness=10)
    clock.advance(60 * 5 + 30)  # the loop was blocked for five and a half intervals
    handed = sched.tick()
    assert handed < 100 * 11 / 60 + 5  # only the monitors whose slot is < 10 s old run
    assert sched.stats.skipped_late >= 500 - handed  # every missed slot is counted
    release(sched, dispatched_ids(sched))
    ran = 0
    for _ in range(60):
        clock.advance(1)
        sched.tick()
        ids = dispatched_ids(sched)
        release(sched, ids)
        ran += len(ids)
    assert ran == 100  # back to one run per monitor per interval


async def test_a_wall_clock_jump_causes_no_burst():
    clock = FakeClock()
    sched = scheduler(monitors(600), clock)
    sched.tick()
    release(sched, dispatched_ids(sched))
    clock.jump_wall(3 * 3600)  # NTP step: wall time leaps, monotonic time does not
    clock.advance(1)
    sched.tick()
    assert len(dispatched_ids(sched)) < 30  # ~10 per second expected
    assert sched.stats.skipped == 0


async def test_workers_cap_probes_in_flight_and_skip_what_waits_too_long():
    clock = FakeClock()
    gate = asyncio.Event()
    running = []

    async def blocked(mon, _lateness):
        running.append(mon.id)
        await gate.wait()

    mons = monitors(10, interval=1, timeout=0.5)
    sched = scheduler(mons, clock, max_in_flight=3, max_lateness=5, run=blocked)
    sched.start()
    try:
        clock.advance(1)
        sched.tick()
        await asyncio.sleep(0)  # let the workers pick up
        await asyncio.sleep(0)
        assert len(running) == 3 and sched.stats.in_flight == 3
        clock.advance(6)  # the queued ones have now waited longer than max_lateness
        gate.set()
        for _ in range(10):
            await asyncio.sleep(0)
        assert len(running) == 3
        assert sched.stats.skipped_late == 7
    finally:
        await sched.stop()


async def test_hanging_targets_do_not_delay_a_healthy_monitor():
    """Real time and real sockets: ten targets that accept and hang, one that answers."""

    release_all = asyncio.Event()

    async def hang(reader, writer):
        await release_all.wait()  # accept and say nothing until the test ends
        writer.close()
        await writer.wait_closed()

    async def answer(reader, writer):
        writer.write(b"hello\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    hang_srv = await asyncio.start_server(hang, "127.0.0.1", 0)
    ok_srv = await asyncio.start_server(answer, "127.0.0.1", 0)
    hang_port = hang_srv.sockets[0].getsockname()[1]
    ok_port = ok_srv.sockets[0].getsockname()[1]
    hanging = [
        TcpMonitor(
            id=f"hang{i}",
            component="c",
            host="127.0.0.1",
            port=hang_port,
            expect="never",
            interval=Duration(1),
            timeout=Duration(0.9),
            confirm_failures=2,
            confirm_recoveries=1,
        )
        for i in range(10)
    ]
    healthy = TcpMonitor(
        id="healthy",
        component="c",
        host="127.0.0.1",
        port=ok_port,
        expect="hello",
        interval=Duration(0.25),
        timeout=Duration(0.2),
        confirm_failures=2,
        confirm_recoveries=1,
    )
    ctx = ProbeContext(SystemClock())
    results: list = []
    lateness: list[float] = []

    async def run(mon, lateness):
        results.append(await run_probe(mon, ctx, lateness=lateness))

    sched = ProbeScheduler(
        [*hanging, healthy], run, clock=SystemClock(), max_in_flight=64, max_lateness=0.2
    )
    sched.on_lateness.append(lateness.append)
    sched.start()
    started = time.monotonic()
    await asyncio.sleep(2.6)
    await sched.stop()
    await ctx.close()
    release_all.set()
    for srv in (hang_srv, ok_srv):
        srv.close()
        await srv.wait_closed()
    elapsed = time.monotonic() - started
    mine = [r for r in results if r.monitor_id == "healthy"]
    theirs = [r for r in results if r.monitor_id != "healthy"]
    assert len(mine) >= int(elapsed / 0.25) - 1  # every slot ran
    assert all(r.ok for r in mine)
    assert theirs and {r.error_class for r in theirs} == {"timeout"}
    assert max(lateness) < 0.1
    assert sched.stats.skipped == 0
    assert Counter(r.monitor_id for r in theirs).most_common(1)[0][1] <= 3


async def test_each_run_is_told_how_late_it_starts():
    # The run decides with it whether the check can still meet its deadline (a run starting
    # more than its timeout late is inconclusive: probes/inconclusive.py).
    clock = FakeClock()
    seen: list[float] = []
    done = asyncio.Event()

    async def record(_mon, lateness):
        seen.append(lateness)
        done.set()

    (mon,) = monitors(1, interval=60, timeout=0.5)
    sched = scheduler([mon], clock, max_lateness=10, run=record)
    due = sched.next_due()
    assert due is not None
    clock.advance(due - clock.monotonic() + 3.25)  # the loop was 3.25 s late for the slot
    sched.start()
    try:
        sched.tick()
        await asyncio.wait_for(done.wait(), 5)
    finally:
        await sched.stop()
    assert seen == [pytest.approx(3.25)]
