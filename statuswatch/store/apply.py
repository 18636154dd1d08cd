"""Apply one batch of submitted items inside the writer's open transaction, in submission order."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from statuswatch.monitor.events import (
    GapRecorded,
    MonitorSnapshot,
    OutageClosed,
    OutageOpened,
    Transition,
)
from statuswatch.probes.base import CheckResult
from statuswatch.store import outbox, phases
from statuswatch.store.models import (
    HOUR,
    Prune,
    Publish,
    RegisterMonitors,
    ReportToken,
    SaveIncident,
    SaveMaintenance,
    encode_window,
)
from statuswatch.store.protocol import WriteItem
from statuswatch.store.rollup import RollupBatch

# The phase columns are store/phases.COLUMNS, in that order. A check already stored for the
# same (monitor, location, time) is an agent's replay: ignored (the unique index checks_once).
_INSERT_CHECK = """INSERT INTO checks
    (monitor, time, ok, latency, status_code, error_class, message, degraded, cert_expiry,
     phase_resolve_us, phase_connect_us, phase_tls_us, phase_processing_us, phase_transfer_us,
     location)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (monitor, location, time) DO NOTHING"""

# The existing row's columns are named with the table: PostgreSQL finds a bare name ambiguous.
_UPSERT_ROLLUP = """INSERT INTO rollups
    (monitor, hour, n, failures, degraded, latency_sum, latency_min, latency_max,
     le_0_1, le_0_25, le_0_5, le_1, le_2_5, le_5, le_inf)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (monitor, hour) DO UPDATE SET
    n = rollups.n + excluded.n, failures = rollups.failures + excluded.failures,
    degraded = rollups.degraded + excluded.degraded,
    latency_sum = rollups.latency_sum + excluded.latency_sum,
    latency_min = min(coalesce(rollups.latency_min, excluded.latency_min),
                      coalesce(excluded.latency_min, rollups.latency_min)),
    latency_max = max(coalesce(rollups.latency_max, excluded.latency_max),
                      coalesce(excluded.latency_max, rollups.latency_max)),
    le_0_1 = rollups.le_0_1 + excluded.le_0_1, le_0_25 = rollups.le_0_25 + excluded.le_0_25,
    le_0_5 = rollups.le_0_5 + excluded.le_0_5, le_1 = rollups.le_1 + excluded.le_1,
    le_2_5 = rollups.le_2_5 + excluded.le_2_5, le_5 = rollups.le_5 + excluded.le_5,
    le_inf = rollups.le_inf + excluded.le_inf"""

_UPSERT_SNAPSHOT = """INSERT INTO snapshots
    (monitor, state, fail_count, fail_start, fail_error_class, fail_message,
     pass_count, pass_start, last_evidence, location) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (monitor, location) DO UPDATE SET
    state = excluded.state, fail_count = excluded.fail_count, fail_start = excluded.fail_start,
    fail_error_class = excluded.fail_error_class, fail_message = excluded.fail_message,
    pass_count = excluded.pass_count, pass_start = excluded.pass_start,
    last_evidence = excluded.last_evidence"""

# Keep the newest result by time, so a late-arriving older result cannot overwrite it.
_UPSERT_LAST = """INSERT INTO last_results
    (monitor, time, ok, latency, status_code, error_class, message, degraded, cert_expiry,
     phase_resolve_us, phase_connect_us, phase_tls_us, phase_processing_us, phase_transfer_us)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (monitor) DO UPDATE SET
    time = excluded.time, ok = excluded.ok, latency = excluded.latency,
    status_code = excluded.status_code, error_class = excluded.error_class,
    message = excluded.message, degraded = excluded.degraded, cert_expiry = excluded.cert_expiry,
    phase_resolve_us = excluded.phase_resolve_us, phase_connect_us = excluded.phase_connect_us,
    phase_tls_us = excluded.phase_tls_us, phase_processing_us = excluded.phase_processing_us,
    phase_transfer_us = excluded.phase_transfer_us
    WHERE excluded.time >= last_results.time"""


_UPSERT_MONITOR = """INSERT INTO monitors (id, kind, component, first_seen) VALUES (?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, component = excluded.component"""


class MonitorKeys:
    """The id -> integer key map, cached; keys created in a failed transaction are forgotten."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.known: dict[str, int] = dict(conn.execute("SELECT id, key FROM monitors"))
        self.tentative: dict[str, int] = {}

    def key(self, monitor_id: str, seen: float | None) -> int:
        """Return the key of a monitor, registering an unknown id as first seen at `seen`."""
        found = self.known.get(monitor_id)
        if found is None:
            found = self.tentative.get(monitor_id)
        if found is not None:
            return found
        self.conn.execute(
            "INSERT INTO monitors (id, first_seen) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
            (monitor_id, seen),
        )
        return self._lookup(monitor_id)

    def register(self, monitors: Iterable[tuple[str, str, str]], now: float) -> None:
        """Upsert the configured monitors (id, kind, component); first_seen keeps the value of
        each one's first appearance.

        One bulk statement and one read of the keys, whatever the fleet's size: a statement
        and a look-up per monitor made the start of a 10,000-monitor leader one transaction of
        20,000 round trips on PostgreSQL, holding the lease row's lock past the next renew.
        """
        rows = {mid: (mid, kind, component, now) for mid, kind, component in monitors}
        if not rows:
            return
        _insert_many(self.conn, _UPSERT_MONITOR, list(rows.values()))
        for monitor_id, key in self.conn.execute("SELECT id, key FROM monitors"):
            if monitor_id in rows and monitor_id not in self.known:
                self.tentative[monitor_id] = int(key)

    def _lookup(self, monitor_id: str) -> int:
        row = self.conn.execute("SELECT key FROM monitors WHERE id = ?", (monitor_id,)).fetchone()
        self.tentative[monitor_id] = row[0]
        return int(row[0])

    def committed(self) -> None:
        """Keep the keys created by the transaction that just committed."""
        self.known.update(self.tentative)
        self.tentative.clear()

    def rolled_back(self) -> None:
        """Drop the keys created by the transaction that was rolled back."""
        self.tentative.clear()


class HeldRows:
    """Hourly rollups and latest results of committed batches, not written yet.

    At saturation the rollup upsert and the last-result upsert were two of the three rows a
    probe cost the writer (~25 % of the probe pipeline's CPU): held here, each monitor-hour and
    each monitor is written once per `Writer.held_flush` (a minute) instead of once per batch.
    The raw check row is still written with its batch, so a crash loses at most that long of
    rollup counts, and no latest result (reads.last_results also looks at the newest check).
    """

    def __init__(self) -> None:
        self.rollups = RollupBatch()
        self.last: dict[int, CheckResult] = {}
        self.since: float | None = None  # wall-clock time the oldest held row came in

    def __bool__(self) -> bool:
        return bool(self.rollups.groups or self.last)

    def absorb(self, applier: BatchApplier, now: float) -> None:
        """Take over what a committed batch folded but did not write."""
        if not applier.rollups.groups and not applier.last:
            return
        if self.since is None:
            self.since = now
        self.rollups.absorb(applier.rollups)
        last = self.last
        for key, r in applier.last.items():
            previous = last.get(key)
            if previous is None or r.time >= previous.time:
                last[key] = r

    def clear(self) -> None:
        """Forget the rows (after the transaction that wrote them committed)."""
        self.rollups = RollupBatch()
        self.last = {}
        self.since = None


class BatchApplier:
    """Write one batch: checks and rollups buffered for executemany, events applied in order.

    With `held` and `write_held=False` the batch's rollups and latest results are left for the
    writer to fold into `held` once the batch commits (the batch's own rows are never touched
    twice: a retried batch is applied again from scratch by a new applier).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        keys: MonitorKeys,
        held: HeldRows | None = None,
        *,
        write_held: bool = True,
    ) -> None:
        self.conn = conn
        self.keys = keys
        self.held = held
        self.write_held = write_held  # write held rows and this batch's; a prune forces it
        self.held_written = False
        self.checks: list[tuple[Any, ...]] = []
        self.rollups = RollupBatch()
        # Coalesced by (monitor key, location): the last one wins.
        self.snapshots: dict[tuple[int, str], MonitorSnapshot] = {}
        self.last: dict[int, CheckResult] = {}  # coalesced: the newest by time wins

    def apply(self, items: Iterable[WriteItem]) -> None:
        """Apply every item, then write the buffered and coalesced rows."""
        for item in items:
            _HANDLERS[type(item)](self, item)
        self.write_checks()
        self.conn.executemany(
            _UPSERT_SNAPSHOT, [_snapshot_row(k, s) for (k, _), s in self.snapshots.items()]
        )
        if self.write_held:
            self.write_rollups_and_latest()

    def check(self, r: CheckResult) -> None:
        """Buffer one result: a raw row, its hour's aggregate, and the per-monitor latest."""
        key = self.keys.key(r.monitor_id, r.time)
        self.checks.append((*_result_row(key, r), r.location))
        self.rollups.add(key, r)
        previous = self.last.get(key)
        if previous is None or r.time >= previous.time:
            self.last[key] = r

    def write_checks(self) -> None:
        """Write the buffered raw checks."""
        if self.checks:
            _insert_many(self.conn, _INSERT_CHECK, self.checks)
            self.checks.clear()

    def write_rollups_and_latest(self) -> None:
        """Write the held rows (once per transaction), then this batch's so far.

        Both upserts add up and keep the newest result, so a monitor-hour written from the held
        rows and again from this batch's ends up right.
        """
        held = self.held
        if held is not None and not self.held_written:
            self.held_written = True
            self._write_rollups(held.rollups, held.last)
        self._write_rollups(self.rollups, self.last)
        self.rollups.clear()
        self.last.clear()

    def _write_rollups(self, rollups: RollupBatch, last: dict[int, CheckResult]) -> None:
        # One row per key in each statement (a group per monitor-hour, a result per monitor),
        # which a bulk upsert needs: PostgreSQL's refuses to update one row twice.
        if rollups.groups:
            _insert_many(self.conn, _UPSERT_ROLLUP, rollups.rows())
        if last:
            _insert_many(self.conn, _UPSERT_LAST, [_result_row(k, r) for k, r in last.items()])

    def transition(self, e: Transition) -> None:
        """Record a confirmed state change."""
        key = self.keys.key(e.monitor_id, e.time)
        self.conn.execute(
            "INSERT INTO transitions (monitor, time, old, new, reason) VALUES (?, ?, ?, ?, ?)",
            (key, e.time, str(e.old), str(e.new), e.reason),
        )

    def outage_opened(self, e: OutageOpened) -> None:
        """Open an outage unless one is open already (the partial unique index says so)."""
        key = self.keys.key(e.monitor_id, e.start)
        self.conn.execute(
            """INSERT INTO outages (monitor, started, error_class, message, location)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (monitor, location) WHERE ended IS NULL DO NOTHING""",
            (key, e.start, e.error_class, e.message, e.location),
        )

    def outage_closed(self, e: OutageClosed) -> None:
        """Close the monitor's open outage, if any."""
        key = self.keys.key(e.monitor_id, e.end)
        self.conn.execute(
            """UPDATE outages SET ended = ?, end_reason = ?
            WHERE monitor = ? AND location = ? AND ended IS NULL""",
            (e.end, e.reason, key, e.location),
        )

    def gap(self, e: GapRecorded) -> None:
        """Record a gap; an exact duplicate is ignored."""
        key = self.keys.key(e.monitor_id, e.start)
        self.conn.execute(
            """INSERT INTO gaps (monitor, started, ended, reason, location) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING""",
            (key, e.start, e.end, e.reason, e.location),
        )

    def snapshot(self, s: MonitorSnapshot) -> None:
        """Remember the monitor's latest snapshot; written once at the end of the batch."""
        key = self.keys.key(s.monitor_id, s.last_evidence)
        self.snapshots[key, s.location] = s

    def prune(self, p: Prune) -> None:
        """Delete old passing raw checks and old rollups, after writing what came before."""
        # A prune applies to the results submitted before it, held ones included, not after.
        self.write_checks()
        self.write_held = True
        self.write_rollups_and_latest()
        keys = [*self.keys.known.values(), *self.keys.tentative.values()]
        # Per monitor, so each delete walks an index on (monitor, time) instead of the whole table.
        self.conn.executemany(
            "DELETE FROM checks WHERE monitor = ? AND time < ? AND ok = 1",
            [(key, p.raw_before) for key in keys],
        )
        # An hour goes once all of it is before rollup_before: hour + 1 <= rollup_before / HOUR.
        first_kept_hour = math.floor(p.rollup_before / HOUR)
        self.conn.executemany(
            "DELETE FROM rollups WHERE monitor = ? AND hour < ?",
            [(key, first_kept_hour) for key in keys],
        )
        if p.outbox_before is not None:
            outbox.prune_done(self.conn, p.outbox_before)

    def register(self, r: RegisterMonitors) -> None:
        """Upsert the configured monitors."""
        self.keys.register(r.monitors, r.now)


def _report_token(applier: BatchApplier, t: ReportToken) -> None:
    """Replace a customer's report token (the old one stops working at once)."""
    applier.conn.execute(
        "INSERT INTO report_tokens (customer, digest, created) VALUES (?, ?, ?) "
        "ON CONFLICT(customer) DO UPDATE SET digest = excluded.digest, created = excluded.created",
        (t.customer_id, t.digest, t.created),
    )


def _publish(applier: BatchApplier, p: Publish) -> None:
    """Replace the published board (there is only ever one row)."""
    applier.conn.execute(
        "INSERT INTO published (id, generation, beat, body) VALUES (1, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, "
        "beat = excluded.beat, body = excluded.body",
        (p.generation, p.beat, p.body),
    )


def _save_maintenance(applier: BatchApplier, m: SaveMaintenance) -> None:
    """Create or replace a run-time maintenance window."""
    applier.conn.execute(
        "INSERT INTO maintenance (id, spec, updated, created) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET spec = excluded.spec, updated = excluded.updated",
        (m.window.id, encode_window(m.window).decode(), m.now, m.now),
    )
    if m.event is not None:  # scheduled or cancelled: told in the same transaction
        outbox.enqueue_event(applier.conn, m.event)


def _save_incident(applier: BatchApplier, i: SaveIncident) -> None:
    """Create or replace an incident with its whole timeline."""
    applier.conn.execute(
        "INSERT INTO incidents (id, created, updated, status, resolved_at, auto, doc) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET updated = excluded.updated, "
        "status = excluded.status, resolved_at = excluded.resolved_at, doc = excluded.doc",
        (i.id, i.created, i.updated, i.status, i.resolved_at, i.auto, i.doc.decode()),
    )
    if i.event is not None:  # in the same transaction: the change and its messages, or neither
        outbox.enqueue_event(applier.conn, i.event)


def _snapshot_row(key: int, s: MonitorSnapshot) -> tuple[Any, ...]:
    return (
        key,
        str(s.state),
        s.fail_count,
        s.fail_start,
        s.fail_error_class,
        s.fail_message,
        s.pass_count,
        s.pass_start,
        s.last_evidence,
        s.location,
    )


def _result_row(key: int, r: CheckResult) -> tuple[Any, ...]:
    return (
        key,
        r.time,
        r.ok,
        r.latency,
        r.status_code,
        r.error_class,
        r.message,
        r.degraded,
        r.cert_expiry,
        *phases.to_columns(r.phases),
    )


def _insert_many(conn: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows with one single-row INSERT statement, the backend's fastest way.

    With `ON CONFLICT … DO UPDATE` no two rows may share a conflict key."""
    # PostgreSQL loads a batch through COPY (PgConnection.insert_many), with the statement's
    # own conflict clause; sqlite3's executemany is its fastest already.
    insert = getattr(conn, "insert_many", conn.executemany)
    insert(sql, rows)


def _on_conn(fn: Callable[[sqlite3.Connection, Any], None]) -> Callable[[BatchApplier, Any], None]:
    """Adapt a handler that needs only the connection (statuswatch/store/outbox.py)."""
    return lambda applier, item: fn(applier.conn, item)


# A registry instead of a type switch: one handler per item type.
_HANDLERS: dict[type, Callable[[BatchApplier, Any], None]] = {
    CheckResult: BatchApplier.check,
    Transition: BatchApplier.transition,
    OutageOpened: BatchApplier.outage_opened,
    OutageClosed: BatchApplier.outage_closed,
    GapRecorded: BatchApplier.gap,
    MonitorSnapshot: BatchApplier.snapshot,
    Prune: BatchApplier.prune,
    RegisterMonitors: BatchApplier.register,
    ReportToken: _report_token,
    Publish: _publish,
    SaveMaintenance: _save_maintenance,
    SaveIncident: _save_incident,
    **{
        item: _on_conn(fn)
        for item, fn in (
            (outbox.EnqueueEvent, outbox.enqueue),
            (outbox.Subscribe, outbox.subscribe),
            (outbox.SaveSubscriberToken, outbox.save_token),
            (outbox.ConfirmSubscriber, outbox.confirm),
            (outbox.SetSubscriberComponents, outbox.set_components),
            (outbox.Unsubscribe, outbox.unsubscribe),
            (outbox.RemoveSubscriber, outbox.remove),
            (outbox.RecordAttempt, outbox.record_attempt),
            (outbox.SyncWebhooks, outbox.sync_webhooks),
            (outbox.SaveAppSecret, outbox.save_app_secret),
            (outbox.PruneSubscriberTokens, outbox.prune_tokens),
            (outbox.ReleaseClaims, outbox.release_claims),
        )
    },
}

ITEM_TYPES: tuple[type, ...] = tuple(_HANDLERS)
