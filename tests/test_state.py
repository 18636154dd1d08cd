"""The monitor state machine, table-driven, with explicit times (no clock, no sleeping)."""

from __future__ import annotations

import pytest

from statuswatch.monitor.events import (
    GapRecorded,
    MonitorSnapshot,
    OutageClosed,
    OutageOpened,
    State,
    Transition,
)
from statuswatch.monitor.tracker import MonitorTracker
from statuswatch.probes.base import CheckResult

T0 = 1_800_000_000.0
INTERVAL = 60.0


def check(i: int, outcome: str) -> CheckResult:
    """The i-th check at T0 + i*interval; outcome is "ok", "slow" (degraded) or "fail"."""
    t = T0 + i * INTERVAL
    if outcome == "fail":
        return CheckResult("m", t, False, 0.1, None, "connect", "connection refused")
    return CheckResult("m", t, True, 0.1, 200, None, "", outcome == "slow")


def run(outcomes: str, **kwargs) -> tuple[MonitorTracker, list]:
    tracker = MonitorTracker("m", interval=INTERVAL, **kwargs)
    events = []
    for i, ch in enumerate(outcomes):
        events += tracker.observe(check(i, {"+": "ok", "-": "fail", "~": "slow"}[ch]))
    return tracker, events


def at(i: int) -> float:
    return T0 + i * INTERVAL


CASES = [
    # outcomes, confirm_failures, confirm_recoveries, final state, outages [(start, end)]
    ("++++", 2, 1, State.UP, []),
    ("+-+-+-", 2, 1, State.UP, []),  # flapping below the confirmation never opens an outage
    ("+--", 2, 1, State.DOWN, [(at(1), None)]),  # starts at the FIRST failing check of the run
    ("+---+", 2, 1, State.UP, [(at(1), at(4))]),  # ends at the first passing check
    ("+---+-+", 2, 2, State.DOWN, [(at(1), None)]),  # recovery interrupted: still down
    ("+---++", 2, 2, State.UP, [(at(1), at(4))]),  # ends at the FIRST pass of the recovery
    ("+-", 1, 1, State.DOWN, [(at(1), None)]),
    ("---", 3, 1, State.DOWN, [(at(0), None)]),
    ("--+--+", 2, 1, State.UP, [(at(0), at(2)), (at(3), at(5))]),
    ("~~", 2, 1, State.DEGRADED, []),  # degraded is not downtime
    ("+~+", 2, 1, State.UP, []),
    ("--~", 2, 1, State.DEGRADED, [(at(0), at(2))]),  # recovering into degraded
]


@pytest.mark.parametrize(("outcomes", "fails", "recoveries", "final", "outages"), CASES)
def test_confirmation_table(outcomes, fails, recoveries, final, outages):
    tracker, events = run(outcomes, confirm_failures=fails, confirm_recoveries=recoveries)
    assert tracker.state is final
    spans: list[list] = []
    for event in events:
        if isinstance(event, OutageOpened):
            spans.append([event.start, None])
        elif isinstance(event, OutageClosed):
            assert spans[-1][1] is None
            spans[-1][1] = event.end
    assert [tuple(s) for s in spans] == outages


def test_transitions_name_old_new_and_reason():
    _, events = run("+--+")
    transitions = [e for e in events if isinstance(e, Transition)]
    assert [(e.old, e.new) for e in transitions] == [
        (State.UNKNOWN, State.UP),
        (State.UP, State.DOWN),
        (State.DOWN, State.UP),
    ]
    assert transitions[1].time == at(2)  # the state changes when it is confirmed
    assert transitions[1].reason == "connect: connection refused"


def test_outage_keeps_the_first_failures_error():
    tracker = MonitorTracker("m", interval=INTERVAL, confirm_failures=2)
    tracker.observe(CheckResult("m", at(0), False, None, None, "timeout", "no answer"))
    events = tracker.observe(CheckResult("m", at(1), False, None, 503, "http_status", "HTTP 503"))
    opened = next(e for e in events if isinstance(e, OutageOpened))
    assert (opened.start, opened.error_class) == (at(0), "timeout")


GAP_CASES = [
    # seconds of silence after check 0, expect a gap?
    (60, False),
    (120, False),  # exactly two intervals is still continuous evidence
    (121, True),
    (3600, True),
]


