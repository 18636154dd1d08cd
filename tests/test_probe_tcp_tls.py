"""The tcp and tls probes against real local servers, through the real runner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from statuswatch.clock import FakeClock
from statuswatch.probes import ProbeContext
from tests.helpers.probe_servers import (
    RawServer,
    assert_failed,
    bad_tls_context,
    banner,
    echo,
    hang,
    issue,
    not_after,
    refused_port,
    reset,
    server_context,
    tcp_monitor,
    timed_probe,
    tls_monitor,
    wait_eof,
)

# --- tcp -------------------------------------------------------------------------------------


async def test_tcp_connects(ctx: ProbeContext) -> None:
    async with RawServer(hang) as target:
        result, _ = await timed_probe(tcp_monitor(target.port), ctx)
    assert result.ok and result.message == f"connected to 127.0.0.1:{target.port}"


async def test_tcp_banner_matches(ctx: ProbeContext) -> None:
    async with RawServer(banner(b"220 mail.test ESMTP ready\r\n")) as target:
        result, _ = await timed_probe(tcp_monitor(target.port, expect="220 "), ctx)
    assert result.ok, result


async def test_tcp_banner_mismatch_while_open(ctx: ProbeContext) -> None:
    async with RawServer(banner(b"220 mail.test ESMTP ready\r\n")) as target:
        result, elapsed = await timed_probe(tcp_monitor(target.port, expect="SSH-2.0"), ctx)
    assert_failed(result, elapsed, "protocol")
    assert result.message == "no more data before 'SSH-2.0', got '220 mail.test ESMTP ready\\r\\n'"


async def test_tcp_banner_mismatch_then_close(ctx: ProbeContext) -> None:
    async with RawServer(banner(b"hello\n", then_close=True)) as target:
        result, elapsed = await timed_probe(tcp_monitor(target.port, expect="SSH-2.0"), ctx)
    assert_failed(result, elapsed, "protocol")
    assert result.message == "connection closed before 'SSH-2.0', got 'hello\\n'"
    assert elapsed < 0.5  # decided at EOF, not at the deadline


async def test_tcp_endless_stream_is_capped(ctx: ProbeContext) -> None:
    async with RawServer(banner(b"x" * (1 << 20))) as target:
        result, elapsed = await timed_probe(tcp_monitor(target.port, expect="SSH-2.0"), ctx)
    assert_failed(result, elapsed, "protocol")
    assert result.message == "no 'SSH-2.0' in the first 64 KiB"


async def test_tcp_send_and_expect_echo(ctx: ProbeContext) -> None:
    async with RawServer(echo) as target:
        monitor = tcp_monitor(target.port, send="PING statuswatch\r\n", expect="PING statuswatch")
        result, _ = await timed_probe(monitor, ctx)
    assert result.ok, result


async def test_tcp_silent_server_times_out(ctx: ProbeContext) -> None:
    async with RawServer(hang) as target:
        result, elapsed = await timed_probe(tcp_monitor(target.port, expect="220"), ctx)
    assert_failed(result, elapsed, "timeout")


async def test_tcp_refused(ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(tcp_monitor(refused_port()), ctx)
    assert_failed(result, elapsed, "connect")
    assert result.message == "connection refused"


async def test_tcp_reset(ctx: ProbeContext) -> None:
    async with RawServer(reset) as target:
        result, elapsed = await timed_probe(tcp_monitor(target.port, expect="220"), ctx)
    assert_failed(result, elapsed, "connect")
    assert result.message == "connection reset"


async def test_tcp_unresolvable(ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(tcp_monitor(80, host="nonexistent.invalid"), ctx)
    assert_failed(result, elapsed, "dns")


# --- tls -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


async def test_tls_valid_records_expiry(ctx: ProbeContext, ca: trustme.CA, ca_file: str) -> None:
    cert = issue(ca, days=90)
    async with RawServer(wait_eof, ssl_context=server_context(cert)) as target:
        monitor = tls_monitor(target.port, server_name="localhost", ca_file=ca_file)
        result, _ = await timed_probe(monitor, ctx)
    assert result.ok and not result.degraded, result
    assert result.cert_expiry == not_after(cert)
    assert result.message == "certificate valid for 89 days"


async def test_tls_near_expiry_is_degraded(ctx: ProbeContext, ca: trustme.CA, ca_file: str) -> None:
    cert = issue(ca, days=5.5)
    async with RawServer(wait_eof, ssl_context=server_context(cert)) as target:
        monitor = tls_monitor(target.port, ca_file=ca_file, warn_days=14)
        result, _ = await timed_probe(monitor, ctx)
    assert result.ok and result.degraded, result
    assert result.message == "certificate expires in 5 days"
    assert result.cert_expiry == not_after(cert)


async def test_tls_expiry_uses_the_injected_clock(ca: trustme.CA, ca_file: str) -> None:
    cert = issue(ca, days=30)
    later = datetime.now(UTC) + timedelta(days=31)
    ctx = ProbeContext(FakeClock(later.timestamp()))
    try:
        async with RawServer(wait_eof, ssl_context=server_context(cert)) as target:
            result, elapsed = await timed_probe(tls_monitor(target.port, ca_file=ca_file), ctx)
    finally:
        await ctx.close()
    assert_failed(result, elapsed, "tls")
    assert result.message == "certificate has expired" and result.cert_expiry == not_after(cert)


@pytest.mark.parametrize(
    ("case", "server_name", "message"),
    [
        ("unknown_ca", None, "unable to get local issuer certificate"),
        ("self_signed", None, "self-signed certificate"),
        ("expired", None, "certificate has expired"),
        ("wrong_host", "localhost", "hostname mismatch, certificate is not valid for 'localhost'"),
    ],
)
async def test_tls_bad_certificate(
    ctx: ProbeContext,
    ca: trustme.CA,
    ca_file: str,
    tmp_path: Path,
    case: str,
    server_name: str | None,
    message: str,
) -> None:
    async with RawServer(wait_eof, ssl_context=bad_tls_context(case, ca, tmp_path)) as target:
        monitor = tls_monitor(target.port, server_name=server_name, ca_file=ca_file)
        result, elapsed = await timed_probe(monitor, ctx)
    assert_failed(result, elapsed, "tls")
    assert result.message == message


async def test_tls_server_name_mismatch(ctx: ProbeContext, ca: trustme.CA, ca_file: str) -> None:
    async with RawServer(wait_eof, ssl_context=server_context(issue(ca))) as target:
        monitor = tls_monitor(target.port, server_name="wrong.example", ca_file=ca_file)
        result, elapsed = await timed_probe(monitor, ctx)
    assert_failed(result, elapsed, "tls")
    assert "wrong.example" in result.message


async def test_tls_against_plain_tcp(ctx: ProbeContext, ca_file: str) -> None:
    async with RawServer(banner(b"220 not tls at all\r\n")) as target:
        result, elapsed = await timed_probe(tls_monitor(target.port, ca_file=ca_file), ctx)
    assert_failed(result, elapsed, "tls")


async def test_tls_handshake_hangs(ctx: ProbeContext, ca_file: str) -> None:
    async with RawServer(hang) as target:
        result, elapsed = await timed_probe(tls_monitor(target.port, ca_file=ca_file), ctx)
    assert_failed(result, elapsed, "timeout")


async def test_tls_refused(ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(tls_monitor(refused_port()), ctx)
    assert_failed(result, elapsed, "connect")
