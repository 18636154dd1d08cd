"""http probe: one request (redirects followed by hand), judged on status, body and latency."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from statuswatch.config.durations import format_duration
from statuswatch.config.model import HttpMonitor
from statuswatch.probes.base import ErrorClass, Observation, ProbeFailure
from statuswatch.probes.context import ProbeContext, current_attempt, tls_peer_hook
from statuswatch.probes.http_body import check_body, has_body_check, read_capped
from statuswatch.probes.phases import PhaseTimer
from statuswatch.probes.proxies import DIRECT
from statuswatch.probes.tcp import cert_error_message, connect_failure, lookup_failure
from statuswatch.probes.tls import peer_cert_expiry

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Headers that must not follow a redirect to another origin (they carry the monitor's secrets).
PRIVATE_HEADERS = ("Authorization", "Cookie", "Proxy-Authorization")


@dataclass(slots=True)
class _Seen:
    """What the probe learned so far, so a later failure still reports it."""

    status: int | None = None
    expiry: float | None = None
    timer: PhaseTimer | None = None  # None outside run_probe: nobody to report phases to

    def record_peer(self, sslobj: ssl.SSLObject | None) -> None:
        """Note the certificate expiry of the connection a request is about to use."""
        self.expiry = peer_cert_expiry(sslobj)


async def probe(monitor: HttpMonitor, ctx: ProbeContext) -> Observation:
    """Request the URL and judge the final response against the monitor's expectations."""
    t0 = time.perf_counter()
    seen = _Seen()
    attempt = current_attempt.get()
    if attempt is not None:  # run_probe reads it back, even after its deadline cut us off
        attempt.phases = seen.timer = PhaseTimer()
    token = tls_peer_hook.set(seen.record_peer)
    try:
        await _fetch(monitor, ctx, seen)
    except ProbeFailure as fail:
        fail.status_code = fail.status_code or seen.status
        fail.cert_expiry = fail.cert_expiry or seen.expiry
        raise
    except TimeoutError:
        raise  # an OSError too, but it belongs to the runner's deadline
    except (aiohttp.ClientError, OSError) as exc:
        fail = _client_failure(exc)
        fail.status_code, fail.cert_expiry = seen.status, seen.expiry
        raise fail from exc
    finally:
        tls_peer_hook.reset(token)
    return _observe(monitor, seen, time.perf_counter() - t0)


async def _fetch(monitor: HttpMonitor, ctx: ProbeContext, seen: _Seen) -> None:
    """Follow at most `max_redirects` redirects, then check the final response."""
    session = ctx.session(reuse=monitor.reuse_connections)
    sslctx = ctx.ssl_context(verify=monitor.verify_tls, ca_file=monitor.ca_file)
    headers = CIMultiDict(monitor.headers)
    # The session does not decompress (so a bomb cannot blow memory); read_capped inflates.
    headers.setdefault("Accept-Encoding", "gzip, deflate")
    method, url, data = monitor.method, monitor.request_url, monitor.body
    for _hop in range(monitor.max_redirects + 1):
        seen.expiry = None  # the connector reports it again for an https hop
        route = DIRECT if ctx.proxies is None else ctx.proxies.route(url)
        async with session.request(
            method,
            url,
            data=data.encode() if data is not None else None,
            allow_redirects=False,
            ssl=sslctx,
            **route.options(url, headers),
        ) as resp:
            seen.status = resp.status
            if seen.timer is not None:
                seen.timer.headers()
            target = _redirect_target(monitor, resp)
            if target is None:
                await _check_response(monitor, resp, seen.timer)
                return
        if target.origin() != url.origin():
            for name in PRIVATE_HEADERS:
                headers.popall(name, None)
        method, data = _redirected_method(resp.status, method, data)
        url = target
    raise ProbeFailure(
        ErrorClass.TOO_MANY_REDIRECTS, f"more than {monitor.max_redirects} redirects"
    )


async def _check_response(
    monitor: HttpMonitor, resp: aiohttp.ClientResponse, timer: PhaseTimer | None
) -> None:
    """Check status, then the body only when a body check needs it."""
    if not any(lo <= resp.status <= hi for lo, hi in monitor.status_ranges):
        expected = ", ".join(str(spec) for spec in monitor.expect_status)
        raise ProbeFailure(ErrorClass.HTTP_STATUS, f"HTTP {resp.status}, expected {expected}")
    if has_body_check(monitor):
        body = await read_capped(resp, monitor.max_body_bytes)
        if timer is not None:
            timer.body_read()
        await check_body(monitor, body)
    # Otherwise the body is never read: leaving the context closes (or discards) the connection.


def _observe(monitor: HttpMonitor, seen: _Seen, latency: float) -> Observation:
    """The passing observation, degraded when slower than `degraded_after`."""
    status = seen.status
    if monitor.degraded_after is not None and latency > monitor.degraded_after:
        message = (
            f"HTTP {status} in {format_duration(latency)}, "
            f"slower than {format_duration(monitor.degraded_after)}"
        )
        return Observation(status, True, message, seen.expiry)
    return Observation(status, False, f"HTTP {status}", seen.expiry)


def _redirect_target(monitor: HttpMonitor, resp: aiohttp.ClientResponse) -> URL | None:
    """Where a redirect points, or None when this response is the one to judge."""
    location = resp.headers.get("Location")
    if not monitor.follow_redirects or resp.status not in REDIRECTS or not location:
        return None
    try:
        target = resp.url.join(URL(location))
    except ValueError as exc:
        raise ProbeFailure(ErrorClass.PROTOCOL, "invalid redirect location") from exc
    if target.scheme not in ("http", "https") or not target.host:
        raise ProbeFailure(ErrorClass.PROTOCOL, f"redirect to unsupported URL {location[:80]!r}")
    return target


def _redirected_method(status: int, method: str, data: str | None) -> tuple[str, str | None]:
    """303 (and 301/302 after POST, as browsers do) turns the next request into a bare GET."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET", None
    return method, data


def _client_failure(exc: BaseException) -> ProbeFailure:
    """Classify an aiohttp or socket error as dns, connect, tls or protocol."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return ProbeFailure(ErrorClass.TLS, cert_error_message(exc.certificate_error))
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return lookup_failure(exc.os_error, f"cannot resolve {exc.host}")
    if isinstance(exc, aiohttp.ClientConnectorError):  # also TLS handshake errors
        return connect_failure(exc.os_error, exc.host)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ProbeFailure(ErrorClass.CONNECT, "server closed the connection")
    if isinstance(exc, aiohttp.ClientResponseError):
        reason = str(exc.message).splitlines()[0].rstrip(":").lower()[:60]  # drop the hexdump
        return ProbeFailure(ErrorClass.PROTOCOL, f"invalid HTTP response: {reason}")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ProbeFailure(ErrorClass.PROTOCOL, "malformed or truncated body")
    if isinstance(exc, aiohttp.InvalidURL):
        return ProbeFailure(ErrorClass.PROTOCOL, f"invalid URL {str(exc.url)[:80]!r}")
    if isinstance(exc, OSError):
        return connect_failure(exc, "")
    return ProbeFailure(ErrorClass.PROTOCOL, f"HTTP client error: {type(exc).__name__}")
