"""Probe kinds behind one signature, chosen from a registry (no type switch elsewhere)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from dns.exception import DNSException

from statuswatch.config.model import Monitor
from statuswatch.probes import dns, http, push, tcp, tls
from statuswatch.probes.base import (
    CheckResult,
    ErrorClass,
    Inconclusive,
    Observation,
    ProbeFailure,
)
from statuswatch.probes.context import Attempt, ProbeContext, current_attempt
from statuswatch.probes.inconclusive import exhaustion, own_resolver, stalled

log = logging.getLogger(__name__)

ProbeFn = Callable[[Any, ProbeContext], Awaitable[Observation | None]]

PROBES: dict[str, ProbeFn] = {
    "http": http.probe,
    "tcp": tcp.probe,
    "tls": tls.probe,
    "dns": dns.probe,
    "push": push.probe,
}


async def run_probe(
    monitor: Monitor, ctx: ProbeContext, *, lateness: float = 0.0
) -> CheckResult | None:
    """Run one check under its hard deadline; always return a classified result (or None).

    `lateness` is how long after its slot the run started (the scheduler's measure). A failure
    that was statuswatch's own comes back with its `inconclusive` reason (probes/inconclusive.py).
    """
    started = ctx.clock.time()
    t0 = time.perf_counter()  # latency is a real measurement of I/O, not injected logic time
    assert monitor.timeout is not None
    if stalled(lateness, None, monitor.timeout):  # its deadline passed before it could start
        message = f"started {lateness:.1f}s after its slot, past its {monitor.timeout:g}s timeout"
        fail = ProbeFailure(ErrorClass.TIMEOUT, message)
        return _failed(monitor, started, t0, fail, Inconclusive.STALLED)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + monitor.timeout
    attempt = Attempt()
    token = current_attempt.set(attempt)
    try:
        async with asyncio.timeout_at(deadline):
            obs = await PROBES[monitor.kind](monitor, ctx)
    except ProbeFailure as exc:
        fail = exc
    except TimeoutError:
        message = f"no answer within {monitor.timeout:g}s"
        fail = ProbeFailure(ErrorClass.TIMEOUT, message, resolver=attempt.resolver)
    except Exception as exc:  # a probe bug must not kill the loop or hide as "up"
        reason = exhaustion(exc)
        if reason is None:  # running out of descriptors is no bug: no traceback per check
            log.exception("probe %s crashed", monitor.id)
        fail = ProbeFailure(ErrorClass.INTERNAL, f"internal error: {type(exc).__name__}")
        return _failed(monitor, started, t0, fail, reason, _phases(attempt))
    else:
        if obs is None:
            return None
        return CheckResult(
            monitor.id,
            started,
            True,
            time.perf_counter() - t0,
            obs.status_code,
            None,
            obs.message[:300],
            obs.degraded,
            obs.cert_expiry,
            None,
            _phases(attempt),
        )
    finally:
        current_attempt.reset(token)
    overrun = loop.time() - deadline
    reason = await _own_fault(fail, ctx, overrun, monitor.timeout)
    if reason is Inconclusive.STALLED:
        fail.message += f" (the event loop was blocked {overrun:.1f}s past the deadline)"
    return _failed(monitor, started, t0, fail, reason, _phases(attempt))


def _phases(attempt: Attempt) -> tuple[tuple[str, float], ...] | None:
    """The phases the check finished, when its probe kind times them (http)."""
    return None if attempt.phases is None else attempt.phases.result()


async def _own_fault(
    fail: ProbeFailure, ctx: ProbeContext, overrun: float, limit: float
) -> Inconclusive | None:
    """Why this failure is statuswatch's own (descriptors, memory, stalled, resolver), if it is."""
    reason = exhaustion(fail)
    if reason is not None:
        return reason
    if fail.error_class is ErrorClass.TIMEOUT and stalled(0.0, overrun, limit):
        return Inconclusive.STALLED
    server = fail.resolver
    if isinstance(server, bool) or not own_resolver(server):
        return None
    try:
        resolver = ctx.resolver(server)
    except DNSException:  # no resolv.conf: nothing to ask, so nothing proven
        return None
    return await ctx.resolver_health.verdict(resolver, server)


def _failed(
    monitor: Monitor,
    started: float,
    t0: float,
    fail: ProbeFailure,
    inconclusive: Inconclusive | None = None,
    phases: tuple[tuple[str, float], ...] | None = None,
) -> CheckResult:
    return CheckResult(
        monitor.id,
        started,
        False,
        time.perf_counter() - t0,
        fail.status_code,
        fail.error_class.value,
        fail.message[:300],
        False,
        fail.cert_expiry,
        None if inconclusive is None else inconclusive.value,
        phases,
    )


__all__ = [
    "PROBES",
    "CheckResult",
    "ErrorClass",
    "Inconclusive",
    "Observation",
    "ProbeContext",
    "ProbeFailure",
    "run_probe",
]
