"""The site's connection guard on a real aiohttp server, the descriptor budget, the quiet log."""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import subprocess
import sys
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web

from statuswatch.cli.limits import DescriptorBudget, ExhaustionLog
from statuswatch.web.connections import ConnectionGuard
from tests.helpers.config import build_config

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


class Site:
    """A guarded server whose handler can be held in progress."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.hold = False
        self.in_progress = 0
        self.guard: ConnectionGuard
        self.port = 0

    async def handle(self, _request: web.Request) -> web.Response:
        if self.hold:
            self.in_progress += 1
            await self.release.wait()
        return web.Response(text="page\n")

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


@pytest.fixture
async def site(request: pytest.FixtureRequest) -> AsyncIterator[Site]:
    max_connections, head_timeout = getattr(request, "param", (3, 30.0))
    site = Site()
    app = web.Application()
    app.router.add_get("/", site.handle)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=15.0)
    await runner.setup()
    site.guard = ConnectionGuard(
        runner.server,  # type: ignore[arg-type]
        max_connections=max_connections,
        head_timeout=head_timeout,
    )
    server = await asyncio.get_running_loop().create_server(site.guard, "127.0.0.1", 0)
    site.port = server.sockets[0].getsockname()[1]
    yield site
    site.release.set()
    server.close()
    site.guard.close()
    await runner.cleanup()


async def read_status(reader: asyncio.StreamReader) -> bytes:
    """The status line of the next response, or b'' when the server closed the connection."""
    line = await asyncio.wait_for(reader.readline(), 5)
    if line:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        length = next(
            int(h.split(b":")[1])
            for h in head.split(b"\r\n")
            if h.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
    return line.rstrip()


async def until(condition: Callable[[], bool]) -> None:
    """Wait until the server side reaches `condition` (what the clients sent has arrived)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the server never got there")


async def test_at_the_limit_the_oldest_silent_connection_gives_way(site, caplog):
    silent = [await site.connect() for _ in range(3)]
    await until(lambda: site.guard.admitted == 3)
    reader, writer = await site.connect()
    writer.write(REQUEST)
    assert await read_status(reader) == b"HTTP/1.1 200 OK"
    # The first silent one was closed to make room; the two younger ones are still open.
    assert await asyncio.wait_for(silent[0][0].read(), 5) == b""
    assert not silent[1][0].at_eof() and not silent[2][0].at_eof()
    assert site.guard.admitted == 3
    with caplog.at_level(logging.WARNING):
        site.guard.report()  # what its timer calls once a minute while it sheds
    assert "1 closed to make room" in caplog.text
    for _, w in [*silent, (reader, writer)]:
        w.close()


async def test_when_every_connection_is_busy_the_newcomer_gets_a_bare_503(site):
    site.hold = True
    busy = [await site.connect() for _ in range(3)]
    for _, writer in busy:
        writer.write(REQUEST)
    await until(lambda: site.in_progress == 3)
    reader, writer = await site.connect()
    writer.write(REQUEST)
    assert await read_status(reader) == b"HTTP/1.1 503 Service Unavailable"
    assert await asyncio.wait_for(reader.read(), 5) == b""
    site.release.set()
    for r, _ in busy:
        assert await read_status(r) == b"HTTP/1.1 200 OK"
    # The three are idle kept-alive now: the oldest gives way to the next plain request.
    reader2, writer2 = await site.connect()
    writer2.write(REQUEST)
    assert await read_status(reader2) == b"HTTP/1.1 200 OK"
    for _, w in [*busy, (reader, writer), (reader2, writer2)]:
        w.close()


@pytest.mark.parametrize("site", [(8, 0.3)], indirect=True)
async def test_a_trickled_head_is_cut_off_at_the_deadline(site):
    reader, writer = await site.connect()
    loop = asyncio.get_running_loop()
    started = loop.time()
    writer.write(b"GET / HTTP/1.1\r\n")
    closed = asyncio.ensure_future(read_status(reader))
    while not closed.done() and loop.time() - started < 5:
        writer.write(b"X-Trickle: a\r\n")  # a header line now and then does not extend it
        await asyncio.sleep(0.05)
    assert await closed == b"HTTP/1.1 408 Request Timeout"
    assert 0.25 <= loop.time() - started < 2
    assert site.guard.admitted == 0
    writer.close()


