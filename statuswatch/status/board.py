"""What the public sees, kept current: component statuses and the automatic incident.

Listens to the monitors' confirmed transitions (Monitoring.hooks) and to the clock (a
housekeeping tick for maintenance edges and quiet periods); saves every incident change
through the store's writer, one transaction each. It says what changed (status/changes.py) to
a listener, which gives the outbox event saved in the same transaction; the board does not
know who is notified or how.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable

from statuswatch.clock import Clock
from statuswatch.config import Config, Monitor
from statuswatch.config.model import Maintenance
from statuswatch.incidents.auto import AutoIncidents, AutoSettings, Edit
from statuswatch.incidents.model import Incident
from statuswatch.maintenance.calendar import MaintenanceCalendar, Schedule
from statuswatch.monitor.events import Event, State, Transition
from statuswatch.probes.base import CheckResult
from statuswatch.status.changes import (
    Change,
    ChangeListener,
    IncidentChanged,
    WindowSaved,
    maintenance_edges,
)
from statuswatch.status.component import ComponentStatus, FractionRule
from statuswatch.status.regional_alerts import RegionalAlerts
from statuswatch.status.tally import ComponentTally
from statuswatch.store import SaveIncident, SaveMaintenance, StoreProtocol
from statuswatch.store.outbox import EnqueueEvent, NotifyEvent

log = logging.getLogger(__name__)


def auto_settings(config: Config) -> AutoSettings:
    """The [incidents] section as the lifecycle takes it."""
    inc = config.incidents
    return AutoSettings(
        quiet_period=inc.quiet_period,
        title=inc.title,
        title_several=inc.title_several,
        opened=inc.opened,
        joined=inc.joined,
        recovered=inc.recovered,
        resolved=inc.resolved,
        opened_late=inc.opened_late,
        severity_by_impact=tuple(inc.severity_by_impact.items()),
    )


class StatusBoard:
    """Component statuses from monitor states and maintenance; automatic incidents from them."""

    def __init__(
        self,
        config: Config,
        store: StoreProtocol,
        clock: Clock,
        listener: ChangeListener | None = None,
    ) -> None:
        """`listener` hears of every change (None: nobody is notified, nothing is announced)."""
        self.config = config
        self.store = store
        self.clock = clock
        self.components = {c.id: c for c in config.components}
        self.monitors_of: dict[str, list[str]] = defaultdict(list)
        for mon in config.monitors:
            self.monitors_of[mon.component].append(mon.id)
        # Each component's monitor states and the counts its status is decided by, kept as
        # they change (a change does not rescan the component's monitors).
        self.tallies = self._tallies({})
        self.component_of = {mon.id: mon.component for mon in config.monitors}
        # By component, the names of the locations that see its regional monitors down.
        self.regional: dict[str, list[str]] = {}
        self.location_names = {loc.id: loc.name for loc in config.locations}
        self.regional_alerts = RegionalAlerts(
            config.incidents.regional_alert_after, self.location_names
        )
        # Run first on every tick (Monitoring.tick: a silent location ages out).
        self.before_tick: list[Callable[[], None]] = []
        self.status: dict[str, ComponentStatus] = {}
        # Monitors with any evidence ever (a check, or a state resumed from a past run): a
        # component with none of them shows "no data yet", never "operational".
        self.evidenced: set[str] = set()
        self.calendar = MaintenanceCalendar(config.maintenance)
        self.auto = AutoIncidents(auto_settings(config), config.component_names)
        # Operator edits read, change and save whole incidents and windows across awaits;
        # one at a time, so two requests editing the same thing cannot lose either change.
        self.edit_lock = asyncio.Lock()
        # Maintenance starts and ends are announced for edges after this time (not on resume).
        self.edges_checked = clock.time()
        self.listener = listener
        # Bumped on anything the public pages show (monitor events, statuses, incidents,
        # maintenance): the render cache re-renders on a change, not on every request burst.
        self.version = 0

    async def start(self, monitor_states: dict[str, State]) -> None:
        """Resume: current statuses without announcing them, and the open automatic incident."""
        self.calendar = self._calendar(await self.store.maintenance())
        self.tallies = self._tallies(monitor_states)
        self.evidenced = await self._evidenced(monitor_states)
        open_auto = [i for i in await self.store.incidents(open_only=True) if i.auto]
        self.auto.current = open_auto[0] if open_auto else None
        now = self.clock.time()
        self.status = {cid: self._compute(cid, now) for cid in self.components}
        self.edges_checked = now

    def _tallies(self, monitor_states: dict[str, State]) -> dict[str, ComponentTally]:
        tallies = {}
        for cid in self.components.keys() | self.monitors_of.keys():
            tally = tallies[cid] = ComponentTally(self.monitors_of[cid])
            for mid in self.monitors_of[cid]:
                tally.set(mid, monitor_states.get(mid, State.UNKNOWN))
        return tallies

    async def _evidenced(self, monitor_states: dict[str, State]) -> set[str]:
        """Monitors checked before (a stored result or snapshot) or in a known state now."""
        found = {m for m, s in monitor_states.items() if s is not State.UNKNOWN}
        found |= set(await self.store.last_results())
        for mid, snap in (await self.store.monitor_snapshots()).items():
            if snap.state is not State.UNKNOWN or snap.last_evidence is not None:
                found.add(mid)
        return found

    def no_data(self) -> frozenset[str]:
        """Components none of whose monitors has ever had evidence ("no data yet")."""
        return frozenset(
            cid
            for cid in self.components
            if not any(m in self.evidenced for m in self.monitors_of[cid])
        )

    def _calendar(self, stored: list[Maintenance]) -> MaintenanceCalendar:
        return MaintenanceCalendar.merged(self.config, stored)

    def reload_calendar(self, stored: list[Maintenance]) -> None:
        """Take the windows stored at run time into account, and follow them at once."""
        self.calendar = self._calendar(stored)
        self.version += 1
        self.tick()

    async def incident_for_edit(self, incident_id: str) -> Incident | None:
        """The incident an operator edits: the board's own open automatic one, else the stored.

        Editing a copy of the automatic incident would lose the change: the board would later
        save its stale object over it. Hold `edit_lock` from here until `after_edit`.
        """
        current = self.auto.current
        if current is not None and current.id == incident_id:
            return current
        # The board may have just resolved its incident: let that reach the disk before reading.
        await self.store.flush()
        return await self.store.incident(incident_id)

    def after_edit(self, incident: Incident) -> None:
        """Save an operator's edit; an automatic incident is then the operator's to close."""
        if incident.auto:
            incident.taken_over = True
        if incident is self.auto.current and incident.status.closed:
            self.auto.current = None
        self.store.submit(self._saving(incident))
        self.version += 1

    def _event(self, change: Change) -> NotifyEvent | None:
        return None if self.listener is None else self.listener.event_for(change)

    def _saving(self, incident: Incident) -> SaveIncident:
        """The save of an incident, carrying the event its change causes, if any."""
        return SaveIncident.of(incident, self._event(IncidentChanged(incident)))

    def saving_window(self, window: Maintenance, now: float) -> SaveMaintenance:
        """The save of a maintenance window, carrying the event for its (next) occurrence being
        scheduled or cancelled, if any."""
        occurrence = Schedule(window).upcoming(now) if self.listener else None
        if occurrence is None or occurrence.end <= now:
            return SaveMaintenance(window, now)
        return SaveMaintenance(window, now, self._event(WindowSaved(window, occurrence, now)))

    def _announce_maintenance(self, now: float) -> None:
        """Maintenance that started or ended since the last tick (the event's source makes each
        edge announced once)."""
        since, self.edges_checked = self.edges_checked, now
        if self.listener is None or now <= since:
            return
        for edge in maintenance_edges(self.calendar, since, now):
            if (event := self._event(edge)) is not None:
                self.store.submit(EnqueueEvent(event))

    def on_events(self, monitor: Monitor, result: CheckResult | None, events: list[Event]) -> None:
        """Monitoring hook: recompute the component of a monitor whose state changed."""
        if events:  # outages and gaps change the figures even when no status does
            self.version += 1
        if result is not None:
            self.evidenced.add(monitor.id)
        changed, since = False, None
        tally = self.tallies[monitor.component]
        for event in events:
            if isinstance(event, Transition):
                since = event.since  # a state announced late says when it began
                tally.set(event.monitor_id, event.new, event.locations)
                self.evidenced.add(event.monitor_id)
                if event.new is State.REGIONAL:
                    self.regional_alerts.regional(event.monitor_id, event.time)
                else:
                    self.regional_alerts.cleared(event.monitor_id)
                self._name_regional(monitor.component)
                changed = True
        if changed:
            self._refresh(monitor.component, self.clock.time(), since)

    def _name_regional(self, cid: str) -> None:
        """The names of the locations that see the component's regional monitors down."""
        found = self.tallies[cid].regional_locations()
        if found:
            self.regional[cid] = sorted(self.location_names.get(loc, loc) for loc in found)
        else:
            self.regional.pop(cid, None)

    def _seen_by(self, monitor_id: str) -> frozenset[str]:
        return self.tallies[self.component_of[monitor_id]].seen_by(monitor_id)

    def tick(self) -> None:
        """Maintenance windows starting or ending, and quiet periods running out."""
        for refresh in self.before_tick:
            refresh()
        now = self.clock.time()
        for cid in self.components:
            self._refresh(cid, now)
        self._announce_maintenance(now)
        self.regional_alerts.check(now, self._seen_by)
        if (edit := self.auto.tick(now)) is not None:
            self._save(edit)

    def _refresh(self, cid: str, now: float, since: float | None = None) -> None:
        new = self._compute(cid, now)
        old = self.status.get(cid, ComponentStatus.OPERATIONAL)
        if new is old:
            return
        self.status[cid] = new
        self.version += 1
        log.info("component %s: %s -> %s", cid, old.value, new.value)
        enabled = self.components[cid].auto_incident
        edit = self.auto.changed(cid, old, new, now, enabled=enabled, since=since)
        if edit is not None:
            self._save(edit)

    def _compute(self, cid: str, now: float) -> ComponentStatus:
        comp = self.components[cid]
        rule = None
        if comp.status_rule == "fraction":
            f = comp.fraction
            rule = FractionRule(f.degraded, f.partial, f.major)
        in_maintenance = self.calendar.active(cid, int(now)) is not None
        return self.tallies[cid].status(rule=rule, in_maintenance=in_maintenance)

    def _save(self, edit: Edit) -> None:
        self.store.submit(self._saving(edit.incident))
        self.version += 1
        if edit.opened:
            log.warning("incident %s opened: %s", edit.incident.id, edit.incident.title)
