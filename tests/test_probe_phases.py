"""Per-phase timings of the http probe against real local servers (the delays are the server's)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web

from statuswatch.clock import SystemClock
from statuswatch.probes import CheckResult, ProbeContext
from statuswatch.probes.phases import PHASES
from tests.helpers.probe_servers import (
    RawServer,
    hang,
    http_monitor,
    issue,
    refused_port,
    server_context,
    tcp_monitor,
    timed_probe,
)

DELAY = 0.3


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="all systems ok")


async def _late_headers(request: web.Request) -> web.Response:
    await asyncio.sleep(DELAY)
    return web.Response(text="ok")


async def _slow_body(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await resp.prepare(request)  # the headers leave now
    await resp.write(b"first half, ")
    await asyncio.sleep(DELAY)
    await resp.write(b"then ok")
    await resp.write_eof()
    return resp


async def _slow_hop(request: web.Request) -> web.Response:
    await asyncio.sleep(DELAY / 3)
    left = int(request.match_info["n"])
    raise web.HTTPFound(f"/slow-hop/{left - 1}" if left > 1 else "/late-headers-short")


async def _late_headers_short(request: web.Request) -> web.Response:
    await asyncio.sleep(DELAY / 3)
    return web.Response(text="ok")


def _app() -> web.Application:
    app = web.Application()
    app.router.add_get("/ok", _ok)
    app.router.add_get("/late-headers", _late_headers)
    app.router.add_get("/slow-body", _slow_body)
    app.router.add_get("/slow-hop/{n}", _slow_hop)
    app.router.add_get("/late-headers-short", _late_headers_short)
    return app


@pytest.fixture
async def server(aiohttp_server: Any) -> Any:
    return await aiohttp_server(_app())


def _url(server: Any, path: str) -> str:
    return str(server.make_url(path))


def phases(result: CheckResult) -> dict[str, float]:
    assert result.phases is not None, result
    names = [name for name, _ in result.phases]
    assert names == [p for p in PHASES if p in names], names  # always in PHASES order
    return dict(result.phases)


async def test_late_headers_are_processing(server: Any, ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(http_monitor(_url(server, "/late-headers")), ctx)
    assert result.ok, result
    got = phases(result)
    assert set(got) == {"resolve", "connect", "tls", "processing"}  # the body was never read
    assert got["processing"] >= DELAY
    assert got["tls"] == 0.0  # plain http
    assert got["resolve"] + got["connect"] < 0.1
    assert sum(got.values()) <= elapsed


async def test_slow_body_is_transfer(server: Any, ctx: ProbeContext) -> None:
    monitor = http_monitor(_url(server, "/slow-body"), body_contains="then ok")
    result, _ = await timed_probe(monitor, ctx)
    assert result.ok, result
    got = phases(result)
    assert got["transfer"] >= DELAY
    assert got["processing"] < DELAY


async def test_a_name_is_resolved_and_counted(server: Any, ctx: ProbeContext) -> None:
    url = f"http://localhost:{server.port}/ok"
    result, _ = await timed_probe(http_monitor(url), ctx)
    assert result.ok, result
    assert 0.0 < phases(result)["resolve"] < 1.0


@contextlib.contextmanager
def late_tls_server(server_ctx: ssl.SSLContext) -> Iterator[int]:
    """A server on a thread of its own (so any event loop can probe it): the kernel finishes
    TCP at once, the server starts TLS only after DELAY, then answers one request."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serve() -> None:
        with contextlib.suppress(OSError), listener.accept()[0] as conn:
            time.sleep(DELAY)  # the server's delay, on its own thread: the test does not sleep
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += tls.recv(4096)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(5)
        listener.close()


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[str, ssl.SSLContext]:
    """A CA file to trust and a server context with a certificate from that CA."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return str(ca_file), server_context(issue(ca, days=90))


async def _probe_late_tls(ca_file: str, server_ctx: ssl.SSLContext) -> CheckResult:
    ctx = ProbeContext(SystemClock())
    try:
        with late_tls_server(server_ctx) as port:
            monitor = http_monitor(f"https://127.0.0.1:{port}/", ca_file=ca_file)
            result, _ = await timed_probe(monitor, ctx)
    finally:
        await ctx.close()
    return result


def assert_tls_told_apart(result: CheckResult) -> None:
    assert result.ok, result
    got = phases(result)
    assert got["tls"] >= DELAY  # the handshake waited for the server
    assert 0.0 < got["connect"] < DELAY  # TCP did not
    assert got["processing"] < DELAY


async def test_tls_handshake_is_its_own_phase(tls_files: tuple[str, ssl.SSLContext]) -> None:
    assert_tls_told_apart(await _probe_late_tls(*tls_files))


def test_tls_is_told_apart_on_uvloop_too(tls_files: tuple[str, ssl.SSLContext]) -> None:
    # uvloop (the `speed` extra, what production runs) builds the protocol before the TLS
    # handshake as asyncio does; if it ever stopped, tls would go missing, not be invented.
    uvloop = pytest.importorskip("uvloop")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert_tls_told_apart(runner.run(_probe_late_tls(*tls_files)))


async def test_a_reused_connection_has_no_connect_or_tls(server: Any, ctx: ProbeContext) -> None:
    monitor = http_monitor(_url(server, "/ok"), reuse_connections=True)
    first, _ = await timed_probe(monitor, ctx)
    second, _ = await timed_probe(monitor, ctx)
    assert phases(first)["connect"] > 0.0
    got = phases(second)
    assert (got["resolve"], got["connect"], got["tls"]) == (0.0, 0.0, 0.0)
    assert got["processing"] > 0.0


async def test_redirect_hops_are_summed(server: Any, ctx: ProbeContext) -> None:
    # Two redirects and the final answer, each a third of DELAY late: processing holds all three.
    result, _ = await timed_probe(http_monitor(_url(server, "/slow-hop/2")), ctx)
    assert result.ok, result
    got = phases(result)
    assert got["processing"] >= DELAY
    single, _ = await timed_probe(http_monitor(_url(server, "/late-headers-short")), ctx)
    assert phases(single)["processing"] < got["processing"] - DELAY / 3


async def test_a_failure_keeps_the_phases_it_finished(server: Any, ctx: ProbeContext) -> None:
    async with RawServer(hang) as raw:  # accepts, never answers: the deadline cuts processing
        result, _ = await timed_probe(http_monitor(raw.url), ctx)
    assert result.error_class == "timeout", result
    assert set(phases(result)) == {"resolve", "connect", "tls"}
    refused, _ = await timed_probe(http_monitor(f"http://127.0.0.1:{refused_port()}/"), ctx)
    assert set(phases(refused)) == {"resolve"}  # the connect phase never finished


async def test_no_phases_before_any_phase_or_for_other_kinds(
    server: Any, ctx: ProbeContext
) -> None:
    unresolvable, _ = await timed_probe(http_monitor("http://nonexistent.invalid/"), ctx)
    assert unresolvable.error_class == "dns" and unresolvable.phases is None, unresolvable
    tcp, _ = await timed_probe(tcp_monitor(server.port), ctx)
    assert tcp.ok and tcp.phases is None, tcp
