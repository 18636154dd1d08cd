"""The leader lease (several nodes on PostgreSQL): does this node lead, its term, its renews.

On SQLite there is no lease: the one process owns its file and leads it (statuswatch_leader 1),
and the lease families carry no samples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields

from prometheus_client.core import Metric

from statuswatch.cluster.lease import Lease, Renewals
from statuswatch.metrics.family import Families, put

FAMILIES = Families(
    {
        "statuswatch_leader": (
            "gauge",
            "1 while this node leads (runs the probes, verdicts, incidents, notifications).",
            (),
        ),
        "statuswatch_lease_expires_timestamp_seconds": (
            "gauge",
            "When the lease this node holds expires, on the database's clock.",
            (),
        ),
        "statuswatch_lease_fence": ("gauge", "The fence of the term this node leads.", ()),
        "statuswatch_lease_suspended": (
            "gauge",
            "1 while this node's term is suspended: cut off from the database, its work going "
            "on with every write held in memory until the term continues or ends.",
            (),
        ),
        "statuswatch_lease_renewals_total": (
            "counter",
            "Campaign rounds by outcome: acquired, renewed, lost, refused (another node "
            "leads), error, continued (a suspended term went on), deferred (only read, after "
            "database errors).",
            ("outcome",),
        ),
    }
)
OUTCOMES = tuple(f.name for f in fields(Renewals))


def collect(lease: Lease | None) -> Iterator[Metric]:
    """statuswatch_leader; with a lease, its expiry, fence, suspension and renewals."""
    leading = lease is None or lease.leading
    yield FAMILIES.gauge("statuswatch_leader", 1 if leading else 0)
    expires = FAMILIES.new("statuswatch_lease_expires_timestamp_seconds")
    fence = FAMILIES.new("statuswatch_lease_fence")
    suspended = FAMILIES.new("statuswatch_lease_suspended")
    renewals = FAMILIES.new("statuswatch_lease_renewals_total")
    if lease is not None:
        put(suspended, {}, 0 if leading or lease.suspended is None else 1)
        if leading and lease.expires is not None and lease.fence is not None:
            put(expires, {}, lease.expires)
            put(fence, {}, lease.fence)
        for outcome in OUTCOMES:
            put(renewals, {"outcome": outcome}, getattr(lease.renewals, outcome))
    yield expires
    yield fence
    yield suspended
    yield renewals


class LeaseCollector:
    """The lease families of a node of several, registered for its whole run."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease

    def collect(self) -> Iterator[Metric]:
        """statuswatch_leader and the lease figures."""
        yield from collect(self.lease)
