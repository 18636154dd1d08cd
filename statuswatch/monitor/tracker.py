"""The per-monitor state machine: confirmed outages, recoveries and evidence gaps. Pure.

Rules (DESIGN.md):
- `confirm_failures` consecutive failures open an outage that starts at the first failing check
  of that run; `confirm_recoveries` consecutive passes close it at the first passing check.
- Degraded (passing, but slow or a certificate close to expiry) is a state, not downtime.
- Evidence must be continuous. When more than two intervals pass without a result (statuswatch
  was stopped, or its loop stalled), that time is a gap: an open outage is closed at the last
  evidence, runs in progress are forgotten, and the time is recorded as neither up nor down.
  The confirmed state survives a gap, so a monitor that is still failing afterwards continues
  its outage at once (a new outage record that starts at the first failing check after the gap)
  instead of having to be confirmed again, and nothing is announced twice.
- An inconclusive result (statuswatch's own fault: probes/inconclusive.py) is neither a failure
  nor a pass. From the first inconclusive run to the next conclusive result (or a clean stop)
  is a gap with the run's reason; a change of reason starts a new gap. It never counts towards
  `confirm_failures` or `confirm_recoveries`, and never opens, closes or splits an outage: an
  open outage stays open through it (time in D is never in G, SLA.md "Evidence"), and closes
  only at a real recovery. Runs in progress survive a short episode (the next conclusive result
  within GAP_INTERVALS intervals of the last one, as a skipped check would) and are forgotten
  after a longer one, so an outage is never confirmed across a stretch without evidence.
  Silence after an inconclusive run is a gap from that run, as after any run.
- Silence is measured on the monotonic clock while statuswatch runs (the `mono` reading given
  with each result), never on the wall clock: an NTP step forward is not a stall, and a step
  back hides none. The wall clock only places the gap on the timeline. Across a restart there
  is no common monotonic reading, so the time since the last evidence is wall time ("stopped").
  A result stamped before the last run (the wall clock stepped back) counts at the last run's
  time, so no outage ends before it began and no event goes back in time.
"""

from __future__ import annotations

import dataclasses

from statuswatch.monitor.events import (
    LOCAL,
    Event,
    GapRecorded,
    MonitorSnapshot,
    OutageClosed,
    OutageOpened,
    State,
    Transition,
)
from statuswatch.probes.base import CheckResult

GAP_INTERVALS = 2  # silence longer than this many intervals is a gap


