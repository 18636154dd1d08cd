"""When statuswatch watched a component, and the gaps in between with their reasons. Pure.

A component is unobserved only while none of its monitors had evidence (sla.evidence); each
such interval is listed with why, in words, from the monitors' stored gaps: statuswatch was
stopped, or it failed itself (any other reason the monitor records: a stalled loop, descriptors
or memory run out, a dead local resolver; new reasons land here without a change), or the
monitor did not exist yet ("no data yet").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from statuswatch.site.stamps import Stamp, stamp
from statuswatch.sla.intervals import Interval
from statuswatch.store.models import Gap

STOPPED = "statuswatch was stopped"
OWN_FAULT = "statuswatch's own fault"
NOT_YET = "no data yet"
SHOWN = 20  # the newest gaps listed on a component page; the rest are counted


def reason_words(reason: str) -> str:
    """A stored gap reason in words: "stopped" is a stop, anything else statuswatch's fault."""
    if reason == "stopped":
        return STOPPED
    return f"{OWN_FAULT} ({reason})" if reason else OWN_FAULT


def duration_text(seconds: int) -> str:
    """Floored, like every duration shown; seconds when under a minute (SLA.md "Display")."""
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@dataclass(frozen=True, slots=True)
class GapView:
    start: Stamp
    end: Stamp
    duration: str
    reasons: str  # one or more reasons in words, comma separated


@dataclass(frozen=True, slots=True)
class GapList:
    shown: list[GapView]  # newest first
    more: int  # older gaps not listed


def since(monitor_ids: Iterable[str], first_seen: Mapping[str, float | None]) -> float | None:
    """When the first of these monitors was registered: evidence starts there."""
    found = [t for m in monitor_ids if (t := first_seen.get(m)) is not None]
    return min(found, default=None)


def gap_list(
    unmonitored: list[Interval],
    monitor_ids: list[str],
    first_seen: Mapping[str, float | None],
    gaps: Iterable[Gap],
    tz: ZoneInfo,
) -> GapList:
    """Each unobserved interval, newest first, with the reasons of the gaps it is made of."""
    ids = set(monitor_ids)
    own = [g for g in gaps if g.monitor_id in ids]
    first = since(monitor_ids, first_seen)
    views = []
    for lo, hi in reversed(unmonitored):
        reasons = {reason_words(g.reason) for g in own if g.start < hi and g.end > lo}
        if not reasons or first is None or lo < first:
            reasons.add(NOT_YET)  # before any monitor existed: nothing was watching yet
        words = ", ".join(sorted(reasons))
        views.append(GapView(stamp(lo, tz), stamp(hi, tz), duration_text(hi - lo), words))
    return GapList(views[:SHOWN], max(0, len(views) - SHOWN))
