"""How a check's per-phase durations are kept: five nullable INTEGER columns of microseconds.

Integers because SQLite stores small ones in 0-4 bytes (a local TCP connect of 200 us takes 2,
a plain-http `tls` of 0 takes none) where a REAL always takes 8 and a JSON text ~90; at 10,000
monitors a check a minute and 48 h of raw checks that is ~15 bytes a check instead of ~40 or
~100. Microseconds are the API's six decimal places, so nothing it shows is lost. NULL: the
check did not finish that phase (or is not an http check).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from statuswatch.probes.phases import PHASES, Phases

COLUMNS = tuple(f"phase_{name}_us" for name in PHASES)
_NONE: tuple[None, ...] = (None,) * len(PHASES)
_INDEX = {name: i for i, name in enumerate(PHASES)}


def to_columns(phases: Phases | None) -> tuple[int | None, ...]:
    """The five column values of a result's phases."""
    if phases is None:
        return _NONE
    values: list[int | None] = [None] * len(PHASES)
    for name, seconds in phases:
        values[_INDEX[name]] = round(seconds * 1_000_000)
    return tuple(values)


def from_columns(values: Sequence[Any]) -> Phases | None:
    """The phases kept in the five column values (in COLUMNS order), or None when none were."""
    found = tuple(
        (name, us / 1_000_000) for name, us in zip(PHASES, values, strict=True) if us is not None
    )
    return found or None
