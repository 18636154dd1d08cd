"""Which phase of an http monitor's last check got slow, against that phase's usual duration.

A phase's usual duration is its median over the monitor's passing raw checks of the last 24 h
(failures are left out: a timeout says nothing about how long a phase usually takes). The last
check's phase is slow when it took at least twice its median and at least 10 ms more: the ratio
alone would call a local connect of 0.5 ms against 0.2 ms slow, the margin alone would miss a
processing time that doubled from 400 ms. Pure apart from `load_phases`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import median
from zoneinfo import ZoneInfo

from statuswatch.config.model import Monitor
from statuswatch.probes.base import CheckResult
from statuswatch.probes.phases import PHASES
from statuswatch.site.stamps import Stamp, stamp
from statuswatch.store import StoreProtocol

WINDOW = 86400  # the usual duration is taken over the last 24 h
SLOW_RATIO = 2.0
SLOW_MARGIN = 0.010  # seconds
MIN_SAMPLES = 3  # fewer passing checks than this: no "usual" to compare with

LABELS = {
    "resolve": "DNS lookup",
    "connect": "TCP connect",
    "tls": "TLS handshake",
    "processing": "Processing (request sent to first response byte)",
    "transfer": "Transfer (reading the body)",
}


@dataclass(frozen=True, slots=True)
class PhaseRow:
    phase: str
    label: str
    last: str  # the last check's duration, or "not reached"
    usual: str  # the median, or "—" without enough checks
    slow: bool


@dataclass(frozen=True, slots=True)
class MonitorPhases:
    name: str
    checked: Stamp
    rows: tuple[PhaseRow, ...]
    samples: int  # passing checks with phases the medians come from
    summary: str  # which phase got slow, in words


def seconds_text(seconds: float) -> str:
    """A phase duration for people: 0 ms, 0.25 ms, 4.2 ms, 312 ms, 2.41 s."""
    ms = seconds * 1000
    if ms == 0:  # plain http's tls, a reused connection's connect
        return "0 ms"
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{seconds:.2f} s"


def usual_durations(history: Iterable[CheckResult]) -> tuple[dict[str, float], int]:
    """Each phase's median over the passing checks that timed it, and how many checks those were."""
    values: dict[str, list[float]] = {}
    samples = 0
    for check in history:
        if not check.ok or check.phases is None:
            continue
        samples += 1
        for phase, secs in check.phases:
            values.setdefault(phase, []).append(secs)
    return {p: median(v) for p, v in values.items() if len(v) >= MIN_SAMPLES}, samples


def is_slow(last: float, usual: float) -> bool:
    """Twice the usual duration and 10 ms more at least (see the module's docstring)."""
    return last >= SLOW_RATIO * usual and last - usual >= SLOW_MARGIN


def monitor_phases(
    name: str, last: CheckResult, history: Sequence[CheckResult], tz: ZoneInfo
) -> MonitorPhases:
    """The last check's phases beside their usual durations, with the slow ones named."""
    usual, samples = usual_durations(history)
    got = dict(last.phases or ())
    rows = []
    for phase in PHASES:
        secs, typical = got.get(phase), usual.get(phase)
        slow = secs is not None and typical is not None and is_slow(secs, typical)
        rows.append(
            PhaseRow(
                phase,
                LABELS[phase],
                "not reached" if secs is None else seconds_text(secs),
                "—" if typical is None else seconds_text(typical),
                slow,
            )
        )
    return MonitorPhases(name, stamp(last.time, tz), tuple(rows), samples, _summary(last, rows))


def _summary(last: CheckResult, rows: list[PhaseRow]) -> str:
    """One sentence: the slow phases, or where a failed check stopped, or that all was usual."""
    slow = [r for r in rows if r.slow]
    if slow:
        said = "; ".join(f"{r.label.split(' (')[0]} took {r.last}, usually {r.usual}" for r in slow)
        return f"Slower than usual: {said}."
    if last.phases is None:
        return "The last check finished no phase."
    if not last.ok:
        # Transfer is left out: its absence also means the body was simply not read.
        stopped = next((r for r in rows[:-1] if r.last == "not reached"), None)
        if stopped is not None:
            return f"The last check failed during {stopped.label.split(' (')[0]}."
    if not any(r.usual != "—" for r in rows):
        return "Not enough checks in the last 24 hours yet to say what is usual."
    return "No phase was slower than usual."


async def load_phases(
    store: StoreProtocol, monitors: Iterable[Monitor], now: float, tz: ZoneInfo
) -> list[MonitorPhases]:
    """The phase view of each http monitor with a last result (other kinds are not timed)."""
    http = [m for m in monitors if m.kind == "http"]
    if not http:
        return []
    last = await store.last_results()
    out = []
    for m in http:
        result = last.get(m.id)
        if result is None:
            continue
        history = await store.checks(m.id, since=now - WINDOW, until=now + 1)
        out.append(monitor_phases(m.name or m.id, result, history, tz))
    return out
