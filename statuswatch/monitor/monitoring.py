"""The running monitor fleet: schedule probes, feed results to state machines, persist events."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from statuswatch.auth.tokens import token_digest
from statuswatch.clock import Clock
from statuswatch.config import Config, Monitor, PushMonitor, read_secret
from statuswatch.monitor.events import (
    LOCAL,
    Event,
    MonitorSnapshot,
    OutageClosed,
    OutageOpened,
    State,
    Transition,
)
from statuswatch.monitor.inconclusive_log import InconclusiveLog
from statuswatch.monitor.locations import LocatedMonitor, LocationView
from statuswatch.monitor.scheduler import ProbeScheduler, SchedulerStats
from statuswatch.monitor.tally import ResultTally
from statuswatch.monitor.tracker import MonitorTracker
from statuswatch.probes import ErrorClass, ProbeContext, run_probe
from statuswatch.probes.base import CheckResult
from statuswatch.store import RegisterMonitors, StoreProtocol
from statuswatch.store.models import Outage

log = logging.getLogger(__name__)

ResultHook = Callable[[Monitor, CheckResult, list[Event]], None]


@dataclass(frozen=True, slots=True)
class MonitorView:
    """A monitor as the API shows it."""

    monitor: Monitor
    state: State
    last: CheckResult | None
    outage_start: float | None


@dataclass(frozen=True, slots=True)
class MonitoringSnapshot:
    """What the fleet looks like at one moment, copied so another thread may read it."""

    states: dict[str, State]  # confirmed state by monitor id (none before start)
    last: dict[str, CheckResult]  # last result by monitor id (none before its first)
    tally: ResultTally  # counts of every result since start
    scheduler: SchedulerStats | None  # live counters, each read whole; None when not probing


class Monitoring:
    """Owns the trackers, the probe context and the probe scheduler for one config."""

    def __init__(
        self,
        config: Config,
        *,
        store: StoreProtocol,
        clock: Clock,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.monitors = {m.id: m for m in config.monitors}
        self._trackers: dict[str, MonitorTracker] = {}
        # Monitors probed from anywhere but "local" alone: their trackers and quorum verdict.
        self._located: dict[str, LocatedMonitor] = {}
        self._last: dict[str, CheckResult] = {}
        self._outage_start: dict[str, float] = {}
        self.hooks: list[ResultHook] = []
        self._tally = ResultTally()
        self._inconclusive_log = InconclusiveLog(clock)
        self.ctx = ProbeContext(clock, max_connections=config.probing.max_in_flight)
        self.scheduler: ProbeScheduler | None = None
        self._push_tokens = self._load_push_tokens(environ)

    def _load_push_tokens(self, environ: dict[str, str] | None) -> dict[bytes, str]:
        tokens: dict[bytes, str] = {}
        for mon in self.config.monitors:
            if isinstance(mon, PushMonitor):
                unset = f"push monitor {mon.id} cannot receive pushes"
                token = read_secret(mon.token_env, environ, unset=unset)
                if token:
                    tokens[token_digest(token)] = mon.id
        return tokens

    async def start(self, *, probe: bool = True) -> None:
        """Resume every monitor from the database, account for downtime, start probing."""
        now = self.clock.time()
        self.store.submit(
            RegisterMonitors([(m.id, m.kind, m.component) for m in self.config.monitors], now)
        )
        snapshots = await self.store.location_snapshots()
        opened = await self.store.open_outages()
        open_outages = {o.monitor_id: o.start for o in opened if o.location == LOCAL}
        last_results = await self.store.last_results()
        located = [m for m in self.config.monitors if m.locations not in (None, [LOCAL])]
        pairs = [(m.id, loc) for m in located for loc in m.locations or ()]
        newest = await self.store.last_by_location(pairs) if pairs else {}
        for mon in self.config.monitors:
            assert mon.interval is not None
            if mon.locations not in (None, [LOCAL]):
                self._start_located(mon, snapshots, opened, newest, now)
                continue
            tracker = MonitorTracker(
                mon.id,
                interval=mon.interval,
                confirm_failures=mon.confirm_failures or 2,
                confirm_recoveries=mon.confirm_recoveries or 1,
                snapshot=snapshots.get((mon.id, LOCAL)),
                outage_open=mon.id in open_outages,
            )
            self._trackers[mon.id] = tracker
            if mon.id in last_results:  # newer than the snapshot when nothing changed since
                tracker.evidence_until(last_results[mon.id].time)
            if mon.id in open_outages:
                self._outage_start[mon.id] = open_outages[mon.id]
            if mon.id in last_results:
                self._last[mon.id] = last_results[mon.id]
            self._persist(mon, tracker.resume(now), tracker)
            if isinstance(mon, PushMonitor):
                self._seed_last_push(mon, last_results.get(mon.id))
        if probe:
            self.scheduler = ProbeScheduler(
                [m for m in self.config.monitors if LOCAL in (m.locations or [LOCAL])],
                self.run_one,
                clock=self.clock,
                max_in_flight=self.config.probing.max_in_flight,
                max_lateness=self.config.probing.max_lateness,
            )
            self.scheduler.start()

    def _start_located(
        self,
        mon: Monitor,
        snapshots: dict[tuple[str, str], MonitorSnapshot],
        opened: list[Outage],
        newest: dict[tuple[str, str], CheckResult],
        now: float,
    ) -> None:
        """A tracker per location, each resumed from its snapshot and its newest stored check
        (newer than the snapshot when nothing changed since); the local one accounts for the
        stop as a gap, while an agent's location was not stopped: its silence is a gap when it
        is heard from again, unless its spool fills it. Then the verdict, resumed unannounced."""
        assert mon.interval is not None and mon.locations is not None
        open_at = {o.location: o.start for o in opened if o.monitor_id == mon.id}
        trackers = {
            loc: MonitorTracker(
                mon.id,
                interval=mon.interval,
                confirm_failures=mon.confirm_failures or 2,
                confirm_recoveries=mon.confirm_recoveries or 1,
                snapshot=snapshots.get((mon.id, loc)),
                outage_open=loc in open_at,
                location=loc,
            )
            for loc in mon.locations
        }
        located = LocatedMonitor(mon, trackers)
        located.outage_starts.update(open_at)
        for loc, tracker in trackers.items():
            if (last := newest.get((mon.id, loc))) is not None:
                tracker.evidence_until(last.time)
                located.last[loc], located.last_seen[loc] = last, last.time
        self._located[mon.id] = located
        if LOCAL in trackers:
            self._emit(mon, located, trackers[LOCAL].resume(now), [])
            self.store.submit(trackers[LOCAL].snapshot())
        located.evaluate(now)  # as a local monitor's state resumes: not a change to announce
        located.late.told = located.state

    def _seed_last_push(self, mon: PushMonitor, last: CheckResult | None) -> None:
        if last is not None and last.error_class != ErrorClass.MISSED_PUSH:
            self.ctx.last_push[mon.id] = last.time

    async def stop(self) -> None:
        """Stop probing, mark the stop as the last evidence, and flush every pending write."""
        if self.scheduler is not None:
            await self.scheduler.stop()
        now = self.clock.time()
        for tracker in self._trackers.values():
            for event in tracker.stop(now):  # an inconclusive episode ends here, as a gap
                self.store.submit(event)
            self.store.submit(tracker.snapshot())
        for located in self._located.values():
            for loc, tracker in located.trackers.items():
                # Only the local probes stop with us; an agent's say until its last run.
                stopped = tracker.stop(now) if loc == LOCAL else tracker.close_silence(now)
                for event in stopped:
                    self.store.submit(event)
                self.store.submit(tracker.snapshot())
        await self.ctx.close()
        await self.store.flush()

    async def run_one(self, monitor: Monitor, lateness: float = 0.0) -> None:
        """Probe one monitor now (`lateness` seconds after its slot) and record what it found."""
        mono = self.clock.monotonic()  # stalls are measured on it, never on the wall clock
        result = await run_probe(monitor, self.ctx, lateness=lateness)
        if result is not None:
            self.handle_result(monitor, result, mono)

    def handle_result(
        self,
        monitor: Monitor,
        result: CheckResult,
        mono: float | None = None,
        *,
        location: str = LOCAL,
    ) -> list[Event]:
        """Feed one result (run at monotonic `mono`, at `location`) through its state machine
        and, for a monitor of several locations, the quorum verdict; store it all."""
        located = self._located.get(monitor.id)
        if located is not None:
            return self._handle_located(monitor, located, result, mono, location)
        tracker = self._trackers[monitor.id]
        if result.inconclusive is not None:
            return self._handle_inconclusive(monitor, result, tracker, mono)
        before = (tracker.state, tracker.fail_count, tracker.pass_count)
        events = tracker.observe(result, mono)
        self._last[monitor.id] = result
        self._tally.add(monitor.component, result)
        self.store.submit(result)
        # A passing check that changes nothing but the time of the last evidence needs no
        # snapshot: the stored last result carries that time (see start()). Half the writes.
        if events or before != (tracker.state, tracker.fail_count, tracker.pass_count):
            self._persist(monitor, events, tracker)
        return events

    def receive(self, location: str, results: Sequence[CheckResult]) -> None:
        """Results an agent uploaded for `location`, in time order per monitor."""
        for result in results:
            monitor = self.monitors[result.monitor_id]
            self.handle_result(monitor, result, None, location=location)

    def _handle_located(
        self,
        monitor: Monitor,
        located: LocatedMonitor,
        result: CheckResult,
        mono: float | None,
        location: str,
    ) -> list[Event]:
        if result.location != location:  # stored under where it ran: (monitor, location, time)
            result = replace(result, location=location)
        tracker = located.trackers[location]
        before = (tracker.state, tracker.fail_count, tracker.pass_count)
        own, combined = located.observe(location, result, mono, self.clock.time())
        # Each location's tracker resumes after a restart; as for a local monitor, a result
        # that moves nothing but the time of the last evidence needs no snapshot.
        if own or before != (tracker.state, tracker.fail_count, tracker.pass_count):
            self.store.submit(tracker.snapshot())
        if result.inconclusive is not None:
            self._tally.add_inconclusive(result)
            self._inconclusive_log.note(result)
        else:
            self._last[monitor.id] = result
            self._tally.add(monitor.component, result, location)
            self.store.submit(result)
        return self._emit(monitor, located, own, combined, location, decided=result.time)

    def _emit(
        self,
        monitor: Monitor,
        located: LocatedMonitor,
        own: list[Event],
        combined: list[Event],
        location: str = LOCAL,
        decided: float | None = None,
    ) -> list[Event]:
        """Store a location's outages and gaps and the monitor's own transitions (a location's
        transitions stay in memory: the monitor's state is the verdict); tell the hooks what is
        not late (monitor/late.py), the verdict decided at `decided` (default: now)."""
        events = [e for e in own if not isinstance(e, Transition)] + combined
        for event in events:
            self.store.submit(event)
            if isinstance(event, Transition):
                _log_transition(event)
        now = self.clock.time()
        told = located.late.sift(events, now)
        if not located.late.late(now if decided is None else decided, now):
            told += located.late.release(located.state, located.down, located.outage_start, now)
        if located.outage_start is None:
            self._outage_start.pop(monitor.id, None)
        else:
            self._outage_start[monitor.id] = located.outage_start
        if told:
            for hook in self.hooks:
                hook(monitor, self._last.get(monitor.id), told)  # type: ignore[arg-type]
        return events

    def tick(self) -> None:
        """Housekeeping: re-evaluate freshness, so a silent location ages out."""
        now = self.clock.time()
        for monitor_id, located in self._located.items():
            own = located.age_out(now)
            combined = located.evaluate(now)
            if own or combined or located.late.held is not None:
                self._emit(self.monitors[monitor_id], located, own, combined, location="")

    def _handle_inconclusive(
        self, monitor: Monitor, result: CheckResult, tracker: MonitorTracker, mono: float | None
    ) -> list[Event]:
        """No evidence: not stored as a check, not the last result; only its gap and its count."""
        events = tracker.observe(result, mono)
        self._tally.add_inconclusive(result)
        self._inconclusive_log.note(result)
        if events:
            self._persist(monitor, events, tracker)
        return events

    def _persist(self, monitor: Monitor, events: list[Event], tracker: MonitorTracker) -> None:
        for event in events:
            self.store.submit(event)
            self._track_outage(event)
            if isinstance(event, Transition):
                _log_transition(event)
        self.store.submit(tracker.snapshot())
        if events:
            for hook in self.hooks:
                hook(monitor, self._last.get(monitor.id), events)  # type: ignore[arg-type]

    def _track_outage(self, event: Event) -> None:
        if isinstance(event, OutageOpened):
            self._outage_start[event.monitor_id] = event.start
        elif isinstance(event, OutageClosed):
            self._outage_start.pop(event.monitor_id, None)

    def push(self, token: str, *, down: bool, message: str) -> str | None:
        """Record a push for the monitor owning `token`; return its id, None if unknown."""
        monitor_id = self._push_tokens.get(token_digest(token))
        if monitor_id is None:
            return None
        now = self.clock.time()
        self.ctx.last_push[monitor_id] = now
        error = ErrorClass.REPORTED_DOWN.value if down else None
        text = message[:200] or ("reported down" if down else "push received")
        result = CheckResult(monitor_id, now, not down, None, None, error, text)
        self.handle_result(self.monitors[monitor_id], result, self.clock.monotonic())
        return monitor_id

    def views(self) -> list[MonitorView]:
        """Every monitor with its confirmed state (the quorum verdict), last result and outage."""
        states = self.states()
        return [
            MonitorView(
                mon,
                states.get(mon.id, State.UNKNOWN),
                self._last.get(mon.id),
                self._outage_start.get(mon.id),
            )
            for mon in self.config.monitors
        ]

    def states(self) -> dict[str, State]:
        """Every started monitor's confirmed state, by id."""
        trackers = self._trackers.copy()  # one step under the GIL: safe from another thread
        located = self._located.copy()
        return {mid: t.state for mid, t in trackers.items()} | {
            mid: m.state for mid, m in located.items()
        }

    def location_states(self, monitor_id: str) -> dict[str, LocationView]:
        """Each location's state, last result and last run of one monitor."""
        located = self._located.get(monitor_id)
        if located is not None:
            return located.views(self.clock.time())
        tracker = self._trackers.get(monitor_id)
        if tracker is None:
            return {}
        last = self._last.get(monitor_id)
        seen = tracker.last_evidence if last is None else max(last.time, tracker.last_evidence or 0)
        return {LOCAL: LocationView(tracker.state, last, seen)}

    def snapshot(self) -> MonitoringSnapshot:
        """States, last results, counts and scheduler figures now (safe from any thread)."""
        return MonitoringSnapshot(
            self.states(),
            self._last.copy(),
            self._tally.copy(),
            self.scheduler.stats if self.scheduler is not None else None,
        )


def _log_transition(event: Transition) -> None:
    """The one log line of a monitor's state change (what an operator reads at info)."""
    old, new = event.old.value, event.new.value
    log.info("monitor %s: %s -> %s (%s)", event.monitor_id, old, new, event.reason)
