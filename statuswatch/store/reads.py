"""Queries on the read connection, returning read-model types; run in the store's reader thread."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
import sqlite_utils

from statuswatch.config.model import Maintenance
from statuswatch.incidents.model import Incident
from statuswatch.monitor.events import LOCAL, MonitorSnapshot, State
from statuswatch.probes.base import CheckResult
from statuswatch.store import phases
from statuswatch.store.models import (
    HOUR,
    LATENCY_BUCKETS,
    Gap,
    HourlyRollup,
    MonitorRecord,
    Outage,
    Publish,
    TransitionRecord,
    decode_window,
)

_SELECT_RESULT = """SELECT m.id, time, ok, latency, status_code, error_class, message, degraded,
    cert_expiry, phase_resolve_us, phase_connect_us, phase_tls_us, phase_processing_us,
    phase_transfer_us"""


class Where:
    """A conjunction of SQL conditions and their parameters, built one optional filter at a time."""

    def __init__(self) -> None:
        self.conditions: list[str] = ["TRUE"]  # a boolean on both backends
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any) -> Where:
        """Add a condition with its parameters."""
        self.conditions.append(condition)
        self.params.extend(params)
        return self

    def select(
        self, db: sqlite_utils.Database, select: str, order: str
    ) -> Iterator[dict[str, Any]]:
        """Run `select` (SELECT ... FROM ... JOIN ...) with these conditions, sorted by `order`."""
        # Only this module's fixed fragments are formatted in; every value is a bound parameter.
        sql = f"{select} WHERE {' AND '.join(self.conditions)} ORDER BY {order}"
        return db.query(sql, self.params)


def _overlapping(
    monitor_id: str | None, since: float | None, until: float | None, start: str, end: str
) -> Where:
    """Filter rows whose [start, end) overlaps [since, until); an open end (NULL) reaches on."""
    where = Where()
    if monitor_id is not None:
        where.add("m.id = ?", monitor_id)
    if until is not None:
        where.add(f"{start} < ?", until)
    if since is not None:
        where.add(f"({end} IS NULL OR {end} > ?)", since)
    return where


def _in_range(monitor_id: str | None, since: float | None, until: float | None, col: str) -> Where:
    """Filter rows whose `col` lies in [since, until)."""
    where = Where()
    if monitor_id is not None:
        where.add("m.id = ?", monitor_id)
    if since is not None:
        where.add(f"{col} >= ?", since)
    if until is not None:
        where.add(f"{col} < ?", until)
    return where


def _result(row: dict[str, Any]) -> CheckResult:
    return CheckResult(
        monitor_id=row["id"],
        time=row["time"],
        ok=bool(row["ok"]),
        latency=row["latency"],
        status_code=row["status_code"],
        error_class=row["error_class"],
        message=row["message"],
        degraded=bool(row["degraded"]),
        cert_expiry=row["cert_expiry"],
        phases=phases.from_columns([row[c] for c in phases.COLUMNS]),
    )


def monitors(db: sqlite_utils.Database) -> list[MonitorRecord]:
    """Return every known monitor, in order of first registration."""
    rows = db.query("SELECT id, kind, component, first_seen FROM monitors ORDER BY key")
    return [MonitorRecord(**row) for row in rows]


def incidents(
    db: sqlite_utils.Database,
    *,
    open_only: bool = False,
    since: float | None = None,
    until: float | None = None,
    limit: int | None = None,
) -> list[Incident]:
    """Incidents, newest first: open ones only, or those created in [since, until)."""
    clauses, params = [], []
    if open_only:
        clauses.append("resolved_at IS NULL")
    if since is not None:
        clauses.append("created >= ?")
        params.append(since)
    if until is not None:
        clauses.append("created < ?")
        params.append(until)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    tail = f"LIMIT {int(limit)}" if limit is not None else ""
    rows = db.execute(
        f"SELECT doc FROM incidents {where} ORDER BY created DESC, id {tail}",  # noqa: S608 - fixed clauses
        params,
    )
    return [msgspec.json.decode(row[0], type=Incident) for row in rows]


def incident(db: sqlite_utils.Database, incident_id: str) -> Incident | None:
    """One incident by id."""
    row = db.execute("SELECT doc FROM incidents WHERE id = ?", [incident_id]).fetchone()
    return None if row is None else msgspec.json.decode(row[0], type=Incident)


def maintenance(db: sqlite_utils.Database) -> list[Maintenance]:
    """Every run-time maintenance window, decoded into the struct config uses."""
    rows = db.query("SELECT spec FROM maintenance ORDER BY id")
    return [decode_window(row["spec"]) for row in rows]


def maintenance_created(db: sqlite_utils.Database) -> dict[str, float]:
    """When each run-time maintenance window was first stored, by id."""
    return {row["id"]: row["created"] for row in db.query("SELECT id, created FROM maintenance")}


def maintenance_updated(db: sqlite_utils.Database) -> dict[str, float]:
    """When each run-time maintenance window was last created or changed, by id."""
    return {row["id"]: row["updated"] for row in db.query("SELECT id, updated FROM maintenance")}


def report_tokens(db: sqlite_utils.Database) -> dict[bytes, str]:
    """Map each report token digest to its customer id."""
    rows = db.query("SELECT customer, digest FROM report_tokens")
    return {bytes(row["digest"]): row["customer"] for row in rows}


def published(db: sqlite_utils.Database) -> Publish | None:
    """The monitor role's last published board, or None before its first."""
    row = next(db.query("SELECT generation, beat, body FROM published WHERE id = 1"), None)
    return None if row is None else Publish(**row)


