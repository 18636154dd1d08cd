"""Everything the public pages show, computed from evidence loaded once.

`load_site_source` reads the store once (sla.load) for the longest range any figure needs (90
local days, the running month, every plan's previous period); `SiteSource` then builds one
ServiceTimeline (prefix sums) per component and answers every day, window, target and credit
with bisections.
A component none of whose monitors was ever checked shows "no data yet" instead of
"operational" (the banner too, unless something worse is shown).
The build is pure and synchronous so callers can run it off the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from statuswatch.config import Config
from statuswatch.config.model import Component, SlaPolicy
from statuswatch.incidents.model import Incident
from statuswatch.maintenance.calendar import Occurrence
from statuswatch.site.days import DayCell, IncidentRef, day_cells, day_starts
from statuswatch.site.gaps import GapList, gap_list, since
from statuswatch.site.plans import PlanView, plan_components, plan_view
from statuswatch.site.stamps import Stamp, stamp
from statuswatch.site.status_view import (
    BANNER,
    NO_DATA_BANNER,
    StatusView,
    shown_status,
)
from statuswatch.site.targets import (
    TargetRow,
    WindowFigure,
    plan_periods_start,
    target_rows,
    window_figures,
)
from statuswatch.sla import periods
from statuswatch.sla.evidence import Evidence, RegionalCountsAs, ServiceTimeline
from statuswatch.sla.intervals import Timeline
from statuswatch.sla.load import read_records
from statuswatch.status.component import ComponentStatus
from statuswatch.status.overall import page_status, public_statuses
from statuswatch.store import Gap, StoreProtocol

UPCOMING = 7 * 86400
# Incidents are looked up by creation time: one opened this long before the range can still
# have been open inside it (open ones are read separately, whenever they began).
INCIDENT_LOOKBACK = 30 * 86400


@dataclass(frozen=True, slots=True)
class ComponentView:
    id: str
    name: str
    description: str
    status: StatusView
    days: list[DayCell]
    windows: list[WindowFigure]
    targets: list[TargetRow]
    incidents: list[IncidentRef]
    since: Stamp | None  # when its first monitor was registered; None: never
    # The names of the locations that see it down while fewer than the quorum do (regional).
    regional: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupView:
    id: str  # "" for components without a group
    name: str
    description: str
    status: StatusView
    components: list[ComponentView]


@dataclass(frozen=True, slots=True)
class MaintenanceView:
    id: str
    title: str
    kind: str
    state: str
    start: Stamp  # the occurrence in progress, else the next one
    end: Stamp
    components: list[str]
    rule: str | None = None  # a recurring window's rule in words; None: one-off
    following: Stamp | None = None  # in progress and recurring: when the next one starts


@dataclass(frozen=True, slots=True)
class SiteView:
    banner: StatusView
    groups: list[GroupView]
    platform_targets: list[TargetRow]
    plans: list[PlanView]
    in_progress: list[MaintenanceView]
    upcoming: list[MaintenanceView]
    targets: list[str]
    generated: Stamp
    timezone: str
    since: Stamp | None  # when the first monitor of any component was registered

    @property
    def target_services(self) -> list[tuple[str, list[TargetRow]]]:
        """The targets table's services: the platform first, then every component."""
        parts = [(c.name, c.targets) for g in self.groups for c in g.components]
        return [("Platform (all components)", self.platform_targets), *parts]


