"""The pure parts behind the public pages: history paging and maintenance expansion limits."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import msgspec
import pytest

from statuswatch.config.durations import duration_hook
from statuswatch.config.model import Maintenance
from statuswatch.maintenance.calendar import MaintenanceCalendar
from statuswatch.site.history import MAX_PAGE, BadPage, page_months, parse_page
from statuswatch.site.maintenance import PAST_PER_WINDOW, UPCOMING_PER_WINDOW, maintenance_view
from statuswatch.site.stamps import stamp

PARIS = ZoneInfo("Europe/Paris")


def test_pages_count_back_three_months_across_years():
    now = datetime(2026, 2, 10, tzinfo=UTC).timestamp()
    assert [p.label for p in page_months(1, now, PARIS)] == ["2026-02", "2026-01", "2025-12"]
    assert [p.label for p in page_months(2, now, PARIS)] == ["2025-11", "2025-10", "2025-09"]
    first = page_months(1, now, PARIS)[0]
    assert first.start == datetime(2026, 2, 1, tzinfo=PARIS).timestamp()  # local midnight


@pytest.mark.parametrize("raw", ["0", "-3", "x", "1e3", str(MAX_PAGE + 1), " 2"])
def test_bad_pages(raw):
    with pytest.raises(BadPage, match="page: must be a whole number"):
        parse_page(raw)


def test_good_pages():
    assert (parse_page(None), parse_page("1"), parse_page("12")) == (1, 1, 12)


def test_times_name_their_zone():
    ts = datetime(2026, 1, 15, 12, tzinfo=UTC).timestamp()
    assert stamp(ts, PARIS).text == "15 Jan 2026 13:00 CET"
    assert stamp(ts, PARIS).iso == "2026-01-15T12:00:00.000Z"
    assert stamp(ts, ZoneInfo("UTC")).text == "15 Jan 2026 12:00 UTC"


def window(**fields) -> Maintenance:
    return msgspec.convert(fields, Maintenance, dec_hook=duration_hook, strict=False)


def test_daily_windows_are_capped_per_window_and_others_still_show():
    now = datetime(2026, 6, 15, 12, tzinfo=UTC).timestamp()
    calendar = MaintenanceCalendar(
        [
            window(
                id="daily",
                title="Daily",
                components=["api"],
                start="2026-01-01T03:00:00Z",
                duration="1h",
                rrule="FREQ=DAILY",
            ),
            window(
                id="once",
                title="Once",
                components=["api"],
                start="2026-08-01T03:00:00Z",
                duration="1h",
            ),
        ]
    )
    view = maintenance_view(calendar, {"api": "API"}, now, ZoneInfo("UTC"))
    assert [o.window_id for o in view.upcoming] == ["daily"] * UPCOMING_PER_WINDOW + ["once"]
    assert [o.window_id for o in view.past] == ["daily"] * PAST_PER_WINDOW
    assert view.past[0].start.iso == "2026-06-15T03:00:00.000Z"  # latest first
    assert view.in_progress == ()
