"""Storage: the only package that talks SQL. One writer thread, WAL, batched writes, migrations."""

from statuswatch.store.models import (
    LATENCY_BUCKETS,
    Gap,
    HourlyRollup,
    MonitorRecord,
    Outage,
    Prune,
    RegisterMonitors,
    ReportToken,
    SaveIncident,
    SaveMaintenance,
    TransitionRecord,
)
from statuswatch.store.schema import SchemaTooNewError
from statuswatch.store.store import Store, vacuum

__all__ = [
    "LATENCY_BUCKETS",
    "Gap",
    "HourlyRollup",
    "MonitorRecord",
    "Outage",
    "Prune",
    "RegisterMonitors",
    "ReportToken",
    "SaveIncident",
    "SaveMaintenance",
    "SchemaTooNewError",
    "Store",
    "TransitionRecord",
    "vacuum",
]
