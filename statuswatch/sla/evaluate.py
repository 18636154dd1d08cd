"""`statuswatch sla evaluate`: the stdin/stdout JSON contract of SLA.md around the engine."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from statuswatch.sla import periods
from statuswatch.sla.availability import Figures, UnmonitoredPolicy, evaluate
from statuswatch.sla.credits import CreditScheme, credit_amount
from statuswatch.sla.intervals import Interval
from statuswatch.validation import describe


class InputError(ValueError):
    """Bad input; the message names the field."""


class Span(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    start: str
    end: str


class PeriodSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    month: str | None = None
    year: int | None = None
    timezone: str = "UTC"
    start: str | None = None
    end: str | None = None


class EvaluateInput(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    period: PeriodSpec
    target_percent: float
    credit: CreditScheme
    fee: float = 0
    downtime: list[Span] = []
    maintenance: list[Span] = []
    unmonitored: list[Span] = []
    claim_window_days: int | None = None
    unmonitored_policy: UnmonitoredPolicy = "available"


def parse_instant(text: str, field: str) -> int:
    """ISO 8601 with an offset or Z to whole UTC seconds; naive times are refused."""
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(f"{field}: not an ISO 8601 date-time: {text!r}") from None
    if dt.tzinfo is None:
        raise InputError(f"{field}: needs a UTC offset or Z: {text!r}")
    return int(dt.timestamp())


def parse_spans(spans: list[Span], field: str) -> list[Interval]:
    """Spans to intervals; an end before its start is an error naming the span."""
    out = []
    for i, span in enumerate(spans):
        start = parse_instant(span.start, f"{field}[{i}].start")
        end = parse_instant(span.end, f"{field}[{i}].end")
        if end < start:
            raise InputError(f"{field}[{i}].end: before start")
        out.append((start, end))
    return out


def parse_period(spec: PeriodSpec) -> periods.Period:
    """A period spec to a Period; errors name the field."""
    try:
        tz = ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"period.timezone: unknown timezone {spec.timezone!r}") from None
    given = [k for k in ("month", "year", "start") if getattr(spec, k) is not None]
    if len(given) != 1:
        raise InputError("period: give exactly one of month, year, or start and end")
    if spec.month is not None:
        match = re.fullmatch(r"(\d{4})-(\d{2})", spec.month)
        if not match or not 1 <= int(match[2]) <= 12:
            raise InputError(f"period.month: must be YYYY-MM, got {spec.month!r}")
        return periods.month(int(match[1]), int(match[2]), tz)
    if spec.year is not None:
        if not 1970 <= spec.year <= 9998:
            raise InputError(f"period.year: out of range: {spec.year}")
        return periods.year(spec.year, tz)
    if spec.end is None:
        raise InputError("period.end: required with period.start")
    assert spec.start is not None
    start = parse_instant(spec.start, "period.start")
    end = parse_instant(spec.end, "period.end")
    if end < start:
        raise InputError("period.end: before start")
    return periods.explicit(start, end)


def decode(doc: Any, where: str = "") -> EvaluateInput:
    """Strictly decode one input document; errors carry the field path."""
    try:
        return msgspec.convert(doc, EvaluateInput)
    except msgspec.ValidationError as exc:
        raise InputError(f"{where}{describe(exc)}") from None


def figures_json(fig: Figures, scheme: CreditScheme, fee: float, claim_days: int | None) -> dict:
    """The output object of SLA.md, in its key order; floats only here, at the edge."""
    percent = scheme.percent(fig)
    out: dict[str, Any] = {
        "period_start": periods.iso_z(fig.period.start),
        "period_end": periods.iso_z(fig.period.end),
        "period_minutes": fig.period.seconds / 60,
        "unmonitored_minutes": fig.unmonitored / 60,
        "excused_downtime_minutes": fig.excused / 60,
        "unexcused_downtime_minutes": fig.unexcused / 60,
        "eligible_minutes": fig.eligible / 60,
        "target_percent": float(fig.target),
        "coverage_percent": None if fig.coverage is None else float(fig.coverage * 100),
        "availability_percent": None if fig.availability is None else float(fig.availability),
        "met": fig.met,
        "allowed_downtime_minutes": float(fig.allowed / 60),
        "excess_downtime_minutes": float(fig.excess / 60),
        "credit_percent": float(percent),
        "credit_amount": float(credit_amount(fee, percent)),
    }
    if claim_days is not None:
        out["claim_deadline"] = periods.iso_z(fig.period.add_days_local(claim_days))
    return out


def evaluate_one(doc: Any, where: str = "") -> dict:
    """Evaluate one input document into the output object."""
    spec = decode(doc, where)
    try:
        period = parse_period(spec.period)
        figures = evaluate(
            period,
            spec.target_percent,
            downtime=parse_spans(spec.downtime, "downtime"),
            maintenance=parse_spans(spec.maintenance, "maintenance"),
            unmonitored=parse_spans(spec.unmonitored, "unmonitored"),
            policy=spec.unmonitored_policy,
        )
    except InputError as exc:
        raise InputError(f"{where}{exc}") from None
    if not 0 < spec.target_percent <= 100:
        raise InputError(f"{where}target_percent: must be in (0, 100]")
    return figures_json(figures, spec.credit, spec.fee, spec.claim_window_days)


def evaluate_text(text: str) -> str:
    """Evaluate a JSON document or a list of them; return the JSON output."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"input: not valid JSON: {exc}") from None
    if isinstance(doc, list):
        return json.dumps([evaluate_one(d, f"[{i}].") for i, d in enumerate(doc)], indent=2)
    return json.dumps(evaluate_one(doc), indent=2)
