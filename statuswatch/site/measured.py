"""Measured availability as the public sees it (SLA.md "Display"). Pure; one implementation.

The public windows, the targets table, the day bars, badges and the v2 API's figures are
measured availability: time statuswatch did not observe leaves the denominator (policy
`excluded`). Such a figure never stands without its coverage: under 100 % it is shown with it
("99.950%, measured over 62% of 30 days"), and under one hour of evidence there is no
percentage at all, only "no data yet" (a figure over 30 s of checks says nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from statuswatch.sla.availability import Figures
from statuswatch.sla.display import truncate_percent

MIN_EVIDENCE = 3600  # seconds of evidence below which a window shows no percentage
NO_DATA_YET = "no data yet"
SPANS = {
    "24h": "24 hours",
    "7d": "7 days",
    "30d": "30 days",
    "90d": "90 days",
    "365d": "365 days",
    "mtd": "the month to date",
}


def evidence_seconds(fig: Figures) -> int:
    """Seconds of the period with evidence either way (downtime is evidence)."""
    return fig.period.seconds - fig.unmonitored


def coverage_text(coverage: Fraction) -> str:
    """A coverage share (0..1) as a truncated percentage, precise enough to tell from zero."""
    percent = coverage * 100
    places = 0 if percent >= 10 else 1 if percent >= 1 else 2
    return truncate_percent(percent, places)


@dataclass(frozen=True, slots=True)
class Measured:
    """One measured figure as shown: its percentage (or why there is none) and its coverage."""

    availability: str  # truncated percent, "n/a" (all of it excused) or "no data yet"
    coverage: str | None  # truncated percent when under 100 %, else None
    span: str  # what the coverage is a share of: "30 days", "the month to date"

    @property
    def no_data(self) -> bool:
        return self.availability == NO_DATA_YET

    @property
    def percent(self) -> str:
        """The figure alone: "99.950%", "n/a" or "no data yet"."""
        if self.no_data or self.availability == "n/a":
            return self.availability
        return f"{self.availability}%"

    @property
    def coverage_note(self) -> str:
        """ "measured over 62% of 30 days", or "" at full coverage or without a figure."""
        if self.coverage is None or self.no_data:
            return ""
        return f"measured over {self.coverage}% of {self.span}"

    @property
    def text(self) -> str:
        """The figure with its coverage, as SLA.md writes it."""
        note = self.coverage_note
        return f"{self.percent}, {note}" if note else self.percent


def measured(fig: Figures, span: str) -> Measured:
    """The figures of one window (policy `excluded`) as the public sees them."""
    coverage = fig.coverage if fig.unmonitored else None
    shown = None if coverage is None else coverage_text(coverage)
    if evidence_seconds(fig) < MIN_EVIDENCE:
        return Measured(NO_DATA_YET, shown, span)
    return Measured(truncate_percent(fig.availability), shown, span)
