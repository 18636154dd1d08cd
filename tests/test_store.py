"""Store: the contract every backend keeps (StoreProtocol), run once per backend.

Each test gets a fresh database from the `store_backend` fixture and speaks only the protocol;
what is particular to SQLite (migrations, WAL, locks, the writer thread) is in
test_store_sqlite.py.
"""

from __future__ import annotations

import asyncio
import inspect

import pytest

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import (
    GapRecorded,
    OutageClosed,
    OutageOpened,
    State,
    Transition,
)
from statuswatch.store import (
    Gap,
    MonitorRecord,
    Outage,
    Prune,
    RegisterMonitors,
    StoreProtocol,
)
from tests.helpers.store import T0, StoreBackend, result, snapshot

# --- the interface --------------------------------------------------------------------------

PROTOCOL_METHODS = {
    name
    for name, member in vars(StoreProtocol).items()
    if not name.startswith("_") and callable(member)
}


async def test_the_store_implements_exactly_the_protocol(store: StoreProtocol) -> None:
    """What callers may use is what the protocol says: no method on the side, none missing."""
    assert isinstance(store, StoreProtocol)
    public = {
        name
        for name, member in inspect.getmembers(type(store), callable)
        if not name.startswith("_")
    }
    assert public == PROTOCOL_METHODS


async def test_methods_take_the_protocols_arguments(store: StoreProtocol) -> None:
    """Same parameters (names, kinds, defaults), and coroutines where the protocol has them."""
    differ = {}
    for name in PROTOCOL_METHODS:
        want, got = getattr(StoreProtocol, name), getattr(type(store), name)
        shape = (_params(want), inspect.iscoroutinefunction(want))
        if (_params(got), inspect.iscoroutinefunction(got)) != shape:
            differ[name] = shape
    assert differ == {}


def _params(fn: object) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


# --- lifecycle ------------------------------------------------------------------------------


async def test_reopen_keeps_data(store: StoreProtocol, store_backend: StoreBackend) -> None:
    store.submit(result("api"))
    store = await store_backend.reopen(store)
    try:
        assert [c.monitor_id for c in await store.checks("api")] == ["api"]
        assert [m.id for m in await store.monitors()] == ["api"]
    finally:
        await store.close()


async def test_misuse_is_reported(store_backend: StoreBackend) -> None:
    s = store_backend.open()
    with pytest.raises(RuntimeError, match="not started"):
        await s.flush()
    with pytest.raises(TypeError, match="cannot write a str"):
        s.submit("not an item")  # type: ignore[arg-type]
    await s.close()  # never started: closes the connections all the same
    await s.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        s.submit(result())


async def test_items_submitted_before_start_are_written(store_backend: StoreBackend) -> None:
    s = store_backend.open()
    s.submit(result())
    await s.start()
    await s.close()
    s = store_backend.open()
    try:
        assert len(await s.checks("api")) == 1
    finally:
        await s.close()


# --- ordering and batching ------------------------------------------------------------------


@pytest.mark.parametrize("batch_max", [1, 3, 2000])
async def test_items_apply_in_submission_order(store_backend: StoreBackend, batch_max: int) -> None:
    s = await store_backend.started(batch_max=batch_max)
    try:
        s.submit(OutageOpened("api", T0, "timeout", "first"))
        s.submit(OutageClosed("api", T0 + 60, "recovered"))
        s.submit(OutageOpened("api", T0 + 120, "connect", "second"))
        s.submit(result("api", T0 - 10))
        s.submit(Prune(T0, raw_before=T0, rollup_before=0))  # sees only what came before it
        s.submit(result("api", T0 - 5))
        await s.flush()
        assert await s.outages() == [
            Outage("api", T0, T0 + 60, "timeout", "first", "recovered"),
            Outage("api", T0 + 120, None, "connect", "second", None),
        ]
        assert [c.time for c in await s.checks("api")] == [T0 - 5]
    finally:
        await s.close()


async def test_flush_does_not_wait_out_the_batching_window(store_backend: StoreBackend) -> None:
    s = await store_backend.started(flush_interval=30)
    try:
        s.submit(result())
        await asyncio.wait_for(s.flush(), 5)
        assert len(await s.checks("api")) == 1
    finally:
        await asyncio.wait_for(s.close(), 5)


# --- events, monitors, snapshots ------------------------------------------------------------


