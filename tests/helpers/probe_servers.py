"""Real local servers that behave and misbehave, and monitor builders, for the probe tests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import msgspec
import trustme

from statuswatch.config.durations import Duration
from statuswatch.config.model import DnsMonitor, HttpMonitor, TcpMonitor, TlsMonitor
from statuswatch.probes import CheckResult, ProbeContext, run_probe

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
TIMEOUT = 1.0  # the hard deadline most failure tests use
SLACK = 0.5  # how late past the deadline a result may come

_COMMON: dict[str, Any] = {
    "id": "m",
    "component": "c",
    "interval": Duration(60),
    "timeout": Duration(TIMEOUT),
    "confirm_failures": 2,
    "confirm_recoveries": 1,
}


def http_monitor(url: str, **kw: Any) -> HttpMonitor:
    return msgspec.structs.replace(HttpMonitor(url=url, **_COMMON), **kw)


def tcp_monitor(port: int, host: str = "127.0.0.1", **kw: Any) -> TcpMonitor:
    return msgspec.structs.replace(TcpMonitor(host=host, port=port, **_COMMON), **kw)


def tls_monitor(port: int, host: str = "127.0.0.1", **kw: Any) -> TlsMonitor:
    return msgspec.structs.replace(TlsMonitor(host=host, port=port, **_COMMON), **kw)


def dns_monitor(query: str, server: str, **kw: Any) -> DnsMonitor:
    return msgspec.structs.replace(DnsMonitor(query=query, server=server, **_COMMON), **kw)


async def timed_probe(monitor: Any, ctx: ProbeContext) -> tuple[CheckResult, float]:
    """Run a monitor through the real runner; return its result and the wall time taken."""
    t0 = time.perf_counter()
    result = await run_probe(monitor, ctx)
    assert result is not None
    return result, time.perf_counter() - t0


def assert_failed(result: CheckResult, elapsed: float, error_class: str) -> None:
    """The check failed with exactly `error_class`, within the deadline plus slack."""
    assert not result.ok, result
    assert result.error_class == error_class, result
    assert result.inconclusive is None, result  # the target's failure, not statuswatch's own
    assert elapsed < TIMEOUT + SLACK, elapsed


# --- raw TCP servers -------------------------------------------------------------------------


class RawServer:
    """An asyncio TCP (or TLS) server on 127.0.0.1 running `handler` per connection."""

    def __init__(self, handler: Handler, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.port = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handler(reader, writer)
        except (OSError, asyncio.CancelledError):
            pass  # the probe hung up or the test is over
        finally:
            writer.transport.abort()
            self._tasks.discard(task)

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}/"


async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept, then never say anything."""
    await asyncio.Event().wait()


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Send a valid-looking HTTP response one byte per second."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(1)


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0, so the peer gets a TCP RST."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer an HTTP request with something that is not HTTP."""
    await reader.readline()
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff\xfe garbage \r\n\r\n")
    await writer.drain()
    await reader.read()


def banner(text: bytes, *, then_close: bool = False) -> Handler:
    """Send a greeting, then keep the connection open (or close it)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(text)
        await writer.drain()
        if not then_close:
            await reader.read()

    return handler


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo every line back."""
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()


async def wait_eof(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Hold the (TLS) connection open until the client leaves."""
    await reader.read()


def refused_port() -> int:
    """A local port with nothing listening (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- compressed bodies -----------------------------------------------------------------------


def gzip_bomb_chunks(total: int = 1 << 30) -> Iterator[bytes]:
    """A gzip stream of `total` zero bytes, about total/1000 bytes long, made in milliseconds.

    After a full flush deflate restarts without history, so every further MiB of zeros
    compresses to the same bytes: compress one MiB twice and repeat the second result.
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    yield comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    unit = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    for _ in range(total // len(block) - 1):
        yield unit


# --- TLS -------------------------------------------------------------------------------------


def server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    return ctx


def self_signed_context(ca: trustme.CA, tmp_path: Path) -> ssl.SSLContext:
    """A server presenting a self-signed certificate (an untrusted CA's own)."""
    pem = tmp_path / "self-signed.pem"
    pem.write_bytes(ca.cert_pem.bytes() + ca.private_key_pem.bytes())
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pem)
    return ctx


def issue(ca: trustme.CA, *, days: float | None = None, expired: bool = False) -> trustme.LeafCert:
    """A leaf for 127.0.0.1 and localhost, valid `days` more days (or expired yesterday)."""
    now = datetime.now(UTC)
    if expired:
        return ca.issue_cert(
            "127.0.0.1",
            "localhost",
            not_before=now - timedelta(days=30),
            not_after=now - timedelta(days=1),
        )
    after = now + timedelta(days=days) if days is not None else None
    return ca.issue_cert("127.0.0.1", "localhost", not_after=after)


def bad_tls_context(case: str, ca: trustme.CA, tmp_path: Path) -> ssl.SSLContext:
    """A server context whose certificate a client trusting `ca` rejects, for one reason."""
    if case == "unknown_ca":
        return server_context(issue(trustme.CA()))
    if case == "self_signed":
        return self_signed_context(trustme.CA(), tmp_path)
    if case == "expired":
        return server_context(issue(ca, expired=True))
    assert case == "wrong_host"
    return server_context(ca.issue_cert("other.example"))


def not_after(cert: trustme.LeafCert) -> float:
    from cryptography import x509

    pem = cert.cert_chain_pems[0].bytes()
    return x509.load_pem_x509_certificate(pem).not_valid_after_utc.timestamp()


# --- DNS -------------------------------------------------------------------------------------

DNS_RECORDS = {
    ("www.test.", "A"): ["192.0.2.10", "192.0.2.11"],
    ("www.test.", "AAAA"): ["2001:db8::1"],
    ("alias.test.", "CNAME"): ["Target.Example.COM."],
}
SERVFAIL_NAME = "broken.test."
SILENT_NAME = "silent.test."


class _DnsProtocol(asyncio.DatagramProtocol):
    """Answers from DNS_RECORDS; NXDOMAIN for unknown names, SERVFAIL or silence for two."""

    transport: Any

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text().lower()
        kind = dns.rdatatype.to_text(question.rdtype)
        if name == SILENT_NAME:
            return
        response = dns.message.make_response(query)
        if name == SERVFAIL_NAME:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif (name, kind) in DNS_RECORDS:
            values = DNS_RECORDS[(name, kind)]
            response.answer.append(dns.rrset.from_text_list(name, 60, "IN", kind, values))
        elif not any(known == name for known, _ in DNS_RECORDS):
            response.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(response.to_wire(), addr)


@contextlib.asynccontextmanager
async def dns_server() -> AsyncIterator[str]:
    """A UDP DNS server on 127.0.0.1; yields its "host:port"."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_DnsProtocol, local_addr=("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{transport.get_extra_info('sockname')[1]}"
    finally:
        transport.close()