def data_version(db: sqlite_utils.Database) -> int:
    """SQLite's counter of commits by other connections: unchanged means nothing to reload."""
    return int(db.execute("PRAGMA data_version").fetchone()[0])


def monitor_snapshots(db: sqlite_utils.Database) -> dict[str, MonitorSnapshot]:
    """Return the last saved snapshot of each monitor's own (local) probes."""
    return {m: s for (m, loc), s in location_snapshots(db).items() if loc == LOCAL}


def location_snapshots(db: sqlite_utils.Database) -> dict[tuple[str, str], MonitorSnapshot]:
    """Return the last saved snapshot of each (monitor id, location)."""
    rows = db.query(
        """SELECT m.id AS monitor_id, state, fail_count, fail_start, fail_error_class,
        fail_message, pass_count, pass_start, last_evidence, location
        FROM snapshots s JOIN monitors m ON m.key = s.monitor"""
    )
    return {
        (row["monitor_id"], row["location"]): MonitorSnapshot(
            **{**row, "state": State(row["state"])}
        )
        for row in rows
    }


# By (monitor, time), not by rowid: PostgreSQL's ctid cannot be looked up per monitor, so a
# rowid join there hashed the whole checks table on every start of the leader's work. Two
# locations' checks at the newest time both come back; either is the newest result.
_NEWEST_CHECKS = """ FROM monitors m JOIN checks c ON c.monitor = m.key AND c.time = (
    SELECT max(time) FROM checks WHERE monitor = m.key)"""


def last_results(db: sqlite_utils.Database) -> dict[str, CheckResult]:
    """Return the newest check result of each monitor.

    last_results keeps it past the raw checks' retention, but the writer updates it only once a
    minute (writer.HeldRows), so after a crash the newest raw check can be newer: take that.
    """
    rows = db.query(f"{_SELECT_RESULT} FROM last_results r JOIN monitors m ON m.key = r.monitor")
    found = {row["id"]: _result(row) for row in rows}
    # One index seek per monitor (checks_by_monitor_time), not a scan of every check.
    newest = db.query(_SELECT_RESULT + _NEWEST_CHECKS)
    for row in newest:
        result = _result(row)
        known = found.get(result.monitor_id)
        if known is None or result.time > known.time:
            found[result.monitor_id] = result
    return found


def outages(
    db: sqlite_utils.Database,
    monitor_id: str | None = None,
    since: float | None = None,
    until: float | None = None,
    *,
    open_only: bool = False,
) -> list[Outage]:
    """Return outages overlapping [since, until), oldest first."""
    where = _overlapping(monitor_id, since, until, "started", "ended")
    if open_only:
        where.add("ended IS NULL")
    rows = where.select(
        db,
        """SELECT m.id AS monitor_id, started AS start, ended AS "end", error_class, message,
        end_reason, location FROM outages o JOIN monitors m ON m.key = o.monitor""",
        "started, o.id",
    )
    return [Outage(**row) for row in rows]


def gaps(
    db: sqlite_utils.Database,
    monitor_id: str | None = None,
    since: float | None = None,
    until: float | None = None,
) -> list[Gap]:
    """Return gaps overlapping [since, until), oldest first."""
    where = _overlapping(monitor_id, since, until, "started", "ended")
    rows = where.select(
        db,
        """SELECT m.id AS monitor_id, started AS start, ended AS "end", reason, location
        FROM gaps g JOIN monitors m ON m.key = g.monitor""",
        "started, ended",
    )
    return [Gap(**row) for row in rows]


