"""Statuswatch's own failures are no evidence: classified by cause against real local servers.

Descriptor exhaustion under a lowered RLIMIT_NOFILE (restored after), a silent resolver on
loopback, a blocked event loop; and the same targets' own failures staying failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import dns.message
import pytest
from aiohttp import web

from statuswatch.config.durations import Duration
from statuswatch.probes import ProbeContext, run_probe
from statuswatch.probes.inconclusive import own_resolver
from statuswatch.probes.tcp import lookup_failure
from tests.helpers.descriptors import no_free_descriptors
from tests.helpers.probe_servers import (
    TIMEOUT,
    RawServer,
    assert_failed,
    dns_monitor,
    dns_server,
    hang,
    http_monitor,
    refused_port,
    tcp_monitor,
    timed_probe,
)


@pytest.fixture
async def http_target(aiohttp_server: Any) -> Any:
    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", ok)
    return await aiohttp_server(app)


class _Silent(asyncio.DatagramProtocol):
    """A DNS "server" on loopback that reads every query and never answers; counts them."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.questions.append(dns.message.from_wire(data).question[0].name.to_text())


@contextlib.asynccontextmanager
async def silent_resolver() -> AsyncIterator[tuple[str, _Silent]]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Silent, local_addr=("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{transport.get_extra_info('sockname')[1]}", proto
    finally:
        transport.close()


# --- descriptors ------------------------------------------------------------------------------


async def test_out_of_descriptors_is_not_the_targets_failure(
    ctx: ProbeContext, http_target: Any
) -> None:
    async with RawServer(hang) as tcp, dns_server() as dns_addr:
        monitors = [
            http_monitor(str(http_target.make_url("/"))),
            tcp_monitor(tcp.port),
            dns_monitor("www.test", dns_addr),
        ]
        for monitor in monitors:  # each healthy first: the target is fine
            result, _ = await timed_probe(monitor, ctx)
            assert result.ok, result
        with no_free_descriptors():
            results = [await run_probe(m, ctx) for m in monitors]
        for result in results:
            assert result is not None and not result.ok
            assert result.inconclusive == "descriptors", result
        for monitor in monitors:  # and healthy again once descriptors are back
            result, _ = await timed_probe(monitor, ctx)
            assert result.ok, result


async def test_a_refused_connection_stays_the_targets_failure(ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(tcp_monitor(refused_port()), ctx)
    assert_failed(result, elapsed, "connect")


# --- resolver ---------------------------------------------------------------------------------


async def test_a_local_resolver_that_never_answers_is_inconclusive(ctx: ProbeContext) -> None:
    async with silent_resolver() as (server, proto):
        result, elapsed = await timed_probe(dns_monitor("www.test", server), ctx)
    assert result.error_class == "timeout"
    assert result.inconclusive == "resolver", result
    assert "." in proto.questions  # it was asked for the root zone, and said nothing
    assert elapsed < TIMEOUT + 1.5


async def test_one_root_query_serves_every_monitor_failing_at_once(ctx: ProbeContext) -> None:
    async with silent_resolver() as (server, proto):
        monitors = [dns_monitor(f"shop{i}.test", server) for i in range(10)]
        results = await asyncio.gather(*(run_probe(m, ctx) for m in monitors))
    assert {r.inconclusive for r in results if r is not None} == {"resolver"}
    assert proto.questions.count(".") == 1


async def test_answers_from_a_working_local_resolver_are_the_targets_failures(
    ctx: ProbeContext,
) -> None:
    async with dns_server() as server:
        result, elapsed = await timed_probe(dns_monitor("nope.test", server), ctx)
        assert_failed(result, elapsed, "dns_nxdomain")
        result, elapsed = await timed_probe(dns_monitor("broken.test", server), ctx)
        assert_failed(result, elapsed, "dns_servfail")
        # Silent for one name only: the resolver answers the root query, so the timeout is
        # the name's (the target's) failure.
        result, elapsed = await timed_probe(dns_monitor("silent.test", server), ctx)
        assert_failed(result, elapsed, "timeout")


async def test_a_remote_dns_server_is_the_target(ctx: ProbeContext) -> None:
    # 192.0.2.1 (TEST-NET-1) is not statuswatch's own resolver: silence there is a failure.
    result, _ = await timed_probe(dns_monitor("www.test", "192.0.2.1"), ctx)
    assert not result.ok and result.inconclusive is None, result
    assert result.error_class in ("timeout", "connect")


# --- stalled ----------------------------------------------------------------------------------


async def test_a_run_starting_past_its_timeout_is_stalled_and_not_probed(ctx: ProbeContext) -> None:
    connections = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1

    async with RawServer(count) as srv:
        monitor = tcp_monitor(srv.port)
        result = await run_probe(monitor, ctx, lateness=TIMEOUT + 0.1)
        assert result is not None and result.inconclusive == "stalled", result
        assert "after its slot" in result.message
        assert connections == 0
        result = await run_probe(monitor, ctx, lateness=TIMEOUT - 0.1)  # late, but in time
        assert result is not None and result.ok, result
        assert connections == 1


async def test_a_loop_blocked_past_the_deadline_is_stalled(ctx: ProbeContext) -> None:
    async with RawServer(hang) as srv:
        monitor = tcp_monitor(srv.port, send="PING\r\n", expect="PONG", timeout=Duration(0.3))
        loop = asyncio.get_running_loop()
        # A blocking call in the loop (as a CPU-bound render or a sync DNS call would be),
        # from before the deadline to well after it.
        loop.call_later(0.1, time.sleep, 1.0)
        result = await run_probe(monitor, ctx)
        assert result is not None and result.inconclusive == "stalled", result
        assert result.error_class == "timeout"
        assert "event loop was blocked" in result.message


async def test_a_slow_target_on_a_running_loop_is_a_timeout(ctx: ProbeContext) -> None:
    async with RawServer(hang) as srv:
        monitor = tcp_monitor(srv.port, send="PING\r\n", expect="PONG", timeout=Duration(0.3))
        result, elapsed = await timed_probe(monitor, ctx)
    assert_failed(result, elapsed, "timeout")


async def test_a_short_block_inside_the_deadline_changes_nothing(ctx: ProbeContext) -> None:
    async with RawServer(hang) as srv:
        monitor = tcp_monitor(srv.port, send="PING\r\n", expect="PONG", timeout=Duration(0.6))
        asyncio.get_running_loop().call_later(0.05, time.sleep, 0.2)  # over before the deadline
        result, elapsed = await timed_probe(monitor, ctx)
    assert_failed(result, elapsed, "timeout")


@pytest.mark.parametrize(
    ("server", "own"),
    [
        (None, True),  # the system's resolver
        ("127.0.0.53", True),
        ("127.0.0.1:5353", True),
        ("::1", True),
        ("localhost", True),
        ("192.0.2.1", False),
        ("ns1.example.com", False),
        ("2001:db8::53", False),
    ],
)
def test_which_resolver_is_statuswatchs_own(server: str | None, own: bool) -> None:
    assert own_resolver(server) is own


@pytest.mark.parametrize(
    ("code", "may_be_resolver"),
    [(socket.EAI_NONAME, False), (socket.EAI_AGAIN, True), (socket.EAI_FAIL, True)],
)
def test_only_a_lookup_without_an_answer_asks_the_resolver(code: int, may_be_resolver: bool):
    # "No such name" is the resolver answering (the target's failure); "try again" is what the
    # system's resolver says when no nameserver answers.
    fail = lookup_failure(socket.gaierror(code, "x"), "cannot resolve shop.example")
    assert fail.error_class == "dns"
    assert (fail.resolver is None) is may_be_resolver
