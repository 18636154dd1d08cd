"""Times as the public pages show them: in the site's timezone with the zone named, plus UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from statuswatch.clock import iso


@dataclass(frozen=True, slots=True)
class Shown:
    """One instant for a template: `<time datetime="{{ t.utc }}">{{ t.text }}</time>`."""

    utc: str  # ISO 8601 with Z, for machines
    text: str  # "2026-11-22 06:30 CET", for people


def shown(ts: float, tz: ZoneInfo) -> Shown:
    """An epoch instant in `tz`, the zone named by its abbreviation (or offset)."""
    local = datetime.fromtimestamp(ts, tz)
    return Shown(iso(ts) or "", local.strftime("%Y-%m-%d %H:%M %Z"))


def maybe_shown(ts: float | None, tz: ZoneInfo) -> Shown | None:
    """shown(), passing None through (an open incident has no resolution time)."""
    return None if ts is None else shown(ts, tz)


def status_label(value: str) -> str:
    """A status or impact value as words: "major_outage" -> "Major outage"."""
    return value.replace("_", " ").capitalize()
