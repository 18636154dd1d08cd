"""The store's interface: what the rest of statuswatch writes and reads, whatever the backend.

`Store` (SQLite) implements it; a second backend implements the same methods and passes the same
tests (tests/test_store*.py run against every backend through one fixture). How a backend is
opened (a file path, a DSN) is its own business; everything after that is here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from statuswatch.config.model import Maintenance
from statuswatch.incidents.model import Incident
from statuswatch.monitor.events import (
    GapRecorded,
    MonitorSnapshot,
    OutageClosed,
    OutageOpened,
    Transition,
)
from statuswatch.probes.base import CheckResult
from statuswatch.store.models import (
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
from statuswatch.store.outbox import (
    ConfirmSubscriber,
    EnqueueEvent,
    PruneSubscriberTokens,
    RecordAttempt,
    ReleaseClaims,
    RemoveSubscriber,
    SaveAppSecret,
    SaveSubscriberToken,
    SetSubscriberComponents,
    Subscribe,
    SyncWebhooks,
    Unsubscribe,
)

T = TypeVar("T")

# Everything `submit` accepts: results and monitor events, the store's own records, and the
# subscriber and outbox writes. Items are applied in submission order.
WriteItem = (
    CheckResult
    | Transition
    | OutageOpened
    | OutageClosed
    | GapRecorded
    | MonitorSnapshot
    | Prune
    | Publish
    | RegisterMonitors
    | ReportToken
    | SaveMaintenance
    | SaveIncident
    | EnqueueEvent
    | Subscribe
    | SaveSubscriberToken
    | ConfirmSubscriber
    | SetSubscriberComponents
    | Unsubscribe
    | RemoveSubscriber
    | RecordAttempt
    | SyncWebhooks
    | SaveAppSecret
    | PruneSubscriberTokens
    | ReleaseClaims
)


@runtime_checkable
class StoreProtocol(Protocol):
    """Writes go in through `submit` (never blocking the event loop); reads come back as models."""

    # --- lifecycle and writes ---------------------------------------------------------------

    async def start(self) -> None:
        """Start writing; items submitted before this are written from now on."""
        ...

    def submit(self, item: WriteItem) -> None:
        """Queue an item for writing; never blocks, and never raises because of the database."""
        ...

    async def flush(self) -> None:
        """Wait until everything submitted before this call is committed."""
        ...

    async def settle(self) -> None:
        """Wait until what the public pages read is committed (held aggregates may wait on)."""
        ...

    def retry_now(self) -> None:
        """Retry a batch held by a failed attempt now, not after its backoff (whatever refused
        it, a leader's suspended term, is expected to let it pass)."""
        ...

    async def close(self) -> None:
        """Write everything submitted, then release the database; a second call does nothing."""
        ...

    # --- reads: what the monitor role published for the web role ------------------------------

    async def published(self) -> Publish | None:
        """The monitor role's last published board and heartbeat, or None before its first."""
        ...

    async def data_version(self) -> int:
        """A number that moves whenever another process committed (cheap: polled often)."""
        ...

    # --- reads: monitors and their evidence --------------------------------------------------

    async def monitors(self) -> list[MonitorRecord]:
        """Return every monitor the store has seen or had registered, first registered first."""
        ...

    async def monitor_snapshots(self) -> dict[str, MonitorSnapshot]:
        """Return the last saved snapshot per monitor id (its local probes')."""
        ...

    async def location_snapshots(self) -> dict[tuple[str, str], MonitorSnapshot]:
        """Return the last saved snapshot per (monitor id, location)."""
        ...

    async def last_results(self) -> dict[str, CheckResult]:
        """Return the newest check result (by time) per monitor id."""
        ...

    async def checks(
        self,
        monitor_id: str,
        since: float | None = None,
        until: float | None = None,
        failures_only: bool = False,
    ) -> list[CheckResult]:
        """Return a monitor's raw checks with time in [since, until), in time order."""
        ...

    async def stored_checks(
        self, location: str, keys: Sequence[tuple[str, float]]
    ) -> set[tuple[str, float]]:
        """Which of these (monitor id, time) checks from `location` are stored already."""
        ...

    async def newest_checks(self, location: str, monitor_ids: Sequence[str]) -> dict[str, float]:
        """The newest stored check time from `location` of each of these monitors that has one."""
        ...

    async def last_by_location(
        self, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], CheckResult]:
        """The newest stored check of each (monitor id, location) asked for that has one."""
        ...

    async def rollups(
        self, monitor_id: str, since: float | None = None, until: float | None = None
    ) -> list[HourlyRollup]:
        """Return a monitor's hourly rollups for the hours overlapping [since, until)."""
        ...

    async def open_outages(self) -> list[Outage]:
        """Return the outages that have not ended."""
        ...

    async def outages(
        self, monitor_id: str | None = None, since: float | None = None, until: float | None = None
    ) -> list[Outage]:
        """Return outages overlapping [since, until), optionally of one monitor."""
        ...

    async def gaps(
        self, monitor_id: str | None = None, since: float | None = None, until: float | None = None
    ) -> list[Gap]:
        """Return gaps overlapping [since, until), optionally of one monitor."""
        ...

    async def transitions(
        self, monitor_id: str | None = None, since: float | None = None, until: float | None = None
    ) -> list[TransitionRecord]:
        """Return state changes with time in [since, until), optionally of one monitor."""
        ...

    # --- reads: incidents, maintenance, customers -------------------------------------------

    async def incidents(
        self,
        *,
        open_only: bool = False,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[Incident]:
        """Return incidents newest first: open ones only, or those created in [since, until)."""
        ...

    async def incident(self, incident_id: str) -> Incident | None:
        """Return one incident by id, or None."""
        ...

    async def maintenance(self) -> list[Maintenance]:
        """Return every maintenance window created at run time."""
        ...

    async def maintenance_created(self) -> dict[str, float]:
        """Return when each run-time maintenance window was first stored."""
        ...

    async def maintenance_updated(self) -> dict[str, float]:
        """Return when each run-time maintenance window was last changed."""
        ...

    async def report_tokens(self) -> dict[bytes, str]:
        """Map each customer's report token digest to the customer id."""
        ...

    async def read_outbox(self, query: Callable[..., T], *args: Any) -> T:
        """Run one of the queries named in `statuswatch.store.outbox_reads` with `args`.

        The function names the query and fixes what it returns (subscribers, due messages,
        attempts, counts); a backend answers it with its own implementation of that query.
        """
        ...

    # --- health -----------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """Return writable, last_write, pending (items not committed) and last_error."""
        ...

    def write_stats(self) -> dict[str, Any]:
        """Return health() without awaiting, plus commits and their total seconds."""
        ...

    def size_bytes(self) -> int:
        """Return the bytes the stored data takes on disk."""
        ...
