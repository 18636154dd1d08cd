"""dns probe: resolve one name and check the answer holds every expected value."""

from __future__ import annotations

import asyncio
import ipaddress

import dns.exception
import dns.rcode
import dns.resolver

from statuswatch.config.durations import format_duration
from statuswatch.config.model import DnsMonitor
from statuswatch.probes.base import ErrorClass, Observation, ProbeFailure
from statuswatch.probes.context import ProbeContext, mark_resolving


async def probe(monitor: DnsMonitor, ctx: ProbeContext) -> Observation:
    """Query the record and fail unless the answer contains all of `expect`."""
    kind, name = monitor.record_type, monitor.query
    lifetime = _lifetime(monitor)
    mark_resolving(True, monitor.server)
    try:
        # dnspython checks its lifetime only between tries (after a back-off sleep), so it can
        # overrun it; our own timeout makes "just before the hard deadline" exact.
        async with asyncio.timeout(lifetime):
            answer = await ctx.resolver(monitor.server).resolve(
                name, kind, lifetime=lifetime, search=False
            )
    except dns.resolver.NXDOMAIN as exc:
        raise ProbeFailure(ErrorClass.DNS_NXDOMAIN, f"{name} does not exist (NXDOMAIN)") from exc
    except dns.resolver.NoAnswer as exc:
        raise ProbeFailure(ErrorClass.DNS_ANSWER, f"no {kind} records for {name}") from exc
    except dns.resolver.NoNameservers as exc:
        raise _server_failure(exc, monitor.server) from exc
    except (dns.exception.Timeout, TimeoutError) as exc:
        raise ProbeFailure(
            ErrorClass.TIMEOUT,
            f"no DNS answer within {format_duration(lifetime)}",
            resolver=monitor.server,
        ) from exc
    except dns.exception.DNSException as exc:
        raise ProbeFailure(ErrorClass.DNS_ANSWER, f"bad DNS answer: {exc}") from exc
    mark_resolving(False)
    got = sorted({_normalize(kind, rdata.to_text()) for rdata in answer})
    missing = [want for want in monitor.expect if _normalize(kind, want) not in got]
    if missing:
        raise ProbeFailure(
            ErrorClass.DNS_ANSWER,
            f"{kind} {name} is {', '.join(got)}; missing {', '.join(missing)}",
        )
    return Observation(message=f"{kind} {name} is {', '.join(got)}")


def _lifetime(monitor: DnsMonitor) -> float:
    """Give dnspython slightly less than the hard deadline, so it reports its own timeout."""
    assert monitor.timeout is not None
    return max(monitor.timeout - min(0.25, monitor.timeout / 10), 0.05)


def _normalize(kind: str, value: str) -> str:
    """Canonical text for comparing: addresses parsed, names without the final dot, lower-case."""
    value = value.strip()
    if kind in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return value.lower()
    return value.rstrip(".").lower()


def _server_failure(exc: dns.resolver.NoNameservers, server: str | None) -> ProbeFailure:
    """Name what the servers said (SERVFAIL, REFUSED, ...) or that none could be reached."""
    rcodes: list[str] = []
    unreachable: list[str] = []
    for *_, error, response in exc.kwargs.get("errors") or []:
        if response is not None:
            rcodes.append(dns.rcode.to_text(response.rcode()))
        elif isinstance(error, OSError):
            unreachable.append(str(error))
    if not rcodes and unreachable:
        return ProbeFailure(
            ErrorClass.CONNECT, f"cannot reach DNS server: {unreachable[0]}", resolver=server
        )
    text = ", ".join(dict.fromkeys(rcodes)) or "no usable answer"
    # SERVFAIL is an answer about this name; a server that refuses every query is not one.
    refused = bool(rcodes) and set(rcodes) == {"REFUSED"}
    return ProbeFailure(
        ErrorClass.DNS_SERVFAIL,
        f"DNS server failed ({text})",
        resolver=server if refused else False,
    )
