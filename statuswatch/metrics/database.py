"""The store's writes: commit time, whether it accepts writes, what waits to be committed."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric, SummaryMetricFamily

from statuswatch.metrics.family import Families, put
from statuswatch.store import StoreProtocol

FAMILIES = Families(
    {
        "statuswatch_db_write_seconds": (
            "summary",
            "Time taken by committed write transactions.",
            (),
        ),
        "statuswatch_db_writable": ("gauge", "1 while the database accepts writes.", ()),
        "statuswatch_db_pending_writes": (
            "gauge",
            "Items submitted to the store, not committed.",
            (),
        ),
        "statuswatch_store_dropped_total": (
            "counter",
            "Check results dropped while the database was unreachable (storage.max_pending).",
            (),
        ),
        "statuswatch_store_fenced_total": (
            "counter",
            "Write items dropped because the leader lease's guard refused their transaction "
            "(this node's term was over).",
            (),
        ),
    }
)


def collect(store: StoreProtocol) -> Iterator[Metric]:
    """The write summary, writable, pending writes, items dropped (bound, fence)."""
    db = store.write_stats()
    yield SummaryMetricFamily(
        "statuswatch_db_write_seconds",
        FAMILIES.help("statuswatch_db_write_seconds"),
        count_value=db["commits"],
        sum_value=db["commit_seconds"],
    )
    yield FAMILIES.gauge("statuswatch_db_writable", 1 if db["writable"] else 0)
    yield FAMILIES.gauge("statuswatch_db_pending_writes", db["pending"])
    dropped = FAMILIES.new("statuswatch_store_dropped_total")
    put(dropped, {}, db.get("dropped", 0))
    yield dropped
    fenced = FAMILIES.new("statuswatch_store_fenced_total")
    put(fenced, {}, db.get("fenced", 0))
    yield fenced
