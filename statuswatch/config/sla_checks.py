"""Validation of the [[sla]], [[customers]] and [[maintenance]] sections (key paths in errors)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from statuswatch.config.model import Config, Maintenance
from statuswatch.sla.credits import PerExcessHour, Tiered
from statuswatch.validation import MULTILINE, control_characters

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Occurrences closer together than hourly make no sense for maintenance and would let a
# careless rule expand into millions of windows (Uptime Kuma #2889).
_TOO_FREQUENT = re.compile(r"FREQ=(SECONDLY|MINUTELY)", re.I)


def check_sla_sections(config: Config, ids: dict[str, set[str]]) -> Iterator[str]:
    """Every problem in the SLA-related sections; `ids` holds the known ids per section."""
    for i, sla in enumerate(config.sla):
        where = f"sla[{i}]"
        if not 0 < sla.target_percent <= 100:
            yield f"{where}.target_percent: must be greater than 0 and at most 100"
        yield from _check_timezone(f"{where}.timezone", sla.timezone)
        if isinstance(sla.credit, PerExcessHour) and (
            sla.credit.percent_per_hour <= 0 or sla.credit.cap_percent <= 0
        ):
            yield f"{where}.credit: percent_per_hour and cap_percent must be greater than 0"
        if isinstance(sla.credit, Tiered) and not sla.credit.tiers:
            yield f"{where}.credit.tiers: needs at least one tier"
    for i, cust in enumerate(config.customers):
        where = f"customers[{i}]"
        if cust.plan not in ids["sla"]:
            yield f"{where}.plan: unknown sla plan {cust.plan!r}"
        yield from _check_components(f"{where}.components", cust.components, ids["components"])
        if cust.fee < 0:
            yield f"{where}.fee: must not be negative"
        if not _CURRENCY.match(cust.currency):
            yield f"{where}.currency: must be an ISO 4217 code such as 'USD', got {cust.currency!r}"
        if cust.contact_email and not _EMAIL.match(cust.contact_email):
            yield f"{where}.contact_email: not an email address: {cust.contact_email!r}"
    for i, window in enumerate(config.maintenance):
        yield from check_window(f"maintenance[{i}]", window, ids["components"])


IMPACTS = ("none", "minor", "major", "critical")


def check_incident_sections(config: Config) -> Iterator[str]:
    """Severity references and component rules."""
    from statuswatch.incidents.severity import DEFAULT_SEVERITIES

    known = {s.id for s in config.severities} or {s.id for s in DEFAULT_SEVERITIES}
    for impact, severity in config.incidents.severity_by_impact.items():
        key = f"incidents.severity_by_impact.{impact}"
        if impact not in IMPACTS:
            yield f"{key}: unknown impact (use {', '.join(IMPACTS)})"
        if severity not in known:
            yield f"{key}: unknown severity {severity!r}"
    for i, level in enumerate(config.severities):
        if level.first_response <= 0:
            yield f"severities[{i}].first_response: must be greater than 0"
    for i, comp in enumerate(config.components):
        f = comp.fraction
        if not 0 < f.degraded <= f.partial <= f.major <= 100:
            yield f"components[{i}].fraction: need 0 < degraded <= partial <= major <= 100"


def _check_timezone(key: str, name: str) -> Iterator[str]:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
        yield f"{key}: unknown timezone {name!r}"


def _check_components(key: str, given: list[str], known: set[str]) -> Iterator[str]:
    if not given:
        yield f"{key}: needs at least one component"
    for j, comp in enumerate(given):
        if comp not in known:
            yield f"{key}[{j}]: unknown component {comp!r}"


def check_window(where: str, window: Maintenance, components: set[str]) -> Iterator[str]:
    """Every problem of one maintenance window; `where` prefixes each key ("" for none)."""

    # The admin API validates its windows here too ("" gives bare field names for its errors).
    def at(key: str) -> str:
        return f"{where}.{key}" if where else key

    yield from control_characters(at("title"), window.title)
    yield from control_characters(at("description"), window.description, MULTILINE)
    yield from _check_components(at("components"), window.components, components)
    yield from _check_timezone(at("timezone"), window.timezone)
    if window.end is not None and window.duration is not None:
        yield f"{at('end')}: give end or duration, not both"
    elif window.end is None and window.duration is None:
        yield f"{at('duration')}: required (or end, for a one-off window)"
    if window.duration is not None and window.duration <= 0:
        yield f"{at('duration')}: must be greater than 0"
    if window.end is not None:
        if (window.end.tzinfo is None) != (window.start.tzinfo is None):
            yield f"{at('end')}: start and end must both have an offset, or neither"
        elif window.end <= window.start:
            yield f"{at('end')}: must be after start"
    if window.rrule is not None:
        yield from _check_rrule(at, window)


def _check_rrule(at: Callable[[str], str], window: Maintenance) -> Iterator[str]:
    from dateutil.rrule import rrulestr

    if window.end is not None:
        yield f"{at('end')}: a recurring window takes duration, not end"
    if _TOO_FREQUENT.search(window.rrule or ""):
        yield f"{at('rrule')}: occurrences more often than hourly are not allowed"
        return
    if "DTSTART" in (window.rrule or "").upper():
        yield f"{at('rrule')}: leave DTSTART out; start gives the first occurrence"
        return
    try:
        rrulestr(window.rrule or "", dtstart=window.start.replace(tzinfo=None))
    except (ValueError, TypeError) as exc:
        yield f"{at('rrule')}: not a valid RFC 5545 rule: {exc}"
