"""Measurement periods: calendar months and years in a timezone, explicit ranges, rolling windows.

A calendar period starts at local midnight in its IANA timezone, so a month with a DST change is
an hour longer or shorter (November 2026 in America/New_York has 721 hours). Pure: `now` is
always passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

ROLLING_WINDOWS = {
    "24h": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
    "90d": 90 * 86400,
    "365d": 365 * 86400,
}


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in UTC seconds; `tz` is where it was defined (for deadlines and labels)."""

    start: int
    end: int
    tz: ZoneInfo
    label: str

    @property
    def seconds(self) -> int:
        return self.end - self.start

    def add_days_local(self, days: int) -> int:
        """The end of the period plus `days` calendar days in its timezone (claim deadlines)."""
        local = datetime.fromtimestamp(self.end, self.tz) + timedelta(days=days)
        return _ts(local)  # aware + timedelta keeps local wall time across DST


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def month(year: int, month_: int, tz: ZoneInfo) -> Period:
    """Calendar month `year-month_` in `tz`."""
    start = datetime(year, month_, 1, tzinfo=tz)
    end = datetime(year + month_ // 12, month_ % 12 + 1, 1, tzinfo=tz)
    return Period(_ts(start), _ts(end), tz, f"{year:04d}-{month_:02d}")


def year(year_: int, tz: ZoneInfo) -> Period:
    """Calendar year in `tz`."""
    start, end = datetime(year_, 1, 1, tzinfo=tz), datetime(year_ + 1, 1, 1, tzinfo=tz)
    return Period(_ts(start), _ts(end), tz, f"{year_:04d}")


def explicit(start: int, end: int) -> Period:
    """An explicit [start, end) range in UTC."""
    return Period(start, end, ZoneInfo("UTC"), "custom")


def rolling(window: str, now: int) -> Period:
    """A rolling window ("24h", "7d", "30d", "90d", "365d") ending now."""
    return Period(now - ROLLING_WINDOWS[window], now, ZoneInfo("UTC"), window)


def month_to_date(now: int, tz: ZoneInfo) -> Period:
    """The running calendar month in `tz`, ending now."""
    local = datetime.fromtimestamp(now, tz)
    full = month(local.year, local.month, tz)
    return Period(full.start, now, tz, "mtd")


def year_to_date(now: int, tz: ZoneInfo) -> Period:
    """The running calendar year in `tz`, ending now."""
    full = year(datetime.fromtimestamp(now, tz).year, tz)
    return Period(full.start, now, tz, "ytd")


def iso_z(ts: int) -> str:
    """Whole UTC seconds as ISO 8601 with Z."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
