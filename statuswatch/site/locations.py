"""Each location's view of a component's monitors, for /components/<id>: state, last check.

Read from the store, so a web worker (which has no Monitoring) shows what the monitor role
does: the newest stored check per (monitor, location) and the location's open outage. The
state follows the per-location tracker's rule:
- down while the location has an open outage (its failures were confirmed);
- no fresh result when its newest check is older than GAP_INTERVALS intervals plus the timeout
  (the same age after which the live verdict stops counting it), or it has none;
- degraded when its newest check was slow, else up (a failure not yet confirmed leaves it up:
  the last result says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from statuswatch.config import Config, Monitor
from statuswatch.config.model import probed_from
from statuswatch.monitor.tracker import GAP_INTERVALS
from statuswatch.probes.base import CheckResult
from statuswatch.site.stamps import Stamp, maybe_stamp
from statuswatch.store import StoreProtocol

LOCAL_NAME = "This server"  # the monitor process's own probes ("local" needs no [[locations]])


@dataclass(frozen=True, slots=True)
class LocationRow:
    """One location's view of one monitor."""

    monitor: str  # the monitor's name
    location: str  # the location's name
    state: str  # up, degraded, down, no fresh result
    checked: Stamp | None  # its newest stored check; None: never
    result: str  # that check in words


def location_names(config: Config) -> dict[str, str]:
    """Location id -> the name people read."""
    return {"local": LOCAL_NAME, **{loc.id: loc.name for loc in config.locations}}


async def load_location_rows(
    store: StoreProtocol, config: Config, monitors: list[Monitor], now: float, tz: ZoneInfo
) -> list[LocationRow]:
    """Every location of every monitor given, in config order; none when they are all probed
    from this server only (the page's state says it all then)."""
    if all(probed_from(config, m) == ["local"] for m in monitors):
        return []
    pairs = [(m.id, loc) for m in monitors for loc in probed_from(config, m)]
    last = await store.last_by_location(pairs)
    down = {(o.monitor_id, o.location) for o in await store.open_outages() if o.start <= now}
    names = location_names(config)
    rows = []
    for mon in monitors:
        for loc in probed_from(config, mon):
            result = last.get((mon.id, loc))
            state = _state(mon, result, (mon.id, loc) in down, now)
            checked = maybe_stamp(None if result is None else result.time, tz)
            rows.append(
                LocationRow(mon.name or mon.id, names.get(loc, loc), state, checked, _words(result))
            )
    return rows


def _state(mon: Monitor, result: CheckResult | None, outage: bool, now: float) -> str:
    if outage:
        return "down"
    max_age = GAP_INTERVALS * (mon.interval or 0) + (mon.timeout or 0)
    if result is None or (max_age and now - result.time > max_age):
        return "no fresh result"
    return "degraded" if result.degraded else "up"


def _words(result: CheckResult | None) -> str:
    """A check as people read it: passed in 120 ms, or failed with its error."""
    if result is None:
        return "no check yet"
    ms = "" if result.latency is None else f" in {round(result.latency * 1000)} ms"
    if result.ok:
        return f"passed{ms}" + (" (slow)" if result.degraded else "")
    why = ", ".join(p for p in (result.error_class, result.message) if p)
    return f"failed{ms}: {why}" if why else f"failed{ms}"
