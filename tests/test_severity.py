"""Severity commitments: next update due, kept and missed."""

from __future__ import annotations

from statuswatch.incidents.model import Impact, Incident, IncidentStatus
from statuswatch.incidents.severity import DEFAULT_SEVERITIES, commitments, next_update_due

S1, S2 = DEFAULT_SEVERITIES[0], DEFAULT_SEVERITIES[1]
MIN = 60


def incident() -> Incident:
    inc = Incident(
        "i1",
        "Checkout down",
        Impact.CRITICAL,
        IncidentStatus.INVESTIGATING,
        0,
        0,
        severity="S1",
        auto=True,
    )
    inc.post(0, IncidentStatus.INVESTIGATING, "auto", "statuswatch")
    return inc


def test_first_response_is_due_20_minutes_after_opening_for_s1():
    inc = incident()
    assert next_update_due(inc, S1) == 20 * MIN  # the automatic update does not count
    inc.post(15 * MIN, IncidentStatus.IDENTIFIED, "cause found", "alice")
    assert next_update_due(inc, S1) == 45 * MIN  # then every 30 minutes
    assert next_update_due(inc, S2) is None  # S2 promises only the first response


def test_commitments_kept_missed_and_pending():
    inc = incident()
    inc.post(25 * MIN, IncidentStatus.IDENTIFIED, "late first response", "alice")
    inc.post(50 * MIN, IncidentStatus.MONITORING, "on time", "alice")
    got = commitments(inc, S1, now=100 * MIN)
    assert [(c.kind, c.kept) for c in got] == [
        ("first_response", False),  # 25 > 20
        ("update", True),  # 50 <= 55
        ("update", False),  # nothing by 80, and it is 100 now
    ]
    inc.post(110 * MIN, IncidentStatus.RESOLVED, "fixed", "alice")
    assert next_update_due(inc, S1) is None


def test_nothing_is_missed_before_it_is_due():
    inc = incident()
    assert [(c.kind, c.kept) for c in commitments(inc, S1, now=10 * MIN)] == [
        ("first_response", None)
    ]
