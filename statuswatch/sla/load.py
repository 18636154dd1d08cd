"""From the store to Evidence: the one path every SLA figure is loaded by.

The credits report, the public site, the v2 API, badges and the metrics gauges all read their
evidence here. Reading is async (the store's reader thread); building is pure, so a caller with
a lot of history (the metrics snapshot) can read on the event loop and build on its own thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from statuswatch.config import Config
from statuswatch.config.model import Maintenance
from statuswatch.maintenance.calendar import MaintenanceCalendar
from statuswatch.sla.evidence import Evidence, component_monitors
from statuswatch.store import Gap, MonitorRecord, Outage, StoreProtocol


@dataclass(frozen=True, slots=True)
class EvidenceRecords:
    """What the store holds for the range [lo, hi): the records Evidence is built from."""

    lo: int
    hi: int
    monitors: list[MonitorRecord]
    outages: list[Outage]
    gaps: list[Gap]
    maintenance: list[Maintenance]  # the windows stored at run time; config holds the rest

    def evidence(self, config: Config, now: int) -> Evidence:
        """Index the records by the config's components and maintenance (pure)."""
        return Evidence(
            component_monitors=component_monitors((m.id, m.component) for m in config.monitors),
            monitors=self.monitors,
            outages=self.outages,
            gaps=self.gaps,
            calendar=MaintenanceCalendar.merged(config, self.maintenance),
            lo=self.lo,
            hi=self.hi,
            now=now,
            locations={m.id: m.locations or () for m in config.monitors},
            quorums={m.id: m.quorum for m in config.monitors if m.quorum is not None},
        )


async def read_records(store: StoreProtocol, lo: int, hi: int) -> EvidenceRecords:
    """Read what the store holds for [lo, hi)."""
    return EvidenceRecords(
        lo=lo,
        hi=hi,
        outages=await store.outages(since=lo, until=hi),
        monitors=await store.monitors(),
        gaps=await store.gaps(since=lo, until=hi),
        maintenance=await store.maintenance(),
    )


async def load_evidence(
    store: StoreProtocol, config: Config, lo: int, hi: int, now: int
) -> Evidence:
    """Read what the store holds for [lo, hi) and index it."""
    return (await read_records(store, lo, hi)).evidence(config, now)
