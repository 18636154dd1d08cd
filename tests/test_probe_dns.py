"""The dns probe against a real local DNS server, through the real runner."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from statuswatch.probes import ProbeContext
from tests.helpers.probe_servers import (
    SERVFAIL_NAME,
    SILENT_NAME,
    assert_failed,
    dns_monitor,
    dns_server,
    refused_port,
    timed_probe,
)


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async with dns_server() as address:
        yield address


@pytest.mark.parametrize(
    ("query", "kind", "expect", "message"),
    [
        ("www.test", "A", ["192.0.2.10"], "A www.test is 192.0.2.10, 192.0.2.11"),
        ("www.test", "A", ["192.0.2.11", "192.0.2.10"], "A www.test is 192.0.2.10, 192.0.2.11"),
        ("www.test", "A", [], "A www.test is 192.0.2.10, 192.0.2.11"),
        ("www.test", "AAAA", ["2001:0db8:0:0::1"], "AAAA www.test is 2001:db8::1"),
        ("alias.test", "CNAME", ["target.example.com."], "CNAME alias.test is target.example.com"),
        ("ALIAS.test.", "CNAME", ["TARGET.example.com"], "CNAME ALIAS.test. is target.example.com"),
    ],
)
async def test_expected_answer(
    server: str, ctx: ProbeContext, query: str, kind: str, expect: list[str], message: str
) -> None:
    monitor = dns_monitor(query, server, record_type=kind, expect=expect)
    result, _ = await timed_probe(monitor, ctx)
    assert result.ok, result
    assert result.message == message


async def test_missing_value(server: str, ctx: ProbeContext) -> None:
    monitor = dns_monitor("www.test", server, expect=["192.0.2.10", "192.0.2.99"])
    result, elapsed = await timed_probe(monitor, ctx)
    assert_failed(result, elapsed, "dns_answer")
    assert result.message == "A www.test is 192.0.2.10, 192.0.2.11; missing 192.0.2.99"


async def test_no_records_of_that_type(server: str, ctx: ProbeContext) -> None:
    monitor = dns_monitor("alias.test", server, record_type="AAAA")
    result, elapsed = await timed_probe(monitor, ctx)
    assert_failed(result, elapsed, "dns_answer")
    assert result.message == "no AAAA records for alias.test"


async def test_nxdomain(server: str, ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(dns_monitor("nope.test", server), ctx)
    assert_failed(result, elapsed, "dns_nxdomain")
    assert result.message == "nope.test does not exist (NXDOMAIN)"


async def test_servfail(server: str, ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(dns_monitor(SERVFAIL_NAME, server), ctx)
    assert_failed(result, elapsed, "dns_servfail")
    assert result.message == "DNS server failed (SERVFAIL)"


async def test_silent_server_times_out_before_the_deadline(server: str, ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(dns_monitor(SILENT_NAME, server), ctx)
    assert_failed(result, elapsed, "timeout")
    # dnspython gave up on its own (its lifetime is just under the hard deadline).
    assert result.message == "no DNS answer within 900ms"


async def test_unreachable_local_server_is_inconclusive(ctx: ProbeContext) -> None:
    # A resolver on loopback is statuswatch's own: its silence says nothing about the name.
    result, elapsed = await timed_probe(dns_monitor("www.test", f"127.0.0.1:{refused_port()}"), ctx)
    assert result.error_class in ("connect", "timeout") and elapsed < 2.5
    assert result.inconclusive == "resolver"
