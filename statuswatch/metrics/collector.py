"""The app's collector: every family module, built at scrape time from the running state.

Nothing here runs on the probe path: per-result counts and states come from one
`Monitoring.snapshot()` per scrape, the SLA gauges from the last SlaSnapshot, everything else
from plain attributes. `collect` runs on the render thread, so whatever the event loop mutates
is read from copies (see monitor/tally.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric

from statuswatch.agent.registry import AgentRegistry
from statuswatch.clock import Clock, SystemClock
from statuswatch.config import Config
from statuswatch.metrics import (
    commitments,
    components,
    customers,
    database,
    lease,
    locations,
    monitors,
    notifications,
    process,
    regional,
    scheduling,
)
from statuswatch.metrics.family import Families
from statuswatch.metrics.snapshot import SlaSnapshot
from statuswatch.monitor.monitoring import Monitoring
from statuswatch.monitor.tally import Buckets
from statuswatch.notify.stats import NotifyStats
from statuswatch.status.board import StatusBoard
from statuswatch.store import StoreProtocol

# Every family /metrics exposes, name -> (type, help, labels), in exposition order (the
# dashboard and alert-rule tests check against it).
FAMILIES = Families(
    {
        **process.FAMILIES,
        **monitors.FAMILIES,
        **locations.FAMILIES,
        **regional.FAMILIES,
        **components.FAMILIES,
        **customers.FAMILIES,
        **scheduling.FAMILIES,
        **database.FAMILIES,
        **lease.FAMILIES,
        **notifications.FAMILIES,
        **commitments.FAMILIES,
    }
)


def exposed_names() -> set[str]:
    """Every sample name /metrics can carry (histogram and summary suffixes included)."""
    names = set()
    for name, (kind, _help, _labels) in FAMILIES.items():
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif kind == "summary":
            names |= {f"{name}_sum", f"{name}_count"}
    return names


class StatuswatchCollector:
    """Register on the app's CollectorRegistry once the runtime objects exist."""

    def __init__(
        self,
        config: Config,
        *,
        monitoring: Monitoring,
        board: StatusBoard,
        store: StoreProtocol,
        snapshot: SlaSnapshot,
        lateness: Buckets | None = None,
        loaded_at: float,
        notify: NotifyStats | None = None,
        agents: AgentRegistry | None = None,
        clock: Clock | None = None,
        lease_families: bool = True,
    ) -> None:
        # On SQLite this process leads its own file; several nodes expose their lease apart.
        self.lease_families = lease_families
        self.monitoring = monitoring
        self.board = board
        self.store = store
        self.snapshot = snapshot
        self.loaded_at = loaded_at
        self.notify = notify
        self._monitors = monitors.MonitorFamilies(config)
        self._locations = locations.LocationFamilies(config, agents, clock or SystemClock())
        self._regional = regional.RegionalFamilies(config)
        self._components = components.ComponentFamilies(config)
        self._customers = customers.CustomerFamilies(config)
        self._scheduling = scheduling.SchedulingFamilies(lateness)

    def collect(self) -> Iterator[Metric]:
        # One reading of the fleet and of the board per scrape: every family says the same.
        fleet = self.monitoring.snapshot()
        statuses = self.board.status.copy()
        alerted = frozenset(self.board.regional_alerts.alerted)
        figures = self.snapshot.current
        yield from process.collect(self.loaded_at)
        yield from self._monitors.collect(fleet)
        yield from self._locations.collect()
        yield from self._regional.collect(alerted)
        yield from self._components.collect(statuses, figures)
        yield from self._customers.collect(figures, fleet.states, statuses)
        yield from self._scheduling.collect(fleet.scheduler, fleet.tally.inconclusive)
        yield from database.collect(self.store)
        if self.lease_families:
            yield from lease.collect(None)
        yield from notifications.collect(self.notify)
        yield commitments.collect(figures)
