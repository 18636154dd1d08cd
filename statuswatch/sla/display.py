"""How figures are shown to people (SLA.md "Display"); one implementation for page, CLI, email."""

from __future__ import annotations

import math
from fractions import Fraction


def truncate_percent(value: Fraction | float | None, places: int = 3) -> str:
    """A percentage truncated, never rounded up: 99.9996 shows as 99.999, not 100.000."""
    if value is None:
        return "n/a"
    scale = 10**places
    whole = math.floor(Fraction(value) * scale)
    if places == 0:
        return str(whole)
    return f"{whole // scale}.{whole % scale:0{places}d}"


def status_label(value: str) -> str:
    """A status or impact value as words: "major_outage" -> "Major outage"."""
    return value.replace("_", " ").capitalize()


def whole_minutes(seconds: Fraction | int) -> int:
    """A duration in whole minutes, floored (never rounded up into downtime that was not)."""
    return math.floor(Fraction(seconds) / 60)


def duration_text(seconds: Fraction | int) -> str:
    """A duration floored, in minutes, or in seconds under a minute: "2 min", "41 s", "0 min".

    Every duration shown is this text of exact whole-second figures, so a row, its total and a
    target beside it never disagree by rounding, and 41 s of downtime under a missed target
    never reads "0 min".
    """
    whole = math.floor(Fraction(seconds))
    if 0 < whole < 60:
        return f"{whole} s"
    return f"{whole_minutes(whole)} min"


def budget_text(budget: Fraction | int, used: Fraction | int) -> str:
    """An error budget, what was used and what is left (or over), one floored rule for all three."""
    left = Fraction(budget) - Fraction(used)
    rest = f"{duration_text(left)} left" if left >= 0 else f"over by {duration_text(-left)}"
    return f"budget {duration_text(budget)} · used {duration_text(used)} · {rest}"
