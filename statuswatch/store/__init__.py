"""Storage: the only package that talks SQL. One writer thread, WAL, batched writes, migrations.

Code elsewhere types against StoreProtocol (the interface); Store is its SQLite implementation,
store.pg.PgStore its PostgreSQL one, and store.open.open_store picks the one the config names.
"""

from statuswatch.store.models import (
    LATENCY_BUCKETS,
    Gap,
    HourlyRollup,
    MonitorRecord,
    Outage,
    Prune,
    Publish,
    RegisterMonitors,
    ReportToken,
    SaveIncident,
    SaveMaintenance,
    TransitionRecord,
)
from statuswatch.store.protocol import StoreProtocol, WriteItem
from statuswatch.store.schema import SchemaTooNewError
from statuswatch.store.store import ReadOnlyStore, SchemaNotReadyError, Store, vacuum

__all__ = [
    "LATENCY_BUCKETS",
    "Gap",
    "HourlyRollup",
    "MonitorRecord",
    "Outage",
    "Prune",
    "Publish",
    "ReadOnlyStore",
    "RegisterMonitors",
    "ReportToken",
    "SaveIncident",
    "SaveMaintenance",
    "SchemaNotReadyError",
    "SchemaTooNewError",
    "Store",
    "StoreProtocol",
    "TransitionRecord",
    "WriteItem",
    "vacuum",
]
