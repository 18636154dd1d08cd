"""Maintenance windows: one-off and recurring, local time across DST, bounded expansion."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from statuswatch.config.durations import Duration
from statuswatch.config.model import Config, Maintenance
from statuswatch.maintenance.calendar import ExpansionLimitError, MaintenanceCalendar, Schedule
from statuswatch.sla.periods import iso_z, month

NY = ZoneInfo("America/New_York")


def window(**kw) -> Maintenance:
    base = {
        "id": "w",
        "title": "Weekly DB",
        "components": ["checkout"],
        "start": datetime(2026, 1, 4, 2, 0),
        "duration": Duration(7200),
        "rrule": "FREQ=WEEKLY;BYDAY=SU",
        "timezone": "America/New_York",
    }
    base.update(kw)
    return Maintenance(**base)


def spans(schedule: Schedule, lo: int, hi: int) -> list[tuple[str, str]]:
    return [(iso_z(o.start), iso_z(o.end)) for o in schedule.occurrences(lo, hi)]


def test_recurring_window_keeps_local_time_across_the_fall_back():
    oct_ = month(2026, 10, NY)
    nov = month(2026, 11, NY)
    got = spans(Schedule(window()), oct_.start, nov.end)
    assert ("2026-10-25T06:00:00Z", "2026-10-25T08:00:00Z") in got  # 02:00-04:00 EDT
    assert ("2026-11-01T07:00:00Z", "2026-11-01T09:00:00Z") in got  # 02:00-04:00 EST
    assert len(got) == 9  # every Sunday of October and November 2026


def test_recurring_window_across_the_spring_forward():
    mar = month(2026, 3, NY)
    got = spans(Schedule(window(start=datetime(2026, 1, 4, 4, 0))), mar.start, mar.end)
    assert ("2026-03-01T09:00:00Z", "2026-03-01T11:00:00Z") in got  # 04:00-06:00 EST
    assert ("2026-03-08T08:00:00Z", "2026-03-08T10:00:00Z") in got  # 04:00-06:00 EDT


def test_one_off_window_with_end_or_duration():
    start = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
    with_end = Schedule(
        window(rrule=None, duration=None, start=start, end=datetime(2026, 12, 6, 8, 0, tzinfo=UTC))
    )
    with_length = Schedule(window(rrule=None, start=start))
    for schedule in (with_end, with_length):
        assert spans(schedule, 0, 2**31) == [("2026-12-06T06:00:00Z", "2026-12-06T08:00:00Z")]
    assert spans(with_end, 0, int(start.timestamp())) == []  # ends exactly at lo: no overlap


def test_only_overlapping_occurrences_are_returned():
    sunday = int(datetime(2026, 11, 8, 8, 0, tzinfo=UTC).timestamp())  # inside 07:00-09:00Z
    got = Schedule(window()).occurrences(sunday, sunday + 60)
    assert [(iso_z(o.start), iso_z(o.end)) for o in got] == [
        ("2026-11-08T07:00:00Z", "2026-11-08T09:00:00Z")
    ]


def test_expansion_is_bounded():
    hourly = Schedule(
        window(rrule="FREQ=HOURLY", duration=Duration(60), start=datetime(2000, 1, 1))
    )
    lo = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    assert len(hourly.occurrences(lo, lo + 86400)) == 24  # a day costs a day, not 26 years
    with pytest.raises(ExpansionLimitError):
        hourly.occurrences(lo, lo + 3 * 365 * 86400)


def test_calendar_excuses_only_covered_components_and_merges_overlaps():
    cal = MaintenanceCalendar(
        [
            window(),
            window(
                id="w2",
                rrule=None,
                start=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
                duration=Duration(10800),
            ),
            window(id="cdn", components=["cdn"]),
        ]
    )
    nov = month(2026, 11, NY)
    checkout = cal.intervals("checkout", nov.start, nov.end)
    first = (iso_z(checkout[0][0]), iso_z(checkout[0][1]))
    assert first == ("2026-11-01T07:00:00Z", "2026-11-01T11:00:00Z")  # merged with the one-off
    assert cal.intervals("admin", nov.start, nov.end) == []
    sunday_8 = int(datetime(2026, 11, 1, 8, 0, tzinfo=UTC).timestamp())
    active = cal.active("checkout", sunday_8)
    assert active is not None and active.window_id in ("w", "w2")
    assert cal.active("admin", sunday_8) is None


def test_stored_window_overrides_config_and_cancelled_excuses_nothing():
    base = window(rrule=None, start=datetime(2026, 11, 1, 8, 0, tzinfo=UTC))
    cancelled = Maintenance(
        **{**{f: getattr(base, f) for f in base.__struct_fields__}, "cancelled": True}
    )
    lo, hi = 0, 2**31
    assert MaintenanceCalendar([base]).intervals("checkout", lo, hi) != []
    calendar = MaintenanceCalendar.merged(Config(maintenance=[base]), [cancelled])
    assert calendar.intervals("checkout", lo, hi) == []
    assert MaintenanceCalendar([base, cancelled]).intervals("checkout", lo, hi) == []
    (occ,) = calendar.occurrences(lo, hi)
    assert occ.state(0) == "cancelled"
    live = MaintenanceCalendar([base]).occurrences(lo, hi)[0]
    assert [live.state(t) for t in (live.start - 1, live.start, live.end)] == [
        "scheduled",
        "in_progress",
        "completed",
    ]
    assert calendar.active("checkout", live.start) is None


def test_upcoming_is_the_current_or_next_occurrence():
    schedule = Schedule(window())  # Sundays 02:00-04:00 New York
    sunday_8 = int(datetime(2026, 11, 8, 8, 0, tzinfo=UTC).timestamp())  # inside 07:00-09:00Z
    current = schedule.upcoming(sunday_8)
    assert current is not None and (iso_z(current.start), current.state(sunday_8)) == (
        "2026-11-08T07:00:00Z",
        "in_progress",
    )
    after = schedule.upcoming(current.end)
    assert after is not None and iso_z(after.start) == "2026-11-15T07:00:00Z"
    ended = Schedule(window(rrule="FREQ=WEEKLY;COUNT=2"))
    assert ended.upcoming(sunday_8) is None
    often = Schedule(window(rrule="FREQ=HOURLY;BYMINUTE=0,20,40", duration=Duration(600)))
    assert often.upcoming(sunday_8) is not None  # no year-long expansion past the limit
    one_off = Schedule(window(rrule=None, start=datetime(2026, 1, 1, tzinfo=UTC)))
    assert one_off.upcoming(sunday_8).state(sunday_8) == "completed"  # type: ignore[union-attr]
