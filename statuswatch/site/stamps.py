"""Times as people read them (site timezone, zone named) and as machines do (UTC ISO 8601)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from statuswatch.clock import iso


@dataclass(frozen=True, slots=True)
class Stamp:
    """One instant: `iso` (UTC, for `<time datetime>`) and `text` (local, zone named)."""

    iso: str
    text: str


def stamp(ts: float, tz: ZoneInfo) -> Stamp:
    """`ts` for a `<time>` element: "22 Nov 2026 06:18 CET" beside its UTC ISO form."""
    local = datetime.fromtimestamp(ts, tz)
    return Stamp(iso(ts) or "", local.strftime("%d %b %Y %H:%M ") + zone_name(local))


def maybe_stamp(ts: float | None, tz: ZoneInfo) -> Stamp | None:
    return None if ts is None else stamp(ts, tz)


def zone_name(local: datetime) -> str:
    """The zone's abbreviation ("CET"), or its offset where the database has none ("+03")."""
    name = local.tzname() or ""
    return name if name.isalpha() else "UTC" + name if name else str(local.tzinfo)


def day_label(day_start: int, tz: ZoneInfo) -> str:
    """The local calendar date a day starts on: "2026-11-22"."""
    return datetime.fromtimestamp(day_start, tz).strftime("%Y-%m-%d")
