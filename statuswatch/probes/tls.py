"""tls probe: handshake with hostname verification and judge the certificate's expiry."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from statuswatch.config.model import TlsMonitor
from statuswatch.probes.base import ErrorClass, Observation, ProbeFailure
from statuswatch.probes.context import ProbeContext, mark_resolving
from statuswatch.probes.tcp import connect_failure, is_address

DAY = 86400.0


async def probe(monitor: TlsMonitor, ctx: ProbeContext) -> Observation:
    """Complete a verified TLS handshake and check the certificate is not about to expire."""
    sslctx = ctx.ssl_context(verify=True, ca_file=monitor.ca_file)
    loop = asyncio.get_running_loop()
    mark_resolving(not is_address(monitor.host))
    try:
        transport, _ = await loop.create_connection(
            asyncio.Protocol,
            monitor.host,
            monitor.port,
            ssl=sslctx,
            server_hostname=monitor.server_name or monitor.host,
        )
    except OSError as exc:
        raise connect_failure(exc, monitor.host) from exc
    mark_resolving(False)
    try:
        expiry = peer_cert_expiry(transport.get_extra_info("ssl_object"))
    finally:
        # Only the handshake matters; aborting skips a close_notify exchange a hostile peer
        # could stall (aiohttp does the same for its TLS connections).
        transport.abort()
    return judge_expiry(expiry, ctx.clock.time(), monitor.warn_days)


def judge_expiry(expiry: float | None, now: float, warn_days: int) -> Observation:
    """Pass, pass degraded within `warn_days` of expiry, or fail once expired (by `now`)."""
    if expiry is None:
        return Observation(message="certificate valid")
    left = expiry - now
    if left <= 0:
        raise ProbeFailure(ErrorClass.TLS, "certificate has expired", cert_expiry=expiry)
    days = int(left // DAY)
    text = f"{days} day{'' if days == 1 else 's'}"
    if left < warn_days * DAY:
        return Observation(
            degraded=True, message=f"certificate expires in {text}", cert_expiry=expiry
        )
    return Observation(message=f"certificate valid for {text}", cert_expiry=expiry)


def peer_cert_expiry(sslobj: ssl.SSLObject | ssl.SSLSocket | None) -> float | None:
    """The peer certificate's notAfter as epoch seconds, or None when it cannot be read."""
    if sslobj is None:
        return None
    cert: dict[str, Any] = sslobj.getpeercert() or {}
    if "notAfter" in cert:
        return float(ssl.cert_time_to_seconds(cert["notAfter"]))
    # With verification off the stdlib only hands out the DER bytes, and has no parser for them.
    der = sslobj.getpeercert(binary_form=True)
    return _der_not_after(der) if der else None


def _der_not_after(der: bytes) -> float | None:
    """Parse notAfter from DER with `cryptography` when present (not a hard dependency)."""
    try:
        from cryptography import x509
    except ImportError:
        return None
    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()
    except ValueError:
        return None