async def test_outage_is_never_duplicated_across_a_restart(
    store: StoreProtocol, store_backend: StoreBackend
) -> None:
    store.submit(OutageOpened("api", T0, "timeout", "no answer"))
    store.submit(OutageOpened("api", T0, "timeout", "no answer"))
    store = await store_backend.reopen(store)
    try:
        # The restarted state machine announces the outage again; the store keeps the first.
        store.submit(OutageOpened("api", T0 + 300, "timeout", "no answer"))
        await store.flush()
        assert await store.open_outages() == [Outage("api", T0, None, "timeout", "no answer", None)]
        store.submit(OutageClosed("api", T0 + 600, "recovered"))
        store.submit(OutageClosed("api", T0 + 900, "recovered"))  # nothing open: no-op
        store.submit(OutageClosed("web", T0 + 900, "recovered"))
        await store.flush()
        assert await store.open_outages() == []
        closed = Outage("api", T0, T0 + 600, "timeout", "no answer", "recovered")
        assert await store.outages() == [closed]
    finally:
        await store.close()


async def test_outage_and_gap_queries_select_overlaps(store: StoreProtocol) -> None:
    store.submit(OutageOpened("api", T0, "timeout", "a"))
    store.submit(OutageClosed("api", T0 + 100, "recovered"))
    store.submit(OutageOpened("web", T0 + 200, "connect", "b"))
    store.submit(GapRecorded("api", T0 + 50, T0 + 150, "stopped"))
    store.submit(GapRecorded("api", T0 + 50, T0 + 150, "stopped"))  # exact duplicate: skipped
    store.submit(GapRecorded("web", T0 + 300, T0 + 400, "stalled"))
    await store.flush()
    assert [o.monitor_id for o in await store.outages(since=T0 + 100)] == ["web"]
    assert [o.monitor_id for o in await store.outages(until=T0 + 200)] == ["api"]
    assert [o.monitor_id for o in await store.outages(since=T0 + 99, until=T0 + 201)] == [
        "api",
        "web",
    ]
    assert [o.monitor_id for o in await store.outages("web", since=T0 + 10**6)] == ["web"]
    assert await store.gaps("api") == [Gap("api", T0 + 50, T0 + 150, "stopped")]
    assert await store.gaps(since=T0 + 150) == [Gap("web", T0 + 300, T0 + 400, "stalled")]
    assert await store.gaps(until=T0 + 50) == []


async def test_transitions_are_stored(store: StoreProtocol) -> None:
    store.submit(Transition("api", T0, State.UNKNOWN, State.UP, "first pass"))
    store.submit(Transition("api", T0 + 60, State.UP, State.DOWN, "3 failures"))
    await store.flush()
    got = await store.transitions("api", since=T0 + 1)
    assert [(t.time, t.old, t.new, t.reason) for t in got] == [
        (T0 + 60, "up", "down", "3 failures")
    ]


async def test_snapshot_round_trips_and_coalesces(
    store: StoreProtocol, store_backend: StoreBackend
) -> None:
    store.submit(snapshot("api", fail_count=1))
    store.submit(snapshot("api", fail_count=2))
    store.submit(snapshot("web", state=State.UP, fail_start=None, fail_error_class=None))
    store = await store_backend.reopen(store)
    try:
        snaps = await store.monitor_snapshots()
        assert snaps == {
            "api": snapshot("api", fail_count=2),
            "web": snapshot("web", state=State.UP, fail_start=None, fail_error_class=None),
        }
        assert snaps["api"].state is State.DOWN
    finally:
        await store.close()


async def test_last_result_is_the_newest_by_time(store: StoreProtocol) -> None:
    store.submit(result("api", T0 + 60, ok=False, status_code=503, error_class="http_status"))
    store.submit(result("api", T0))  # late and older: does not replace the newer one
    store.submit(result("web", T0, latency=None, cert_expiry=T0 + 86400, degraded=True))
    await store.flush()
    store.submit(result("api", T0 + 30))
    await store.flush()
    last = await store.last_results()
    assert last["api"] == result(
        "api", T0 + 60, ok=False, status_code=503, error_class="http_status"
    )
    assert last["web"] == result("web", T0, latency=None, cert_expiry=T0 + 86400, degraded=True)


PHASES = (
    ("resolve", 0.000012),
    ("connect", 0.000250),
    ("tls", 0.004125),
    ("processing", 0.310001),
    ("transfer", 1.5),
)


async def test_phases_round_trip_in_checks_and_last_results(
    store: StoreProtocol, store_backend: StoreBackend
) -> None:
    store.submit(result("api", T0, phases=PHASES))
    store.submit(result("api", T0 + 60, ok=False, phases=PHASES[:3]))  # failed in processing
    store.submit(result("dns", T0))  # no phases: not an http check
    store = await store_backend.reopen(store)  # closing writes the held last results
    try:
        checks = await store.checks("api")
        assert [c.phases for c in checks] == [PHASES, PHASES[:3]]
        last = await store.last_results()
        assert last["api"].phases == PHASES[:3]
        assert last["dns"].phases is None
    finally:
        await store.close()


