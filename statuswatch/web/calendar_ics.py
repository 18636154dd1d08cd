"""/maintenance.ics: the maintenance windows as an RFC 5545 calendar (built with `icalendar`).

Recurring windows are one VEVENT with an RRULE whose DTSTART carries the window's IANA TZID
(and a VTIMEZONE), so calendar apps keep them at the same local time across DST as statuswatch
does. Cancelled windows stay in the calendar with STATUS:CANCELLED so apps remove them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from aiohttp import web

from statuswatch.maintenance.calendar import Schedule
from statuswatch.site.feed_items import FeedData, base_url, load_feed_data, window_updated
from statuswatch.web.keys import BOARD, CONFIG
from statuswatch.web.render_cache import off_loop
from statuswatch.web.site_pages import cached, component_names

PRODID = "-//statuswatch//maintenance//EN"


def _local_start(schedule: Schedule) -> datetime:
    """The first occurrence as an aware datetime in the window's own timezone."""
    tz = ZoneInfo(schedule.spec.timezone)
    return datetime.fromtimestamp(schedule.utc_seconds(schedule.spec.start), tz)


def _rrule(text: str, tz: ZoneInfo) -> icalendar.vRecur:
    rule = icalendar.vRecur.from_ical(text.removeprefix("RRULE:"))
    until = rule.get("UNTIL")
    # RFC 5545: with a TZID'd DTSTART, UNTIL must be UTC. A floating UNTIL means window-local.
    if until:
        value = until[0]
        if isinstance(value, datetime) and value.tzinfo is None:
            rule["UNTIL"] = [value.replace(tzinfo=tz).astimezone(UTC)]
    return rule


def window_event(
    schedule: Schedule, host: str, stamp: float, names: dict[str, str], url: str
) -> icalendar.Event:
    """One VEVENT for a window (a recurring one with its RRULE)."""
    spec = schedule.spec
    start = _local_start(schedule)
    event = icalendar.Event()
    event.add("uid", f"maintenance-{spec.id}@{host}")  # the window's id: stable across edits
    event.add("dtstamp", datetime.fromtimestamp(stamp, UTC))
    event.add("last-modified", datetime.fromtimestamp(stamp, UTC))
    event.add("summary", spec.title)
    affected = ", ".join(sorted(names.get(c, c) for c in spec.components))
    parts = (spec.description, f"Affects: {affected}")
    event.add("description", "\n\n".join(x for x in parts if x))
    event.add("dtstart", start)
    if spec.rrule is not None or spec.end is None:
        assert spec.duration is not None  # config checks: a window has end or duration
        event.add("duration", timedelta(seconds=float(spec.duration)))
    else:
        event.add("dtend", datetime.fromtimestamp(schedule.utc_seconds(spec.end), start.tzinfo))
    if spec.rrule is not None:
        event.add("rrule", _rrule(spec.rrule, ZoneInfo(spec.timezone)))
    event.add("status", "CANCELLED" if spec.cancelled else "CONFIRMED")
    event.add("categories", ["Maintenance", spec.kind.capitalize()])
    event.add("transp", "OPAQUE")
    event.add("url", url)
    return event


def maintenance_calendar(app: web.Application, data: FeedData) -> str:
    """The whole calendar as text."""
    base = base_url(app)
    host = urlsplit(base).hostname or "statuswatch"
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{app[CONFIG].site.title} maintenance")
    names = component_names(app)
    schedules = app[BOARD].calendar.schedules
    for schedule in schedules:
        stamp = window_updated(schedule.spec, data.window_updated, schedule)
        cal.add_component(window_event(schedule, host, stamp, names, f"{base}/maintenance"))
    # A VTIMEZONE for every TZID used, spanning the windows (not icalendar's 1970-2038 default,
    # which is 7 KB per zone); apps that know the IANA name use their own rules anyway.
    starts = [_local_start(s).date() for s in schedules]
    now = datetime.fromtimestamp(data.now, UTC).date()
    cal.add_missing_timezones(
        first_date=min([now, *starts]) - timedelta(days=366),
        last_date=now + timedelta(days=5 * 366),
    )
    return cal.to_ical().decode()


async def maintenance_ics(request: web.Request) -> web.Response:
    """GET /maintenance.ics: every maintenance window, for calendar apps."""
    app = request.app

    async def render() -> bytes:
        data = await load_feed_data(app)
        return await off_loop(maintenance_calendar, app, data)

    return await cached(request, "/maintenance.ics", render, "text/calendar")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/maintenance.ics", maintenance_ics)