@pytest.mark.parametrize(("silence", "gap"), GAP_CASES)
def test_gap_only_beyond_two_intervals(silence, gap):
    tracker, _ = run("+")
    events = tracker.observe(CheckResult("m", at(0) + silence, True))
    gaps = [e for e in events if isinstance(e, GapRecorded)]
    assert gaps == ([GapRecorded("m", at(0), at(0) + silence, "stalled")] if gap else [])


def test_silence_is_measured_on_the_monotonic_clock():
    tracker = MonitorTracker("m", interval=INTERVAL)
    tracker.observe(check(0, "ok"), mono=0.0)
    # The wall clock stepped 2 h forward between two runs a minute apart: no stall.
    stepped = at(1) + 7200
    assert tracker.observe(CheckResult("m", stepped, True), mono=INTERVAL) == []
    # Ten silent minutes on the monotonic clock are a stall, placed on the wall timeline.
    events = tracker.observe(CheckResult("m", stepped + 600, True), mono=INTERVAL + 600)
    assert events == [GapRecorded("m", stepped, stepped + 600, "stalled")]


def test_stall_breaks_a_failure_run():
    tracker, _ = run("+-")
    events = tracker.observe(CheckResult("m", at(1) + 600, False, None, None, "connect", "x"))
    assert not any(isinstance(e, OutageOpened) for e in events)
    assert tracker.state is State.UP


def test_restart_closes_the_open_outage_at_the_last_evidence_and_records_the_gap():
    tracker, _ = run("+---")
    tracker.stop(at(3) + 10)  # clean shutdown 10 s after the last check
    snap = tracker.snapshot()

    restarted = MonitorTracker("m", interval=INTERVAL, snapshot=snap, outage_open=True)
    events = restarted.resume(at(3) + 3600)
    assert events == [
        OutageClosed("m", at(3) + 10, "stopped"),
        GapRecorded("m", at(3) + 10, at(3) + 3600, "stopped"),
    ]
    assert restarted.state is State.DOWN  # nothing is announced twice
    # Still failing after the restart: the outage continues from the first observed failure,
    # without a new confirmation and without a new transition.
    events = restarted.observe(CheckResult("m", at(3) + 3630, False, None, None, "connect", "x"))
    assert events == [OutageOpened("m", at(3) + 3630, "connect", "x")]
    events = restarted.observe(CheckResult("m", at(3) + 3690, True))
    assert events[0] == OutageClosed("m", at(3) + 3690, "recovered")
    assert isinstance(events[1], Transition) and events[1].new is State.UP


def test_recovery_after_restart_needs_no_outage_record():
    tracker, _ = run("+--")
    tracker.stop(at(2))
    restarted = MonitorTracker(
        "m", interval=INTERVAL, snapshot=tracker.snapshot(), outage_open=True
    )
    restarted.resume(at(2) + 7200)
    events = restarted.observe(CheckResult("m", at(2) + 7260, True))
    assert [type(e) for e in events] == [Transition]
    assert restarted.state is State.UP


def test_quick_restart_keeps_the_outage_open():
    tracker, _ = run("+--")
    restarted = MonitorTracker(
        "m", interval=INTERVAL, snapshot=tracker.snapshot(), outage_open=True
    )
    assert restarted.resume(at(2) + 90) == []
    assert restarted.observe(CheckResult("m", at(3), False, None, None, "connect", "x")) == []


def test_first_start_records_no_gap():
    tracker = MonitorTracker("m", interval=INTERVAL)
    assert tracker.resume(T0) == []
    expected = Transition("m", T0, State.UNKNOWN, State.UP, "passing")
    assert tracker.observe(check(0, "ok"))[0] == expected


def test_snapshot_round_trip_resumes_a_run_in_progress():
    tracker, _ = run("+-")
    snap = tracker.snapshot()
    assert isinstance(snap, MonitorSnapshot) and snap.fail_count == 1
    resumed = MonitorTracker("m", interval=INTERVAL, snapshot=snap)
    events = resumed.observe(check(2, "fail"))
    assert OutageOpened("m", at(1), "connect", "connection refused") in events