async def test_monitors_register_and_autoregister(store: StoreProtocol) -> None:
    store.submit(result("shop-1", T0 - 60))  # seen before configured: registered on the fly
    store.submit(RegisterMonitors([("api", "http", "API"), ("shop-1", "http", "Shops")], T0))
    await store.flush()
    store.submit(RegisterMonitors([("api", "tcp", "Core API")], T0 + 3600))
    await store.flush()
    assert await store.monitors() == [
        MonitorRecord("shop-1", "http", "Shops", T0 - 60),
        MonitorRecord("api", "tcp", "Core API", T0),
    ]


async def test_a_fleet_registered_at_once_is_keyed_within_its_transaction(
    store: StoreProtocol,
) -> None:
    """The fleet goes in one bulk upsert; the results after it, in the same batch, find their
    monitors' keys, and a monitor named twice is registered once, as last named."""
    fleet = [(f"m{i:04d}", "http", f"C{i % 7}") for i in range(1500)] + [("m0001", "tcp", "X")]
    store.submit(RegisterMonitors(fleet, T0))
    for i in (0, 1, 1499):
        store.submit(result(f"m{i:04d}", T0 + 60))
    await store.flush()
    monitors = {m.id: m for m in await store.monitors()}
    assert len(monitors) == 1500
    assert monitors["m0001"] == MonitorRecord("m0001", "tcp", "X", T0)
    assert [c.time for c in await store.checks("m1499")] == [T0 + 60]
    assert [c.monitor_id for c in await store.checks("m0001")] == ["m0001"]


async def test_checks_filter_by_time_and_failure(store: StoreProtocol) -> None:
    for i in range(6):
        store.submit(result("api", T0 + 60 * i, ok=i % 2 == 0))
    store.submit(result("web", T0, ok=False))
    await store.flush()
    assert [c.time for c in await store.checks("api", since=T0 + 60, until=T0 + 240)] == [
        T0 + 60,
        T0 + 120,
        T0 + 180,
    ]
    failures = await store.checks("api", failures_only=True)
    assert [c.time for c in failures] == [T0 + 60, T0 + 180, T0 + 300]
    assert all(c.error_class == "timeout" and not c.ok for c in failures)
    assert await store.checks("nobody") == []


# --- failure handling, concurrency, health --------------------------------------------------


# --- failures, concurrent reads, health ----------------------------------------------------


async def test_an_unwritable_item_is_dropped_without_wedging_the_queue(
    store: StoreProtocol, caplog: pytest.LogCaptureFixture
) -> None:
    store.submit(result("api", T0))
    store.submit(result("api", T0 + 1, message=object()))  # cannot be bound: a bug upstream
    store.submit(result("api", T0 + 2))
    await asyncio.wait_for(store.flush(), 10)
    assert [c.time for c in await store.checks("api")] == [T0, T0 + 2]
    health = await store.health()
    assert health["writable"] and health["pending"] == 0
    assert "dropped CheckResult" in str(health["last_error"])
    assert "cannot write" in caplog.text


async def test_reads_during_a_stream_of_writes_see_whole_batches(store: StoreProtocol) -> None:
    async def write() -> None:
        for i in range(40):
            for j in range(50):
                store.submit(result("api", T0 + i * 50 + j))
            await store.flush()

    async def read() -> list[int]:
        seen = []
        for _ in range(40):
            seen.append(len(await store.checks("api")))
            await asyncio.sleep(0)
        return seen

    _, seen = await asyncio.gather(write(), read())
    assert seen == sorted(seen)  # snapshots only grow
    assert len(await store.checks("api")) == 2000


async def test_health_reports_writes(store_backend: StoreBackend) -> None:
    clock = FakeClock()
    s = await store_backend.started(clock=clock)
    try:
        empty = {"writable": True, "last_write": None, "pending": 0, "last_error": None}
        assert await s.health() == empty
        s.submit(result())
        await s.flush()
        assert await s.health() == {**empty, "last_write": clock.time()}
        assert s.size_bytes() > 0
    finally:
        await s.close()


async def test_a_window_with_a_duration_round_trips(store: StoreProtocol) -> None:
    """Durations are a float subclass msgspec cannot encode on its own: stored as seconds."""
    from datetime import datetime

    from statuswatch.config.durations import Duration
    from statuswatch.config.model import Maintenance
    from statuswatch.store import SaveMaintenance

    window = Maintenance(
        id="db",
        title="DB",
        components=["api"],
        duration=Duration(5400),
        start=datetime(2026, 1, 4, 2, 0),
        rrule="FREQ=WEEKLY",
        timezone="America/New_York",
    )
    store.submit(SaveMaintenance(window, 1.0))
    await store.flush()
    assert (await store.health())["last_error"] is None
    (back,) = await store.maintenance()
    assert back == window and isinstance(back.duration, Duration)
    assert back.start.tzinfo is None  # local time in its timezone, as config wrote it
