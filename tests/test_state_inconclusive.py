"""Inconclusive runs (statuswatch's own fault) in the state machine, with explicit times.

An inconclusive run is neither a failure nor a pass: a gap with its reason, never a step
towards confirming or recovering, and an open outage stays open through it.
"""

from __future__ import annotations

import pytest

from statuswatch.monitor.events import GapRecorded, OutageClosed, OutageOpened, State, Transition
from statuswatch.monitor.tracker import MonitorTracker
from statuswatch.probes.base import CheckResult

T0 = 1_800_000_000.0
INTERVAL = 60.0
SYMBOLS = {"+": "ok", "-": "fail", "E": "descriptors", "M": "memory", "S": "stalled"}


def at(i: float) -> float:
    return T0 + i * INTERVAL


def check(i: float, ch: str) -> CheckResult:
    """`+` pass, `-` fail, `E`/`M`/`S` inconclusive (descriptors, memory, stalled) at at(i)."""
    t = at(i)
    if ch == "+":
        return CheckResult("m", t, True, 0.1, 200)
    if ch == "-":
        return CheckResult("m", t, False, 0.1, None, "connect", "connection refused")
    return CheckResult(
        "m", t, False, 0.1, None, "connect", "Too many open files", inconclusive=SYMBOLS[ch]
    )


def feed(tracker: MonitorTracker, outcomes: str, start: int = 0) -> list:
    events = []
    for i, ch in enumerate(outcomes, start=start):
        if ch != ".":  # "." is a slot with no run at all (silence)
            events += tracker.observe(check(i, ch))
    return events


def tracker(**kw) -> MonitorTracker:
    kw.setdefault("confirm_failures", 2)
    return MonitorTracker("m", interval=INTERVAL, **kw)


def kinds(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


@pytest.mark.parametrize(
    "outcomes",
    ["+EEEEEEEEEE", "EEEE", "+EEEEEEEEEE+", "+-E", "+-EEEE", "+EMSEMS+"],
)
def test_inconclusive_runs_never_confirm_an_outage(outcomes: str) -> None:
    t = tracker()
    events = feed(t, outcomes)
    assert kinds(events, OutageOpened) == []
    assert all(e.new is not State.DOWN for e in kinds(events, Transition))
    assert t.state is not State.DOWN
    assert not t.outage_open


def test_a_failure_run_is_neither_advanced_nor_reset_by_a_short_episode() -> None:
    # fail, inconclusive, fail: two conclusive failures in a row (the episode is one skipped
    # check), so confirmed, from the first failure.
    t = tracker()
    events = feed(t, "+-E-")
    assert [(e.start, e.error_class) for e in kinds(events, OutageOpened)] == [(at(1), "connect")]
    assert kinds(events, GapRecorded) == [GapRecorded("m", at(2), at(3), "descriptors")]
    # confirm_failures = 3: fail, E, fail is still only two failures.
    t3 = tracker(confirm_failures=3)
    assert kinds(feed(t3, "+-E-"), OutageOpened) == []
    assert t3.fail_count == 2


def test_a_long_episode_forgets_the_runs_in_progress() -> None:
    # One failure, then five intervals of nothing but inconclusive runs, then one failure:
    # no outage is confirmed across the time without evidence.
    t = tracker()
    events = feed(t, "+-EEEEE-")
    assert kinds(events, OutageOpened) == []
    assert t.fail_count == 1 and t.fail_start == at(7)
    assert kinds(events, GapRecorded) == [GapRecorded("m", at(2), at(7), "descriptors")]


def test_the_gap_runs_from_the_first_inconclusive_run_to_the_next_conclusive_result() -> None:
    t = tracker()
    events = feed(t, "++EEE++")
    assert events == [
        Transition("m", at(0), State.UNKNOWN, State.UP, "passing"),
        GapRecorded("m", at(2), at(5), "descriptors"),
    ]


def test_a_change_of_reason_starts_a_new_gap() -> None:
    t = tracker()
    events = feed(t, "+EEMS+")
    assert kinds(events, GapRecorded) == [
        GapRecorded("m", at(1), at(3), "descriptors"),
        GapRecorded("m", at(3), at(4), "memory"),
        GapRecorded("m", at(4), at(5), "stalled"),
    ]


def test_an_open_outage_stays_open_through_an_episode_and_ends_at_the_real_recovery() -> None:
    t = tracker()
    events = feed(t, "+--EEEEEEEE+")
    assert [e.start for e in kinds(events, OutageOpened)] == [at(1)]
    # Not closed at the last failure, not split: one outage from at(1) to the first pass.
    assert kinds(events, OutageClosed) == [OutageClosed("m", at(11), "recovered")]
    assert kinds(events, GapRecorded) == [GapRecorded("m", at(3), at(11), "descriptors")]
    assert t.state is State.UP


def test_an_episode_inside_an_outage_is_no_step_towards_recovery() -> None:
    t = tracker(confirm_recoveries=2)
    events = feed(t, "+--+E+")
    # pass, E, pass: two passes in a row, the recovery starts at the first of them.
    assert kinds(events, OutageClosed) == [OutageClosed("m", at(3), "recovered")]
    t2 = tracker(confirm_recoveries=2)
    events = feed(t2, "+--EEE+")
    assert kinds(events, OutageClosed) == []
    assert t2.outage_open and t2.state is State.DOWN and t2.pass_count == 1


def test_still_failing_after_an_episode_continues_the_same_outage() -> None:
    t = tracker()
    events = feed(t, "+--EEEEEE--")
    assert len(kinds(events, OutageOpened)) == 1
    assert kinds(events, OutageClosed) == []
    assert t.outage_open


def test_silence_after_an_episode_is_a_gap_from_the_last_run() -> None:
    t = tracker()
    events = feed(t, "+EE.....+")
    assert kinds(events, GapRecorded) == [
        GapRecorded("m", at(1), at(2), "descriptors"),
        GapRecorded("m", at(2), at(8), "stalled"),
    ]


def test_silence_during_an_outage_after_an_episode_closes_it_at_the_last_run() -> None:
    t = tracker()
    events = feed(t, "+--EE.....-")
    assert kinds(events, OutageClosed) == [OutageClosed("m", at(4), "stalled")]
    # Still down afterwards: the outage continues as a new record, not announced again.
    assert [e.start for e in kinds(events, OutageOpened)] == [at(1), at(10)]
    assert len(kinds(events, Transition)) == 2  # up, down: once each


def test_a_clean_stop_ends_the_episode_and_a_restart_does_not_repeat_it() -> None:
    t = tracker()
    feed(t, "+EE")
    assert t.stop(at(2.5)) == [GapRecorded("m", at(1), at(2.5), "descriptors")]
    restarted = MonitorTracker("m", interval=INTERVAL, snapshot=t.snapshot())
    assert restarted.resume(at(10)) == [GapRecorded("m", at(2.5), at(10), "stopped")]


def test_an_inconclusive_run_changes_nothing_that_is_persisted() -> None:
    t = tracker()
    feed(t, "+-")
    before = t.snapshot()
    assert feed(t, "E", start=2) == []
    assert t.snapshot() == before


def test_a_platform_wide_outage_is_still_caught() -> None:
    # Every monitor failing at once is evidence when the failures are the targets' own.
    trackers = [MonitorTracker(f"m{i}", interval=INTERVAL) for i in range(20)]
    opened = []
    for i in range(3):
        for tr in trackers:
            res = CheckResult(tr.monitor_id, at(i), False, 0.1, 503, "http_status", "HTTP 503")
            opened += kinds(tr.observe(res), OutageOpened)
    assert len(opened) == 20
