"""Probe kinds behind one signature, chosen from a registry (no type switch elsewhere)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from statuswatch.config.model import Monitor
from statuswatch.probes import dns, http, push, tcp, tls
from statuswatch.probes.base import CheckResult, ErrorClass, Observation, ProbeFailure
from statuswatch.probes.context import ProbeContext

log = logging.getLogger(__name__)

ProbeFn = Callable[[Any, ProbeContext], Awaitable[Observation | None]]

PROBES: dict[str, ProbeFn] = {
    "http": http.probe,
    "tcp": tcp.probe,
    "tls": tls.probe,
    "dns": dns.probe,
    "push": push.probe,
}


async def run_probe(monitor: Monitor, ctx: ProbeContext) -> CheckResult | None:
    """Run one check under its hard deadline; always return a classified result (or None)."""
    started = ctx.clock.time()
    t0 = time.perf_counter()  # latency is a real measurement of I/O, not injected logic time
    assert monitor.timeout is not None
    try:
        async with asyncio.timeout(monitor.timeout):
            obs = await PROBES[monitor.kind](monitor, ctx)
    except ProbeFailure as fail:
        return _failed(monitor, started, t0, fail)
    except TimeoutError:
        message = f"no answer within {monitor.timeout:g}s"
        return _failed(monitor, started, t0, ProbeFailure(ErrorClass.TIMEOUT, message))
    except Exception as exc:  # a probe bug must not kill the loop or hide as "up"
        log.exception("probe %s crashed", monitor.id)
        message = f"internal error: {type(exc).__name__}"
        return _failed(monitor, started, t0, ProbeFailure(ErrorClass.INTERNAL, message))
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
    )


def _failed(monitor: Monitor, started: float, t0: float, fail: ProbeFailure) -> CheckResult:
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
    )


__all__ = [
    "PROBES",
    "CheckResult",
    "ErrorClass",
    "Observation",
    "ProbeContext",
    "ProbeFailure",
    "run_probe",
]
