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