@pytest.mark.parametrize("site", [(8, 0.3)], indirect=True)
async def test_a_prompt_head_keeps_its_connection_past_the_deadline(site):
    reader, writer = await site.connect()
    writer.write(REQUEST)
    assert await read_status(reader) == b"HTTP/1.1 200 OK"
    await asyncio.sleep(0.4)  # past the head deadline, within keep-alive
    writer.write(REQUEST)
    assert await read_status(reader) == b"HTTP/1.1 200 OK"
    writer.close()


def test_the_budget_keeps_the_probes_share_under_a_1024_limit(tmp_path):
    monitors = [
        {"id": f"m{i}", "kind": "http", "component": "c", "url": "http://127.0.0.1:1/"}
        for i in range(20)
    ]
    config = build_config(
        tmp_path, {"components": [{"id": "c", "name": "C"}], "monitors": monitors}
    )
    budget = DescriptorBudget.for_config(config, 1024)
    assert budget.reserve == 64 + 2 * 20
    assert budget.max_connections == (1024 - budget.reserve) // 2
    # Admitted connections, a full listen queue accepted at once and the reserve all fit.
    assert budget.reserve + budget.max_connections + budget.backlog <= 1024
    # A large limit: the fixed default.
    assert DescriptorBudget.for_config(config, 65536).max_connections == 512


def test_an_explicit_limit_above_the_probes_share_is_lowered(tmp_path, caplog):
    config = build_config(tmp_path, {"site": {"max_connections": 5000}})
    with caplog.at_level(logging.WARNING):
        budget = DescriptorBudget.for_config(config, 1024)
    assert budget.max_connections == (1024 - 64) // 2
    assert "site.max_connections = 5000" in caplog.text
    assert (
        DescriptorBudget.for_config(
            build_config(tmp_path, {"site": {"max_connections": 100}}), 1024
        ).max_connections
        == 100
    )


def test_a_limit_too_low_for_max_in_flight_is_said(tmp_path, caplog):
    monitors = [
        {"id": f"m{i}", "kind": "tcp", "component": "c", "host": "127.0.0.1", "port": 1}
        for i in range(600)
    ]
    config = build_config(
        tmp_path, {"components": [{"id": "c", "name": "C"}], "monitors": monitors}
    )
    with caplog.at_level(logging.WARNING):
        budget = DescriptorBudget.for_config(config, 1024)
    assert budget.max_connections == 8
    assert "lower probing.max_in_flight" in caplog.text


def emfile_context() -> dict:
    exc = OSError(errno.EMFILE, "Too many open files")
    return {"message": "socket.accept() out of system resource", "exception": exc}


def test_accept_errors_are_logged_once_per_interval_with_a_count(caplog):
    now = [1000.0]
    handler = ExhaustionLog(interval=60.0, now=lambda: now[0])
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR):
            for _ in range(5000):
                handler(loop, emfile_context())
                now[0] += 0.001
            assert len(caplog.records) == 1
            assert "socket.accept() out of system resource" in caplog.records[0].getMessage()
            now[0] += 55
            handler.flush()  # what the timer calls at the end of the interval
            assert len(caplog.records) == 2
            assert "4999 more in the last 60s" in caplog.records[1].getMessage()
            handler(loop, emfile_context())  # right after a summary: counted, not logged
            assert len(caplog.records) == 2
    finally:
        handler.close()
        loop.close()


def test_other_loop_errors_go_to_the_default_handler(caplog):
    handler = ExhaustionLog()
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR):
            for _ in range(3):
                handler(loop, {"message": "boom", "exception": ValueError("x")})
        assert [r.getMessage() for r in caplog.records] == ["boom"] * 3
    finally:
        loop.close()


def test_start_raises_the_soft_limit_to_the_hard_one_and_says_both():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(256, hard)
    code = (
        "import logging, resource\n"
        "logging.basicConfig(level=logging.INFO, format='%(message)s')\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({low}, {hard}))\n"
        "from statuswatch.cli.limits import raise_nofile\n"
        "print(raise_nofile(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == [str(hard), str(hard)]
    assert f"open-file limit: soft {low} raised to the hard limit {hard}" in proc.stderr
