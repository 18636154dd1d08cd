"""Our model in Atlassian Statuspage's public v2 format (/api/v2/*.json). Pure.

Existing widgets, aggregators and exporters read Statuspage's field names and enumerations, so
every object here carries exactly their keys; our own figures go only under `x_statuswatch` at
the top level of a document. The mapping, in one place:

- page: id = a stable digest of site.base_url (one page; ids are opaque strings), name =
  site.title, url = site.base_url, time_zone = site.timezone, updated_at = the newest change
  shown (a component edge, an incident update, a maintenance start or end that has happened).
- components keep their config ids, in config order; each [[groups]] entry becomes a component
  with group: true, components: [member ids] and its worst member's status, placed just before
  its first member (empty groups last). position: 1-based place in that list. created_at: when
  the first of its monitors was registered (start_date: that day in the site's timezone);
  updated_at: the last edge of its downtime or maintenance in the last 90 days, else created_at.
  showcase: true for components (they have uptime bars), false for groups.
- status: status/overall.py's page status, the rule the banner and badges follow (worst wins:
  each component's status worsened by what unresolved incidents say of it, and those
  incidents' impacts; maintenance only when nothing worse is going on), as an indicator
  (degraded -> minor, partial -> major, major -> critical, maintenance -> maintenance).
  Components and groups show the same per-component statuses.
- no data yet: Statuspage has no such enumeration value (clients break on new ones), so a
  component none of whose monitors was ever checked keeps status "operational", its
  description says "No data yet" and x_statuswatch.components[id].no_data is true; while any
  component has no evidence, an indicator "none" is described as "Waiting for the first
  checks", never "All Systems Operational".
- x_statuswatch.components[id]: measured availability (policy excluded) over 30 and 90 days,
  truncated, null under one hour of evidence; its coverage (truncated percent of the window
  observed); no_data; regional_locations (the names of the locations that see it down while
  fewer than the quorum do: status degraded_performance, Statuspage's enumeration kept).
- incidents: title -> name, created -> created_at and started_at, shortlink =
  <base_url>/incidents/<id>; components: the affected components as component objects;
  incident_updates newest first (as Statuspage lists them); affected_components from the
  update's component changes (code = component id). Severity, author and `auto` are not shown.
- scheduled maintenances: one per occurrence of a window (id "<window>" for one-off windows,
  "<window>-<YYYYMMDDTHHMMZ>" per occurrence of recurring ones), impact "maintenance", status
  by the clock (scheduled, in_progress, completed; never verifying: nobody tells us when work is
  being checked); cancelled occurrences are left out (Statuspage has no such state).
  created_at: when the window was created, never after the occurrence's start: a window from
  the API when it was first stored, a window from config.toml (overridden or not) when this
  statuswatch loaded the config (it cannot know when the file was written). started_at: null
  until the occurrence starts, then its start. The updates are the announcement at created_at
  (body: the description, else the title) and, once they happen, the start and the end.
Times are ISO 8601 with the site's UTC offset, to the millisecond, as Statuspage writes them.
The incident and maintenance objects, and their update wording, come from statuspage_objects,
which webhooks and emails share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from statuswatch.config import Config
from statuswatch.incidents.model import Incident
from statuswatch.maintenance.calendar import Occurrence
from statuswatch.site.measured import MIN_EVIDENCE, evidence_seconds
from statuswatch.sla.availability import Figures
from statuswatch.sla.display import truncate_percent
from statuswatch.status.component import ComponentStatus, worst
from statuswatch.status.overall import page_status, public_statuses
from statuswatch.status.statuspage_objects import MaintenanceStep, StatuspageObjects, page_id

INDICATORS = ("none", "minor", "major", "critical", "maintenance")
DESCRIPTIONS = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
# Indicator "none" while a component has had no check yet: nothing is known to be wrong, but
# nothing is known to be operational either.
WAITING = "Waiting for the first checks"
NO_DATA_DESCRIPTION = "No data yet: waiting for the first check"
_BY_STATUS = {
    ComponentStatus.OPERATIONAL: "none",
    ComponentStatus.MAINTENANCE: "maintenance",
    ComponentStatus.DEGRADED: "minor",
    ComponentStatus.PARTIAL: "major",
    ComponentStatus.MAJOR: "critical",
}
MAINTENANCE_STATES = ("scheduled", "in_progress", "verifying", "completed")
# x_statuswatch availability windows on summary.json and components.json.
AVAILABILITY_WINDOWS = ("30d", "90d")
LIST_LIMIT = 50  # incidents.json and scheduled-maintenances.json: the newest 50, as Statuspage


@dataclass(frozen=True, slots=True)
class PageState:
    """What the documents are made from, gathered by the web layer at one instant."""

    config: Config
    now: float
    status: dict[str, ComponentStatus]
    created: dict[str, float]  # component id -> created_at
    updated: dict[str, float]  # component id -> updated_at
    open_incidents: Sequence[Incident] = ()
    latest_incidents: Sequence[Incident] = ()  # the newest 50, resolved or not
    # Each occurrence shown, with whether its window recurs and the window's description.
    occurrences: Sequence[tuple[Occurrence, bool, str]] = ()
    availability: dict[str, dict[str, Figures]] = field(default_factory=dict)
    no_data: frozenset[str] = frozenset()  # components none of whose monitors was ever checked
    window_created: Mapping[str, float] = field(default_factory=dict)  # window id -> created
    # When the monitor last reported, if it has stopped (the figures are as of then).
    paused_since: float | None = None
    # Components down from some locations but fewer than the quorum -> those locations' names.
    regional: Mapping[str, list[str]] = field(default_factory=dict)


class Formatter:
    """Builds the Statuspage documents for one PageState."""

    def __init__(self, state: PageState) -> None:
        self.state = state
        self.site = state.config.site
        self.tz = self.site.tz
        self.page_id = page_id(self.site.base_url)
        self.names = state.config.component_names
        self.objects = StatuspageObjects(self.site.base, self.page_id, self.names, self.time)
        # The one rule the banner and the badges follow too (status/overall.py).
        self.statuses = public_statuses(state.status, state.open_incidents)
        self.components = self._components()
        # Incidents and maintenance list components, never groups (a group may share an id).
        self.by_id = {c["id"]: c for c in self.components if not c["group"]}

    def time(self, ts: float | None) -> str | None:
        """ISO 8601 in the site's timezone, with its offset, to the millisecond."""
        if ts is None:
            return None
        return datetime.fromtimestamp(ts, self.tz).isoformat(timespec="milliseconds")

    # --- page and status -------------------------------------------------------------------

    def page(self) -> dict[str, Any]:
        return {
            "id": self.page_id,
            "name": self.site.title,
            "url": self.site.base_url,
            "time_zone": self.site.timezone,
            "updated_at": self.time(self._page_updated()),
        }

    def _page_updated(self) -> float:
        now = self.state.now
        times = [
            *self.state.updated.values(),
            *(i.updated for i in (*self.state.open_incidents, *self.state.latest_incidents)),
        ]
        for occ, _, _ in self.state.occurrences:
            times += [t for t in (occ.start, occ.end) if t <= now]
        return max(times, default=min(self.state.created.values(), default=now))

    def status(self) -> dict[str, str]:
        indicator = _BY_STATUS[page_status(self.state.status, self.state.open_incidents)]
        description = DESCRIPTIONS[indicator]
        if indicator == "none" and self.state.no_data:
            description = WAITING
        return {"indicator": indicator, "description": description}

    # --- components --------------------------------------------------------------------------

    def _components(self) -> list[dict[str, Any]]:
        config = self.state.config
        members: dict[str, list[str]] = {g.id: [] for g in config.groups}
        for comp in config.components:
            if comp.group is not None:
                members[comp.group].append(comp.id)
        groups = {g.id: g for g in config.groups}
        out: list[dict[str, Any]] = []
        for comp in config.components:
            if comp.group is not None and comp.group in groups:
                out.append(self._group(groups.pop(comp.group), members[comp.group]))
            out.append(self._component(comp.id, comp.name, comp.description, comp.group))
        out += [self._group(g, []) for g in groups.values()]
        for position, item in enumerate(out, start=1):
            item["position"] = position
        return out

    def _component(
        self, cid: str, name: str, description: str, group: str | None
    ) -> dict[str, Any]:
        created = self.state.created.get(cid, self.state.now)
        status = self.statuses.get(cid, ComponentStatus.OPERATIONAL)
        return {
            "id": cid,
            "name": name,
            "status": status.value,
            "created_at": self.time(created),
            "updated_at": self.time(self.state.updated.get(cid, created)),
            "position": 0,
            "description": self._description(cid, description),
            "showcase": True,
            "start_date": datetime.fromtimestamp(created, self.tz).date().isoformat(),
            "group_id": group,
            "page_id": self.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def _description(self, cid: str, description: str) -> str | None:
        if cid not in self.state.no_data:
            return description or None
        return f"{NO_DATA_DESCRIPTION}. {description}" if description else NO_DATA_DESCRIPTION

    def _group(self, group: Any, member_ids: list[str]) -> dict[str, Any]:
        created = min(
            (self.state.created.get(m, self.state.now) for m in member_ids), default=self.state.now
        )
        updated = max((self.state.updated.get(m, created) for m in member_ids), default=created)
        item = self._component(group.id, group.name, group.description, None)
        item.update(
            status=worst([self.statuses[m] for m in member_ids]).value,
            created_at=self.time(created),
            updated_at=self.time(updated),
            showcase=False,
            start_date=None,
            group=True,
            components=member_ids,
        )
        return item

    def x_statuswatch(self) -> dict[str, Any]:
        """Our own figures: each component's measured availability and its coverage, and
        whether the monitor is reporting (else as of when)."""
        out = {}
        for cid, figures in self.state.availability.items():
            item: dict[str, Any] = {}
            for w, f in figures.items():
                item[f"availability_{w}"] = _measured_percent(f)
                item[f"coverage_{w}"] = (
                    None if f.coverage is None else truncate_percent(f.coverage * 100)
                )
            item["no_data"] = cid in self.state.no_data
            item["regional_locations"] = list(self.state.regional.get(cid, ()))
            out[cid] = item
        paused = self.state.paused_since
        # paused 0.0: the monitor never reported (nothing to be "as of").
        as_of = self.state.now if paused is None else paused or None
        monitoring = {"current": paused is None, "as_of": self.time(as_of)}
        return {"components": out, "monitoring": monitoring}

    # --- incidents and scheduled maintenances -------------------------------------------

    def incident(self, inc: Incident) -> dict[str, Any]:
        components = [self.by_id[c] for c in inc.components if c in self.by_id]
        return self.objects.incident(inc, components)

    def maintenance(self, occ: Occurrence, recurring: bool, description: str) -> dict[str, Any]:
        """An occurrence with the updates the clock has reached: announced, started, ended."""
        now = self.state.now
        mid = occurrence_id(occ, recurring)
        created = min(self.state.window_created.get(occ.window_id, occ.start), occ.start)
        edges = [("scheduled", created), ("in_progress", occ.start), ("completed", occ.end)]
        reached = [edges[0], *((s, at) for s, at in edges[1:] if now >= at)]
        steps = [MaintenanceStep(f"{mid}.{n}", s, at) for n, (s, at) in enumerate(reached)]
        components = [self.by_id[c] for c in sorted(occ.components) if c in self.by_id]
        return self.objects.maintenance(occ, mid, occ.state(now), steps, description, components)


def document(name: str, state: PageState) -> dict[str, Any]:
    """One /api/v2 document by its path below /api/v2/ (a key of DOCUMENTS)."""
    fmt = Formatter(state)
    return {"page": fmt.page(), **DOCUMENTS[name](fmt)}


def _maintenances(fmt: Formatter, *states: str) -> list[dict[str, Any]]:
    """The occurrences in these states, by start; all of them, newest first, if none given."""
    shown = [
        fmt.maintenance(occ, recurring, desc)
        for occ, recurring, desc in fmt.state.occurrences
        if not states or occ.state(fmt.state.now) in states
    ]
    shown.sort(key=lambda m: (m["scheduled_for"], m["id"]))
    return shown if states else shown[::-1][:LIST_LIMIT]


def _incidents(fmt: Formatter, incidents: Sequence[Incident]) -> list[dict[str, Any]]:
    return [fmt.incident(i) for i in incidents]


DOCUMENTS: dict[str, Callable[[Formatter], dict[str, Any]]] = {
    "summary.json": lambda f: {
        "components": f.components,
        "incidents": _incidents(f, f.state.open_incidents),
        "scheduled_maintenances": _maintenances(f, "in_progress", "verifying", "scheduled"),
        "status": f.status(),
        "x_statuswatch": f.x_statuswatch(),
    },
    "status.json": lambda f: {"status": f.status()},
    "components.json": lambda f: {"components": f.components, "x_statuswatch": f.x_statuswatch()},
    "incidents.json": lambda f: {"incidents": _incidents(f, f.state.latest_incidents)},
    "incidents/unresolved.json": lambda f: {"incidents": _incidents(f, f.state.open_incidents)},
    "scheduled-maintenances.json": lambda f: {"scheduled_maintenances": _maintenances(f)},
    "scheduled-maintenances/upcoming.json": lambda f: {
        "scheduled_maintenances": _maintenances(f, "scheduled")
    },
    "scheduled-maintenances/active.json": lambda f: {
        "scheduled_maintenances": _maintenances(f, "in_progress", "verifying")
    },
}


def _measured_percent(fig: Figures) -> str | None:
    """Truncated per SLA.md; null without a figure or under one hour of evidence."""
    if fig.availability is None or evidence_seconds(fig) < MIN_EVIDENCE:
        return None
    return truncate_percent(fig.availability)


def occurrence_id(occ: Occurrence, recurring: bool) -> str:
    """A one-off window's id, or the window's id and the occurrence's UTC start."""
    if not recurring:
        return occ.window_id
    return f"{occ.window_id}-{datetime.fromtimestamp(occ.start, ZoneInfo('UTC')):%Y%m%dT%H%MZ}"