class SiteSource:
    """What the public pages are computed from: one load of evidence and incidents, with a
    timeline per component built on first use."""

    def __init__(
        self,
        config: Config,
        evidence: Evidence,
        incidents: list[Incident],
        now: int,
        gaps: list[Gap] | None = None,
    ) -> None:
        self.config = config
        self.evidence = evidence
        self.gaps = gaps or []  # the stored gap records, for their reasons
        self.now = now
        self.tz = config.site.tz
        self.starts = day_starts(now, self.tz)
        self.incidents = sorted(incidents, key=lambda i: i.created)
        self._timelines: dict[str, ServiceTimeline] = {}

    def timeline(self, component_id: str) -> ServiceTimeline:
        if component_id not in self._timelines:
            self._timelines[component_id] = ServiceTimeline(self.evidence.component(component_id))
        return self._timelines[component_id]

    def service(
        self, component_ids: Iterable[str], regional_counts_as: RegionalCountsAs = "available"
    ) -> ServiceTimeline:
        """Several components as one service (Evidence.service: a customer's rule)."""
        inputs = self.evidence.service(component_ids, regional_counts_as=regional_counts_as)
        return ServiceTimeline(inputs)

    def incident_refs(self, component_id: str) -> list[IncidentRef]:
        """Incidents that affected the component, oldest first; an open one runs until now."""
        return [
            IncidentRef(
                i.id,
                i.title,
                int(i.created),
                int(i.resolved_at) if i.resolved_at is not None else self.now,
            )
            for i in self.incidents
            if component_id in i.components
        ]

    def monitor_ids(self, component_ids: Iterable[str]) -> list[str]:
        by_component = self.evidence.component_monitors
        return [m for c in component_ids for m in by_component.get(c, [])]

    def since(self, component_ids: Iterable[str]) -> Stamp | None:
        """ "Monitoring since": when the first of these components' monitors was registered."""
        first = since(self.monitor_ids(component_ids), self.evidence.first_seen)
        return None if first is None else stamp(first, self.tz)

    def gap_list(self, component_id: str) -> GapList:
        """The component's unobserved intervals in the loaded range, with their reasons."""
        unmonitored = self.evidence.component(component_id).unmonitored
        monitors = self.monitor_ids([component_id])
        return gap_list(unmonitored, monitors, self.evidence.first_seen, self.gaps, self.tz)

    def component(
        self,
        comp: Component,
        status: ComponentStatus,
        no_data: bool = False,
        regional: Iterable[str] = (),
    ) -> ComponentView:
        """One component's view; `no_data` when none of its monitors was ever checked;
        `regional`: the locations that see it down while fewer than the quorum do."""
        timeline = self.timeline(comp.id)
        maintenance = Timeline(self.evidence.component(comp.id).maintenance)
        refs = self.incident_refs(comp.id)
        days = day_cells(timeline, maintenance, self.starts, self.now, self.tz, refs)
        return ComponentView(
            comp.id,
            comp.name,
            comp.description,
            shown_status([status], no_data),
            days,
            window_figures(timeline, self.now),
            target_rows(timeline, self.now, self.tz, self.config.site.targets),
            [r for r in refs if r.end > self.starts[0]],
            self.since([comp.id]),
            tuple(regional),
        )

    def maintenance(self) -> tuple[list[MaintenanceView], list[MaintenanceView]]:
        """Windows in progress now, and those starting within the next 7 days: each window
        once (an hourly rule is one line, not 168), with its rule in words and the occurrence
        in progress or next; /maintenance lists the occurrences."""
        names = self.config.component_names
        found = self.evidence.calendar.occurrences(self.now, self.now + UPCOMING)
        by_window: dict[str, list[Occurrence]] = {}
        for occ in found:
            if not occ.cancelled:
                by_window.setdefault(occ.window_id, []).append(occ)
        words = {s.spec.id: s.words for s in self.evidence.calendar.schedules}
        views = [
            self._window(occs, words.get(wid), names)
            for wid, occs in sorted(by_window.items(), key=lambda kv: (kv[1][0].start, kv[0]))
        ]
        return (
            [v for v in views if v.state == "in_progress"],
            [v for v in views if v.state == "scheduled"],
        )

    def _window(
        self, occs: list[Occurrence], rule: str | None, names: dict[str, str]
    ) -> MaintenanceView:
        """One window: its first occurrence from now, and for a recurring one in progress, the
        occurrence after it."""
        occ = occs[0]
        state = occ.state(self.now)
        after = occs[1] if state == "in_progress" and len(occs) > 1 else None
        return MaintenanceView(
            occ.window_id,
            occ.title,
            occ.kind,
            state,
            stamp(occ.start, self.tz),
            stamp(occ.end, self.tz),
            sorted(names.get(c, c) for c in occ.components),
            rule,
            None if after is None else stamp(after.start, self.tz),
        )

    def plan(self, plan: SlaPolicy) -> PlanView | None:
        """A plan's public credits over the platform components all its customers share."""
        ids = plan_components(self.config, plan)
        if not ids:
            return None
        names = self.config.component_names
        timeline = self.service(ids, plan.regional_counts_as)
        return plan_view(plan, [names[i] for i in ids], timeline, self.now, self.tz)


async def load_site_source(store: StoreProtocol, config: Config, now: int) -> SiteSource:
    """Read the store once for everything the site shows."""
    tz = config.site.tz
    lo = min(
        day_starts(now, tz)[0],
        now - periods.ROLLING_WINDOWS["90d"],
        periods.month_to_date(now, tz).start,
        plan_periods_start(config.sla, now),
    )
    records = await read_records(store, lo, now)
    recent = await store.incidents(since=lo - INCIDENT_LOOKBACK)
    still_open = await store.incidents(open_only=True)
    by_id = {i.id: i for i in [*recent, *still_open]}
    return SiteSource(
        config, records.evidence(config, now), list(by_id.values()), now, records.gaps
    )


def site_view(
    source: SiteSource,
    statuses: Mapping[str, ComponentStatus],
    no_data: frozenset[str] = frozenset(),
    regional: Mapping[str, Sequence[str]] | None = None,
) -> SiteView:
    """The whole of `/`, from the loaded source and the board's current statuses; `no_data`:
    the components never checked yet; `regional`: component -> the locations seeing it down."""
    regional = regional or {}
    config, now = source.config, source.now
    ok = ComponentStatus.OPERATIONAL
    board = {c.id: statuses.get(c.id, ok) for c in config.components}
    # status.json and the badges follow the same rule (status/overall.py): worst wins.
    statuses = public_statuses(board, source.incidents)
    views = {
        c.id: source.component(c, statuses.get(c.id, ok), c.id in no_data, regional.get(c.id, ()))
        for c in config.components
    }
    groups = []
    ungrouped = [views[c.id] for c in config.components if not c.group]
    if ungrouped:
        groups.append(_group("", "", "", ungrouped, statuses, no_data))
    for g in config.groups:
        members = [views[c.id] for c in config.components if c.group == g.id]
        if members:
            groups.append(_group(g.id, g.name, g.description, members, statuses, no_data))
    in_progress, upcoming = source.maintenance()
    platform = source.service(c.id for c in config.components)
    plans = [v for p in config.sla if (v := source.plan(p)) is not None]
    banner = shown_status(
        [page_status(board, source.incidents)],
        any(c.id in no_data for c in config.components),
        BANNER,
        NO_DATA_BANNER,
    )
    return SiteView(
        banner,
        groups,
        target_rows(platform, now, source.tz, config.site.targets),
        plans,
        in_progress,
        upcoming,
        [f"{t:g}" for t in config.site.targets],
        stamp(now, source.tz),
        config.site.timezone,
        source.since(c.id for c in config.components),
    )


def _group(
    gid: str,
    name: str,
    description: str,
    members: list[ComponentView],
    statuses: Mapping[str, ComponentStatus],
    no_data: frozenset[str],
) -> GroupView:
    found = [statuses.get(m.id, ComponentStatus.OPERATIONAL) for m in members]
    status = shown_status(found, any(m.id in no_data for m in members))
    return GroupView(gid, name, description, status, members)
