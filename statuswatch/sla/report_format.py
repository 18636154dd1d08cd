"""Render credit reports as a terminal table, JSON or CSV (spreadsheet-safe)."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from zoneinfo import ZoneInfo

from statuswatch.site.stamps import maybe_stamp
from statuswatch.sla.display import duration_text, truncate_percent
from statuswatch.sla.report import CreditLine, totals_by_currency

CSV_COLUMNS = [
    "customer",
    "name",
    "plan",
    "unmonitored_policy",
    "period",
    "period_start",
    "period_end",
    "target_percent",
    "availability_percent",
    "coverage_percent",
    "met",
    "unexcused_downtime_minutes",
    "excused_downtime_minutes",
    "unmonitored_minutes",
    "allowed_downtime_minutes",
    "excess_downtime_minutes",
    "credit_percent",
    "credit_amount",
    "currency",
    "claim_deadline",
    "claim_deadline_passed",
    "outages",
    # Appended, so scripts that read the columns by position keep working.
    "regional_minutes",
    "regional_counts_as",
]


# How each plan counts time without evidence, in words (its unmonitored_policy).
POLICY_WORDS = {
    "available": "counted as available",
    "excluded": "left out of the figures",
    "downtime": "counted as downtime",
}
POLICY_EXPLAINED = {
    "available": "time without evidence counts as available: only recorded downtime is downtime",
    "excluded": "time without evidence is left out: availability over the time observed",
    "downtime": "time without evidence counts as downtime (excused inside maintenance)",
}


def money(amount: Fraction) -> str:
    return f"{float(amount):.2f}"


UTC = ZoneInfo("UTC")


def as_json(lines: list[CreditLine], now: int, tz: ZoneInfo = UTC) -> str:
    """The report as JSON: one object per customer plus totals per currency (times ISO UTC)."""
    return json.dumps(
        {
            "customers": [line.to_json(now) for line in lines],
            "totals": {cur: float(total) for cur, total in totals_by_currency(lines).items()},
        },
        indent=2,
    )


def _safe_cell(value: object) -> object:
    # A cell starting with = + - @ is a formula to a spreadsheet; customer names are input.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def as_csv(lines: list[CreditLine], now: int, tz: ZoneInfo = UTC) -> str:
    """One row per customer (times ISO UTC); outages as a count (details are in the JSON)."""
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n"
    )
    writer.writeheader()
    for line in lines:
        row = line.to_json(now)
        row["outages"] = len(line.outages)
        writer.writerow({k: _safe_cell(v) for k, v in row.items()})
    return buf.getvalue()


def as_table(lines: list[CreditLine], now: int, tz: ZoneInfo = UTC) -> str:
    """A fixed-width summary for people at a terminal, times in `tz` (the site's zone)."""
    header = (
        "customer",
        "plan",
        "period",
        "availability",
        "coverage",
        "unmonitored",
        "regional",
        "unexcused",
        "allowed",
        "excess",
        "credit",
        "amount",
        "claim by",
    )
    rows = [header]
    for line in lines:
        fig = line.figures
        # The exact instant with its zone, as the site shows it: a date alone reads as "during".
        stamped = maybe_stamp(line.claim_deadline, tz)
        deadline = "-" if stamped is None else stamped.text
        if line.claim_passed(now):
            deadline += " (passed)"
        rows.append(
            (
                line.customer.id,
                line.plan.id,
                fig.period.label,
                truncate_percent(fig.availability) + ("%" if fig.availability is not None else ""),
                truncate_percent(None if fig.coverage is None else fig.coverage * 100, 1) + "%",
                duration_text(fig.unmonitored),
                duration_text(line.regional_seconds),
                duration_text(fig.unexcused),
                duration_text(fig.allowed),
                duration_text(fig.excess),
                f"{float(line.credit_percent):g}%",
                f"{money(line.credit_amount)} {line.customer.currency}",
                deadline,
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    text = "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )
    plans = {line.plan.id: line.plan.unmonitored_policy for line in lines}
    if plans:
        text += "\n\nunmonitored time: " + "; ".join(
            f"{plan}: {POLICY_WORDS[policy]}" for plan, policy in plans.items()
        )
        regional = {line.plan.id: line.plan.regional_counts_as for line in lines}
        text += "\nregional time: " + "; ".join(
            f"{plan}: {POLICY_WORDS[counts]}" for plan, counts in regional.items()
        )
    totals = totals_by_currency(lines)
    if totals:
        text += "\n\ncredits owed: " + ", ".join(f"{money(t)} {c}" for c, t in totals.items())
    return text


FORMATS = {"table": as_table, "json": as_json, "csv": as_csv}
