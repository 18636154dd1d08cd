"""Injected time: core logic takes a Clock, so tests drive time instead of sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

_BOOTTIME: int | None = getattr(time, "CLOCK_BOOTTIME", None)


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock UTC seconds since the epoch (what gets stored)."""
        ...

    def monotonic(self) -> float:
        """Seconds from a monotonic source (what schedules and deadlines use)."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        # CLOCK_BOOTTIME where there is one: never stepped like the wall clock, and unlike
        # CLOCK_MONOTONIC it runs while the machine is suspended, so a suspended VM (no probing)
        # is still a stall. Schedules only take differences of it, like any monotonic clock.
        return time.clock_gettime(_BOOTTIME) if _BOOTTIME is not None else time.monotonic()


class FakeClock:
    """A clock that only moves when told to; wall and monotonic time move together."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._wall = start
        self._mono = 1000.0

    def time(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._mono += seconds

    def jump_wall(self, seconds: float) -> None:
        """Move only the wall clock (an NTP step, forward or back), as real clocks do."""
        self._wall += seconds


def utc(ts: float) -> datetime:
    """Epoch seconds to an aware UTC datetime (for display and JSON at the edges)."""
    return datetime.fromtimestamp(ts, UTC)


def iso(ts: float | None) -> str | None:
    """Epoch seconds to ISO 8601 with a Z suffix, to the millisecond."""
    if ts is None:
        return None
    return utc(ts).isoformat(timespec="milliseconds").replace("+00:00", "Z")
