"""What the history feeds and the calendar publish: incidents and maintenance windows.

Entry ids are permanent (an incident's URL; a window's id under /maintenance), and an entry's
`updated` moves only when its content does, so feed readers show each change once.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from statuswatch.config.model import Maintenance
from statuswatch.incidents.model import Incident
from statuswatch.incidents.severity import severities_of
from statuswatch.maintenance.calendar import Schedule
from statuswatch.site.incident import incident_view, markdown_once
from statuswatch.site.stamps import stamp
from statuswatch.sla.display import status_label
from statuswatch.web.keys import BOARD, CLOCK, CONFIG, STORE, TEMPLATES
from statuswatch.web.site_pages import component_names, site_tz

FEED_INCIDENTS = 50  # as many as Statuspage's incidents.json


@dataclass(frozen=True, slots=True)
class FeedItem:
    id: str
    title: str
    link: str
    published: float
    updated: float
    html: str  # sanitised HTML; the feed writers escape it as text


def base_url(app: web.Application) -> str:
    """The site's public URL without a trailing slash."""
    return app[CONFIG].site.base


def window_updated(spec: Maintenance, stored: dict[str, float], schedule: Schedule) -> float:
    """When a window last changed: stored at run time, else (from config) its first start."""
    return stored.get(spec.id, float(schedule.utc_seconds(spec.start)))


@dataclass(frozen=True, slots=True)
class FeedData:
    """What the feeds are made of, read from the store (the rendering then runs off the loop)."""

    incidents: list[Incident]
    window_updated: dict[str, float]  # run-time windows' last change, by id
    now: float


async def load_feed_data(app: web.Application) -> FeedData:
    """The latest incidents and the maintenance windows' change times."""
    store = app[STORE]
    return FeedData(
        await store.incidents(limit=FEED_INCIDENTS),
        await store.maintenance_updated(),
        app[CLOCK].time(),
    )


def incident_items(app: web.Application, data: FeedData) -> list[FeedItem]:
    """The latest incidents, each with its whole timeline as the content."""
    names, tz, base = component_names(app), site_tz(app), base_url(app)
    severities = severities_of(app[CONFIG].severities)
    template = app[TEMPLATES].get_template("feed_incident.html")
    out = []
    for inc in data.incidents:
        view = incident_view(inc, names, severities, tz)
        title = f"{inc.title} ({status_label(inc.status.value)})"
        url = f"{base}/incidents/{inc.id}"
        html = template.render(inc=view).strip()
        out.append(FeedItem(url, title, url, inc.created, inc.updated, html))
    return out


def maintenance_items(app: web.Application, data: FeedData) -> list[FeedItem]:
    """Every maintenance window the board follows, with its current or next occurrence."""
    names, tz, base = component_names(app), site_tz(app), base_url(app)
    template = app[TEMPLATES].get_template("feed_maintenance.html")
    out = []
    for schedule in app[BOARD].calendar.schedules:
        spec = schedule.spec
        occ = schedule.upcoming(data.now)
        state = "cancelled" if spec.cancelled else occ.state(data.now) if occ else "completed"
        html = template.render(
            spec=spec,
            state=status_label(state),
            start=None if occ is None else stamp(occ.start, tz),
            end=None if occ is None else stamp(occ.end, tz),
            components=sorted(names.get(c, c) for c in spec.components),
            description_html=markdown_once(spec.description),
        ).strip()
        updated = window_updated(spec, data.window_updated, schedule)
        out.append(
            FeedItem(
                f"{base}/maintenance#{spec.id}",
                f"Maintenance: {spec.title} ({status_label(state)})",
                f"{base}/maintenance",
                updated,
                updated,
                html,
            )
        )
    return out


def feed_items(app: web.Application, data: FeedData) -> list[FeedItem]:
    """Incidents and maintenance, most recently updated first."""
    items = [*incident_items(app, data), *maintenance_items(app, data)]
    return sorted(items, key=lambda i: (-i.updated, i.id))
