"""A recurring window's RFC 5545 rule in words ("every Sunday at 03:00 Europe/Berlin"). Pure.

Only the common shapes are put into words (an interval, weekdays, days of the month, a time of
day, a count or an end); a rule with any other part is shown as its RRULE text rather than
described wrongly. Times of day are the window's local time, so its zone is named with them.
"""

from __future__ import annotations

from datetime import datetime

DAY_NAMES = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
UNITS = {"HOURLY": "hour", "DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
# What a description covers; anything else (BYSETPOS, BYWEEKNO, ...) falls back to the text.
KNOWN = frozenset(
    {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYHOUR", "BYMINUTE", "COUNT", "UNTIL", "WKST"}
)
CODES = tuple(DAY_NAMES)  # Monday first, as datetime.weekday() counts


class _Unsaid(ValueError):
    """A part of the rule this module does not put into words."""


def _parts(rule: str) -> dict[str, str]:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = {}
    for item in text.split(";"):
        key, _, value = item.partition("=")
        parts[key.strip().upper()] = value.strip().upper()
    if not parts.keys() <= KNOWN or parts.get("FREQ") not in UNITS:
        raise _Unsaid(text)
    return parts


def _every(freq: str, interval: int) -> str:
    unit = UNITS[freq]
    return f"every {unit}" if interval == 1 else f"every {interval} {unit}s"


def _weekday(code: str) -> str:
    name = DAY_NAMES.get(code[-2:])
    ordinal = code[:-2]
    if name is None:
        raise _Unsaid(code)
    if not ordinal:
        return name
    n = int(ordinal)
    if n not in ORDINALS:
        raise _Unsaid(code)
    return f"the {ORDINALS[n]} {name}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _day_of_month(n: int) -> str:
    if n == -1:
        return "the last day"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"the {n}{suffix}"


def _ints(value: str) -> list[int]:
    try:
        return [int(v) for v in value.split(",")]
    except ValueError as exc:
        raise _Unsaid(value) from exc


def _times(parts: dict[str, str], start: datetime) -> list[str]:
    hours = _ints(parts["BYHOUR"]) if "BYHOUR" in parts else [start.hour]
    minutes = _ints(parts["BYMINUTE"]) if "BYMINUTE" in parts else [start.minute]
    return [f"{h:02d}:{m:02d}" for h in hours for m in minutes]


def _describe(parts: dict[str, str], start: datetime, zone: str) -> str:
    freq = parts["FREQ"]
    interval = _ints(parts.get("INTERVAL", "1"))[0]
    if freq == "WEEKLY" and "BYDAY" not in parts:
        parts = {**parts, "BYDAY": CODES[start.weekday()]}  # the first occurrence's weekday
    if freq == "MONTHLY" and "BYDAY" not in parts and "BYMONTHDAY" not in parts:
        parts = {**parts, "BYMONTHDAY": str(start.day)}
    if freq == "YEARLY":
        if "BYDAY" in parts or "BYMONTHDAY" in parts:
            raise _Unsaid("yearly by day")
        text = _every(freq, interval) + f" on {start.day} {start:%B}"
    elif freq == "WEEKLY" and interval == 1:
        text = "every " + _and([_weekday(d) for d in parts["BYDAY"].split(",")])
    else:
        text = _every(freq, interval)
        if "BYDAY" in parts:
            text += " on " + _and([_weekday(d) for d in parts["BYDAY"].split(",")])
        if "BYMONTHDAY" in parts:
            text += " on " + _and([_day_of_month(n) for n in _ints(parts["BYMONTHDAY"])])
    if freq == "HOURLY":
        if "BYHOUR" in parts:
            raise _Unsaid("BYHOUR")
        minutes = _ints(parts["BYMINUTE"]) if "BYMINUTE" in parts else [start.minute]
        if minutes != [0]:
            text += " at " + _and([f":{m:02d}" for m in minutes])
    else:
        text += f" at {_and(_times(parts, start))} {zone}"
    if "COUNT" in parts:
        text += f", {_ints(parts['COUNT'])[0]} times"
    if "UNTIL" in parts:
        until = parts["UNTIL"]
        text += f", until {until[0:4]}-{until[4:6]}-{until[6:8]}"
    return text


def rule_words(rule: str, start: datetime, zone: str) -> str:
    """The rule in words for a window first starting at `start` (local wall time in `zone`);
    the RRULE text itself when it has parts this does not describe."""
    try:
        return _describe(_parts(rule), start, zone)
    except (_Unsaid, ValueError, IndexError):
        return rule.strip()