def transitions(
    db: sqlite_utils.Database,
    monitor_id: str | None = None,
    since: float | None = None,
    until: float | None = None,
) -> list[TransitionRecord]:
    """Return state changes in [since, until), in time order."""
    where = _in_range(monitor_id, since, until, "time")
    rows = where.select(
        db,
        """SELECT m.id AS monitor_id, time, old, new, reason
        FROM transitions t JOIN monitors m ON m.key = t.monitor""",
        "time, t.rowid",
    )
    return [TransitionRecord(**row) for row in rows]


def checks(
    db: sqlite_utils.Database,
    monitor_id: str,
    since: float | None = None,
    until: float | None = None,
    failures_only: bool = False,
) -> list[CheckResult]:
    """Return a monitor's raw checks with time in [since, until), in time order."""
    where = _in_range(monitor_id, since, until, "time")
    if failures_only:
        where.add("ok = 0")
    rows = where.select(
        db,
        f"{_SELECT_RESULT} FROM checks c JOIN monitors m ON m.key = c.monitor",
        "time, c.rowid",
    )
    return [_result(row) for row in rows]


def stored_checks(
    db: sqlite_utils.Database, location: str, keys: Sequence[tuple[str, float]]
) -> set[tuple[str, float]]:
    """Which of these (monitor id, time) checks from `location` are stored already."""
    by_monitor: dict[str, set[float]] = {}
    for monitor_id, time in keys:
        by_monitor.setdefault(monitor_id, set()).add(time)
    found: set[tuple[str, float]] = set()
    for monitor_id, times in by_monitor.items():
        rows = db.execute(
            """SELECT time FROM checks c JOIN monitors m ON m.key = c.monitor
            WHERE m.id = ? AND c.location = ? AND time BETWEEN ? AND ?""",
            (monitor_id, location, min(times), max(times)),
        )
        found.update((monitor_id, t) for (t,) in rows if t in times)
    return found


def newest_checks(
    db: sqlite_utils.Database, location: str, monitor_ids: Sequence[str]
) -> dict[str, float]:
    """The newest stored check time from `location` of each of these monitors that has one."""
    found: dict[str, float] = {}
    for monitor_id in monitor_ids:  # each a walk down the unique (monitor, location, time) index
        row = db.execute(
            """SELECT max(time) FROM checks
            WHERE monitor = (SELECT key FROM monitors WHERE id = ?) AND location = ?""",
            (monitor_id, location),
        ).fetchone()
        if row[0] is not None:
            found[monitor_id] = row[0]
    return found


def last_by_location(
    db: sqlite_utils.Database, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], CheckResult]:
    """The newest stored check of each (monitor id, location) asked for that has one."""
    found: dict[tuple[str, str], CheckResult] = {}
    for monitor_id, location in pairs:
        # One seek on the unique index checks_once (monitor, location, time) per pair.
        rows = list(
            db.query(
                f"""{_SELECT_RESULT} FROM checks c JOIN monitors m ON m.key = c.monitor
                WHERE m.id = ? AND c.location = ? ORDER BY time DESC LIMIT 1""",
                (monitor_id, location),
            )
        )
        if rows:
            found[monitor_id, location] = _result(rows[0])
    return found


def rollups(
    db: sqlite_utils.Database,
    monitor_id: str,
    since: float | None = None,
    until: float | None = None,
) -> list[HourlyRollup]:
    """Return a monitor's hourly rollups for the hours overlapping [since, until)."""
    where = Where().add("m.id = ?", monitor_id)
    if since is not None:
        where.add("hour >= ?", math.floor(since / HOUR))  # the hour containing `since`
    if until is not None:
        where.add("hour < ?", math.ceil(until / HOUR))  # hours that start before `until`
    rows = where.select(
        db,
        """SELECT m.id AS monitor_id, hour * 3600 AS hour, n, failures, degraded,
        latency_sum, latency_min, latency_max,
        le_0_1, le_0_25, le_0_5, le_1, le_2_5, le_5, le_inf
        FROM rollups r JOIN monitors m ON m.key = r.monitor""",
        "r.hour",
    )
    return [_rollup(row) for row in rows]


def _rollup(row: dict[str, Any]) -> HourlyRollup:
    values = list(row.values())
    return HourlyRollup(
        monitor_id=row["monitor_id"],
        hour=row["hour"],
        count=row["n"],
        failures=row["failures"],
        degraded=row["degraded"],
        latency_sum=row["latency_sum"],
        latency_min=row["latency_min"],
        latency_max=row["latency_max"],
        buckets=tuple(values[-len(LATENCY_BUCKETS) :]),
    )