class MonitorTracker:
    """Turns one monitor's stream of check results into state transitions and outages."""

    __slots__ = (
        "confirm_failures",
        "confirm_recoveries",
        "dark_last",
        "dark_reason",
        "dark_since",
        "fail_count",
        "fail_error_class",
        "fail_message",
        "fail_start",
        "interval",
        "last_evidence",
        "location",
        "monitor_id",
        "mono_evidence",
        "mono_last",
        "outage_open",
        "pass_count",
        "pass_start",
        "silence_reason",
        "state",
    )

    def __init__(
        self,
        monitor_id: str,
        *,
        interval: float,
        confirm_failures: int = 2,
        confirm_recoveries: int = 1,
        snapshot: MonitorSnapshot | None = None,
        outage_open: bool = False,
        location: str = LOCAL,
    ) -> None:
        self.monitor_id = monitor_id
        self.location = location  # stamped on every outage and gap it records
        # Why silence is a gap: a late loop here; an agent's location that went quiet.
        self.silence_reason = "stalled" if location == LOCAL else "silent"
        self.interval = interval
        self.confirm_failures = confirm_failures
        self.confirm_recoveries = confirm_recoveries
        self.state = State.UNKNOWN
        self.outage_open = outage_open
        self.last_evidence: float | None = None
        # The inconclusive episode under way: its first run, its reason, its last run. Kept in
        # memory only: after a crash the time since the last evidence is a "stopped" gap.
        self.dark_since: float | None = None
        self.dark_reason = ""
        self.dark_last: float | None = None
        # Monotonic readings of the last run of any kind and of the last evidence, this process.
        self.mono_last: float | None = None
        self.mono_evidence: float | None = None
        self._reset_runs()
        if snapshot is not None:
            self.state = snapshot.state
            self.fail_count, self.fail_start = snapshot.fail_count, snapshot.fail_start
            self.fail_error_class = snapshot.fail_error_class
            self.fail_message = snapshot.fail_message
            self.pass_count, self.pass_start = snapshot.pass_count, snapshot.pass_start
            self.last_evidence = snapshot.last_evidence

    def _reset_runs(self) -> None:
        self.fail_count, self.fail_start = 0, None
        self.fail_error_class: str | None = None
        self.fail_message = ""
        self.pass_count, self.pass_start = 0, None

    def resume(self, now: float, reason: str = "stopped") -> list[Event]:
        """Account for the time since the last evidence when (re)starting at `now`."""
        events = self._gap_until(now, reason)
        if self.last_evidence is not None:
            self.last_evidence = max(self.last_evidence, now)
        return events

    def evidence_until(self, t: float) -> None:
        """Extend the last evidence to `t` (a known later check, or a clean stop at `t`)."""
        if self.last_evidence is not None:
            self.last_evidence = max(self.last_evidence, t)

    def stop(self, now: float) -> list[Event]:
        """Statuswatch is stopping cleanly: what was observed holds until now."""
        events = self._end_dark(now)
        self.evidence_until(now)
        return events

    def close_silence(self, now: float) -> list[Event]:
        """Statuswatch is stopping cleanly, but these probes ran elsewhere (an agent's location):
        what they said holds until their last run only. A silence already past the gap rule is a
        gap to now (an open outage ends at the last evidence), as when the location is heard
        from again; an inconclusive episode ends now, as a local one does; a shorter silence is
        left for the location's next results (its spool) to fill."""
        events = self._gap_until(now, self.silence_reason) or self._end_dark(now)
        if events:
            self.evidence_until(now)  # recorded to now: a later gap starts here, never overlaps
        return events

    def observe(self, result: CheckResult, mono: float | None = None) -> list[Event]:
        """Feed one check result (`mono`: the monotonic reading when it ran); return its events."""
        last_run = self._last_run()
        if last_run is not None and result.time < last_run:
            result = dataclasses.replace(result, time=last_run)
        silence = self._since(last_run, self.mono_last, result.time, mono)
        events = self._gap_until(result.time, self.silence_reason, silence)
        self.mono_last = mono
        if result.inconclusive is not None:
            self._on_inconclusive(result, events)
            return events
        if self.dark_since is not None:
            last = self.last_evidence
            events += self._end_dark(result.time)
            unseen = self._since(last, self.mono_evidence, result.time, mono)
            if unseen is None or unseen > GAP_INTERVALS * self.interval:
                self._reset_runs()  # too long without evidence to continue a run
        self.mono_evidence = mono
        if self.last_evidence is None or result.time > self.last_evidence:
            self.last_evidence = result.time
        if result.ok:
            self._on_pass(result, events)
        else:
            self._on_fail(result, events)
        return events

    def _on_inconclusive(self, result: CheckResult, events: list[Event]) -> None:
        reason = result.inconclusive or ""
        if self.dark_since is not None and reason != self.dark_reason:
            events += self._end_dark(result.time)
        if self.dark_since is None:
            self.dark_since, self.dark_reason = result.time, reason
        self.dark_last = max(self.dark_last or result.time, result.time)

    def _end_dark(self, t: float) -> list[Event]:
        """Close the inconclusive episode at `t` as a gap with its reason."""
        since, self.dark_since, self.dark_last = self.dark_since, None, None
        if since is None or t <= since:
            return []
        return [GapRecorded(self.monitor_id, since, t, self.dark_reason, self.location)]

    def _last_run(self) -> float | None:
        """The last run of any kind: silence is measured from it."""
        if self.dark_last is None:
            return self.last_evidence
        return max(self.dark_last, self.last_evidence or self.dark_last)

    @staticmethod
    def _since(
        last: float | None, last_mono: float | None, t: float, mono: float | None
    ) -> float | None:
        """Seconds from a past run to now: monotonic when both readings exist, else wall."""
        if last is None:
            return None
        if mono is not None and last_mono is not None:
            return mono - last_mono
        return t - last

    def _gap_until(self, t: float, reason: str, silence: float | None = None) -> list[Event]:
        """A gap from the last run to `t` when the silence (default: wall time) is too long."""
        last = self._last_run()
        if last is None:
            return []
        if silence is None:
            silence = t - last
        if silence <= GAP_INTERVALS * self.interval:
            return []
        events: list[Event] = self._end_dark(last)
        if self.outage_open:
            events.append(OutageClosed(self.monitor_id, last, reason, self.location))
            self.outage_open = False
        if t > last:  # after a step back the wall clock cannot place the gap: none recorded
            events.append(GapRecorded(self.monitor_id, last, t, reason, self.location))
        self._reset_runs()
        return events

    def _on_pass(self, result: CheckResult, events: list[Event]) -> None:
        self.fail_count, self.fail_start = 0, None
        healthy = State.DEGRADED if result.degraded else State.UP
        if self.state is not State.DOWN:
            self._move(healthy, result.time, result.message or "passing", events)
            return
        if self.pass_count == 0:
            self.pass_start = result.time
        self.pass_count += 1
        if self.pass_count >= self.confirm_recoveries:
            if self.outage_open:
                assert self.pass_start is not None
                events.append(
                    OutageClosed(self.monitor_id, self.pass_start, "recovered", self.location)
                )
                self.outage_open = False
            self._move(healthy, result.time, "recovered", events)
            self.pass_count, self.pass_start = 0, None

    def _on_fail(self, result: CheckResult, events: list[Event]) -> None:
        self.pass_count, self.pass_start = 0, None
        error_class = result.error_class or "unknown"
        if self.state is State.DOWN:
            if not self.outage_open:  # still down after a gap: the outage continues, observed
                events.append(
                    OutageOpened(
                        self.monitor_id, result.time, error_class, result.message, self.location
                    )
                )
                self.outage_open = True
            return
        if self.fail_count == 0:
            self.fail_start = result.time
            self.fail_error_class, self.fail_message = error_class, result.message
        self.fail_count += 1
        if self.fail_count >= self.confirm_failures:
            assert self.fail_start is not None and self.fail_error_class is not None
            events.append(
                OutageOpened(
                    self.monitor_id,
                    self.fail_start,
                    self.fail_error_class,
                    self.fail_message,
                    self.location,
                )
            )
            self.outage_open = True
            self._move(State.DOWN, result.time, f"{error_class}: {result.message}", events)
            self._reset_runs()

    def _move(self, new: State, t: float, reason: str, events: list[Event]) -> None:
        if new is not self.state:
            events.append(Transition(self.monitor_id, t, self.state, new, reason))
            self.state = new

    def snapshot(self) -> MonitorSnapshot:
        """The state to persist, so a restart resumes exactly here."""
        return MonitorSnapshot(
            self.monitor_id,
            self.state,
            self.fail_count,
            self.fail_start,
            self.fail_error_class,
            self.fail_message,
            self.pass_count,
            self.pass_start,
            self.last_evidence,
            self.location,
        )
