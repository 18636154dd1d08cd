"""The agent's spool and uploads: one transaction per moment, bodies as large as the server takes.

In-process agents against real local aiohttp servers; the spool is a real SQLite file, read from
a second connection as anyone (or a restarted agent) would read it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import msgspec
from aiohttp import web

from statuswatch.agent.runner import Agent, AgentSettings
from statuswatch.agent.wire import MAX_BODY, MAX_RESULTS, Upload, result_in
from statuswatch.clock import SystemClock
from statuswatch.probes.base import CheckResult
from tests.helpers.net import free_port

PHASES = (("resolve", 0.000123), ("connect", 0.000456), ("processing", 0.00321))


def passing(monitor: str, at: float) -> CheckResult:
    """A passing http check as the probe reports it (status, message, phases)."""
    return CheckResult(monitor, at, True, 0.0041234, 200, None, "HTTP 200", phases=PHASES)


def committed(spool: Path) -> int:
    """Results committed to the spool, as another connection sees them."""
    db = sqlite3.connect(spool)
    try:
        return int(db.execute("SELECT count(*) FROM results").fetchone()[0])
    finally:
        db.close()


def wal_frames(spool: Path) -> int:
    """Frames in the spool's write-ahead log: a commit writes one per page it changed."""
    wal = Path(f"{spool}-wal")
    size = wal.stat().st_size if wal.exists() else 0
    return max(0, size - 32) // (24 + 4096)


async def test_results_of_the_same_moment_share_one_spool_transaction(tmp_path):
    spool = tmp_path / "agent.spool"
    # Nothing listens there: every upload fails, so the spool only grows.
    settings = AgentSettings(f"http://127.0.0.1:{free_port()}", "a", "a1", "token", str(spool))
    agent = Agent(settings, SystemClock())
    stop = asyncio.Event()
    running = asyncio.create_task(agent.run(stop))
    try:
        before = wal_frames(spool)
        now = time.time()
        for i in range(40):  # 40 probes finishing in the same moment
            agent.keep(result_in(passing(f"m{i}", now)))
        async with asyncio.timeout(5):
            while committed(spool) < 40:
                await asyncio.sleep(0.01)
        # One transaction: a page or two of the table and its index. One per result: 40 or more.
        assert wal_frames(spool) - before <= 6, wal_frames(spool) - before
    finally:
        stop.set()
        await running


async def test_a_backlog_drains_in_bodies_as_large_as_the_server_takes(tmp_path):
    uploads: list[tuple[int, int]] = []  # (results, bytes) of each body
    stored: list[tuple[str, float]] = []

    async def monitors(_request: web.Request) -> web.Response:
        return web.json_response({"monitors": [], "generation": "g", "server_time": time.time()})

    async def results(request: web.Request) -> web.Response:
        raw = await request.read()
        body = msgspec.json.decode(raw, type=Upload)  # the server's own strict shape
        uploads.append((len(body.results), len(raw)))
        stored.extend((r.monitor, r.time) for r in body.results)
        assert body.results[0].result("a").phases == PHASES
        return web.json_response({"accepted": len(body.results), "duplicates": 0})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/api/v1/agent/monitors", monitors)
    app.router.add_post("/api/v1/agent/results", results)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    spool = tmp_path / "agent.spool"
    settings = AgentSettings(f"http://127.0.0.1:{port}", "a", "a1", "token", str(spool))
    agent = Agent(settings, SystemClock())
    stop = asyncio.Event()
    running = asyncio.create_task(agent.run(stop))
    t0 = time.time() - 600
    spooled = [(f"m{i % 300:03d}", t0 + i * 0.01) for i in range(2000)]  # a partition's backlog
    try:
        for monitor, at in spooled:
            agent.keep(result_in(passing(monitor, at)))
        async with asyncio.timeout(5):
            while committed(spool) < len(spooled):
                await asyncio.sleep(0.01)
        await web.TCPSite(runner, "127.0.0.1", port).start()  # the server is back
        async with asyncio.timeout(15):
            while committed(spool):
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await running
        await runner.cleanup()
    assert stored == spooled  # all of it, oldest first, once
    assert all(n <= MAX_RESULTS and size <= MAX_BODY for n, size in uploads), uploads
    # Every body but the last is full (500 results, or within 4 KiB of the byte cap).
    assert all(n == MAX_RESULTS or size > MAX_BODY - 4096 for n, size in uploads[:-1]), uploads
