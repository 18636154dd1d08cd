"""Durations written as "30s", "5m", "1h", "2d" (or combinations such as "1h30m")."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
# Far beyond any setting (retention is the longest, about a year), still a valid timestamp
# offset: "99999999999999999999d" is a typo, not 274 quadrillion years.
MAX_DAYS = 36500


class Duration(float):
    """Seconds, parsed from a duration string; a float so arithmetic stays plain."""

    __slots__ = ()

    def __str__(self) -> str:
        return format_duration(self)


def parse_duration(text: object) -> Duration:
    """Parse "30s" / "5m" / "1h30m" into seconds; raise ValueError naming the bad value."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"must be a duration such as '30s', '5m' or '1h', got {text!r}")
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text):
        raise ValueError(f"must be a duration such as '30s', '5m' or '1h', got {text!r}")
    if not total <= MAX_DAYS * 86400:  # "not <=": an overflow to inf is caught too
        raise ValueError(f"must be at most {MAX_DAYS}d (100 years), got {text!r}")
    return Duration(total)


def duration_hook(type_: type, obj: object) -> object:
    """msgspec dec_hook: decode Duration fields from their written form ("2h")."""
    if type_ is Duration:
        return parse_duration(obj)
    raise NotImplementedError


def format_duration(seconds: float) -> str:
    """Render seconds the way they are written in config ("90s" -> "1m30s")."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    rest, parts = round(seconds), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)
