"""The quorum rule over recorded intervals: availability, coverage and credits follow it."""

from __future__ import annotations

from fractions import Fraction
from zoneinfo import ZoneInfo

from statuswatch.maintenance.calendar import MaintenanceCalendar
from statuswatch.sla.evidence import Evidence, MonitorEvidence, combine_locations
from statuswatch.sla.periods import Period
from statuswatch.store.models import Gap, MonitorRecord, Outage

CLEAR = MonitorEvidence([], [])
DAY = Period(0, 86400, ZoneInfo("UTC"), "day")


def test_down_only_where_a_quorum_of_locations_is_down():
    combined = combine_locations(
        {
            "local": MonitorEvidence([(100, 400)], []),
            "eu": MonitorEvidence([(200, 500)], []),
            "us": CLEAR,
        },
        2,
    )
    assert combined.down == [(200, 400)]  # from the time the second location agreed
    assert combined.regional == [(100, 200), (400, 500)]
    assert combined.dark == []


def test_one_location_of_three_down_is_regional_not_down():
    combined = combine_locations(
        {"local": CLEAR, "eu": MonitorEvidence([(100, 400)], []), "us": CLEAR}, None
    )
    assert (combined.down, combined.regional, combined.dark) == ([], [(100, 400)], [])


def test_dark_where_fewer_than_the_quorum_have_evidence():
    combined = combine_locations(
        {
            "local": MonitorEvidence([], [(100, 300)]),
            "eu": MonitorEvidence([], [(200, 400)]),
            "us": MonitorEvidence([(250, 350)], []),
        },
        2,
    )
    # 200-300: two of three silent, one left (and that one's trouble is not a quorum): dark.
    # 300-350: local back, us down: regional. 100-200 and 350-400: two have evidence: up.
    assert combined.dark == [(200, 300)]
    assert combined.down == []
    assert combined.regional == [(300, 350)]


def test_a_quorum_of_one_is_down_from_any_location():
    combined = combine_locations({"local": CLEAR, "eu": MonitorEvidence([(10, 20)], [])}, 1)
    assert combined.down == [(10, 20)]


def _evidence() -> Evidence:
    """m probed from three locations; eu saw it down for 1 h, eu and us together for 10 min."""
    return Evidence(
        component_monitors={"c": ["m"]},
        monitors=[MonitorRecord("m", "http", "c", 0.0)],
        outages=[
            Outage("m", 3600, 7200, "timeout", "", "recovered", location="eu"),
            Outage("m", 6600, 7200, "timeout", "", "recovered", location="us"),
        ],
        gaps=[Gap("m", 20000, 23600, "silent", location="local")],
        calendar=MaintenanceCalendar([]),
        lo=0,
        hi=86400,
        now=86400,
        locations={"m": ["local", "eu", "us"]},
        quorums={"m": 2},
    )


def test_regional_time_is_available_under_the_default_plan():
    inputs = _evidence().component("c")
    assert inputs.downtime == [(6600, 7200)]
    assert inputs.regional == [(3600, 6600)]
    assert inputs.unmonitored == []  # one silent location of three: two still have evidence
    fig = inputs.figures(DAY, 99.9, policy="available")
    assert fig.unexcused == 600
    assert fig.availability == Fraction(100 * (86400 - 600), 86400)


def test_regional_time_is_downtime_when_the_plan_says_so():
    inputs = _evidence().service(["c"], regional_counts_as="downtime")
    assert inputs.downtime == [(3600, 7200)]
    assert inputs.regional == []
    assert inputs.figures(DAY, 99.9, policy="available").unexcused == 3600
