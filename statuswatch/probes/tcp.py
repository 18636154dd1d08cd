"""tcp probe: connect, optionally send a greeting and wait for an expected reply."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import socket
import ssl

from statuswatch.config.model import TcpMonitor
from statuswatch.probes.base import ErrorClass, Observation, ProbeFailure
from statuswatch.probes.context import ProbeContext, mark_resolving

# A banner or a reply to a greeting is small; a target that streams forever must not grow memory.
READ_CAP = 64 * 1024


async def probe(monitor: TcpMonitor, ctx: ProbeContext) -> Observation:
    """Connect to host:port; send `send` and read until `expect` appears, when configured."""
    loop = asyncio.get_running_loop()
    assert monitor.timeout is not None
    # Give up reading a little before the hard deadline, so a wrong reply is reported as such
    # rather than as a bare timeout.
    read_deadline = loop.time() + monitor.timeout - min(0.25, monitor.timeout / 10)
    # The lookup happens inside open_connection: a deadline during it may be the resolver's.
    mark_resolving(not is_address(monitor.host))
    try:
        reader, writer = await asyncio.open_connection(monitor.host, monitor.port, limit=READ_CAP)
    except OSError as exc:
        raise connect_failure(exc, monitor.host) from exc
    mark_resolving(False)
    try:
        if monitor.send:
            writer.write(monitor.send.encode())
            await writer.drain()
        if monitor.expect:
            await _read_until(reader, monitor.expect.encode(), read_deadline)
    except BaseException as exc:
        # A hanging or hostile peer gets no graceful goodbye: close() could wait on its window.
        writer.transport.abort()
        if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
            raise connect_failure(exc, monitor.host) from exc
        raise
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Observation(message=f"connected to {monitor.host}:{monitor.port}")


async def _read_until(reader: asyncio.StreamReader, expect: bytes, deadline: float) -> None:
    """Read until `expect` appears; fail on EOF, at the deadline, or after READ_CAP bytes."""
    buf = b""
    try:
        async with asyncio.timeout_at(deadline):
            while expect not in buf:
                if len(buf) >= READ_CAP:
                    raise ProbeFailure(
                        ErrorClass.PROTOCOL, f"no {_show(expect)} in the first 64 KiB"
                    )
                chunk = await reader.read(READ_CAP - len(buf))
                if not chunk:
                    raise _unexpected(expect, buf, "connection closed")
                buf += chunk
    except TimeoutError:
        if not buf:
            raise  # silence: the runner reports it as a timeout
        raise _unexpected(expect, buf, "no more data") from None


def _unexpected(expect: bytes, got: bytes, why: str) -> ProbeFailure:
    """A protocol failure quoting what the peer sent instead."""
    seen = f", got {_show(got)}" if got else ""
    return ProbeFailure(ErrorClass.PROTOCOL, f"{why} before {_show(expect)}{seen}")


def _show(data: bytes, limit: int = 60) -> str:
    """Quote received bytes for a message: decoded, short, control characters escaped."""
    text = data[:limit].decode("utf-8", "replace")
    return repr(text) + ("…" if len(data) > limit else "")


def connect_failure(exc: OSError, host: str) -> ProbeFailure:
    """Classify an error from connecting (or right after) as dns, tls or connect."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ProbeFailure(ErrorClass.TLS, cert_error_message(exc))
    if isinstance(exc, ssl.SSLError):
        reason = str(exc.reason or exc).replace("_", " ").lower()
        return ProbeFailure(ErrorClass.TLS, f"TLS handshake failed: {reason}")
    if isinstance(exc, socket.gaierror):
        return lookup_failure(exc, f"cannot resolve {host}: {exc.strerror or exc}")
    # Several addresses (IPv6 + IPv4) failing differently come back as one plain OSError.
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return ProbeFailure(ErrorClass.CONNECT, "connection refused")
    if isinstance(exc, ConnectionResetError) or exc.errno == errno.ECONNRESET:
        return ProbeFailure(ErrorClass.CONNECT, "connection reset")
    if isinstance(exc, ConnectionError):
        return ProbeFailure(ErrorClass.CONNECT, "connection closed by the server")
    if "refused" in str(exc).lower():
        return ProbeFailure(ErrorClass.CONNECT, "connection refused")
    return ProbeFailure(ErrorClass.CONNECT, f"cannot connect: {exc.strerror or exc}")


def lookup_failure(exc: BaseException | None, message: str) -> ProbeFailure:
    """A failed name lookup (through the system's resolver) as a dns failure."""
    # "No such name" is the resolver answering; anything else may be the resolver's silence.
    answered = isinstance(exc, socket.gaierror) and exc.errno in (
        socket.EAI_NONAME,
        getattr(socket, "EAI_NODATA", None),
    )
    return ProbeFailure(ErrorClass.DNS, message, resolver=False if answered else None)


def is_address(host: str) -> bool:
    """Whether `host` is an IP address (connecting to it needs no lookup)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def cert_error_message(exc: ssl.SSLError) -> str:
    """OpenSSL's reason for rejecting a certificate, as a short lower-case phrase."""
    text = getattr(exc, "verify_message", None) or exc.reason or str(exc)
    text = str(text).rstrip(".")
    # "Hostname mismatch" reads better lower-cased; "IP address mismatch" must keep its case.
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
