"""Store: hourly rollup math (buckets, hour boundaries, batches) and pruning."""

from __future__ import annotations

import contextlib
import math
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import GapRecorded, OutageOpened, State, Transition
from statuswatch.probes.base import CheckResult
from statuswatch.store import LATENCY_BUCKETS, HourlyRollup, Prune, StoreProtocol, reads
from statuswatch.store.rollup import Aggregate, bucket_index
from statuswatch.store.schema import connect, migrate
from statuswatch.store.writer import Writer
from tests.helpers.store import StoreBackend

H0 = 497_222 * 3600.0  # an hour boundary, 2026-09-21 14:00 UTC
T0 = H0 + 1800


def result(t: float, ok: bool = True, latency: float | None = 0.05, **kw: object) -> CheckResult:
    return CheckResult(monitor_id="api", time=t, ok=ok, latency=latency, **kw)  # type: ignore[arg-type]


def expected(results: list[CheckResult], hour: float) -> HourlyRollup:
    """The rollup of one hour computed the slow, obvious way."""
    mine = [r for r in results if hour <= r.time < hour + 3600]
    lat = [r.latency for r in mine if r.latency is not None]
    return HourlyRollup(
        monitor_id="api",
        hour=int(hour),
        count=len(mine),
        failures=sum(not r.ok for r in mine),
        degraded=sum(r.degraded for r in mine),
        latency_sum=sum(lat),
        latency_min=min(lat, default=None),
        latency_max=max(lat, default=None),
        buckets=tuple(sum(x <= bound for x in lat) for bound in LATENCY_BUCKETS),
    )


def assert_rollups_equal(got: list[HourlyRollup], want: list[HourlyRollup]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert math.isclose(g.latency_sum, w.latency_sum, rel_tol=1e-9, abs_tol=1e-12)
        assert g == HourlyRollup(**{**_fields(w), "latency_sum": g.latency_sum})


def _fields(r: HourlyRollup) -> dict[str, object]:
    return {name: getattr(r, name) for name in HourlyRollup.__dataclass_fields__}


@pytest.mark.parametrize(
    ("latency", "index"),
    [
        (0.0, 0),
        (0.1, 0),
        (0.1000001, 1),
        (0.25, 1),
        (0.5, 2),
        (1.0, 3),
        (2.5, 4),
        (5.0, 5),
        (5.01, 6),
    ],
)
def test_bucket_bounds_are_inclusive(latency: float, index: int) -> None:
    assert bucket_index(latency) == index


def test_aggregate_counts_checks_without_latency() -> None:
    agg = Aggregate()
    agg.add(result(T0, ok=False, latency=None))
    agg.add(result(T0, latency=0.3, degraded=True))
    agg.add(result(T0, latency=7.0))
    assert agg.row() == (3, 1, 1, 7.3, 0.3, 7.0, 0, 0, 1, 1, 1, 1, 2)


async def test_rollups_split_at_hour_boundaries(store: StoreProtocol) -> None:
    results = [
        result(H0 - 0.001, latency=0.09),
        result(H0, ok=False, latency=None),
        result(H0 + 3599.999, latency=3.0, degraded=True),
        result(H0 + 3600, latency=0.2),
    ]
    for r in results:
        store.submit(r)
    await store.flush()
    hours = [H0 - 3600, H0, H0 + 3600]
    assert_rollups_equal(await store.rollups("api"), [expected(results, h) for h in hours])
    assert [r.hour for r in await store.rollups("api", since=H0, until=H0 + 3600)] == [H0]
    assert [r.hour for r in await store.rollups("api", since=H0 - 1, until=H0 + 1)] == [
        H0 - 3600,
        H0,
    ]


async def test_rollups_merge_across_batches(store: StoreProtocol) -> None:
    rng = random.Random(7)
    results = [
        result(
            H0 + rng.uniform(0, 3 * 3600),
            ok=rng.random() > 0.2,
            latency=None if rng.random() < 0.1 else rng.expovariate(1.5),
            degraded=rng.random() < 0.1,
        )
        for _ in range(1000)
    ]
    i = 0
    while i < len(results):  # random batch sizes, each flushed: every group is upserted again
        n = rng.randint(1, 80)
        for r in results[i : i + n]:
            store.submit(r)
        await store.flush()
        i += n
    got = await store.rollups("api")
    assert_rollups_equal(got, [expected(results, H0 + k * 3600) for k in range(3)])
    assert got[0].latency_mean == pytest.approx(got[0].latency_sum / got[0].buckets[-1])


async def test_min_and_max_survive_an_hour_with_no_latency(store: StoreProtocol) -> None:
    store.submit(result(T0, latency=None))
    await store.flush()
    store.submit(result(T0 + 1, latency=0.4))
    await store.flush()
    store.submit(result(T0 + 2, latency=None))
    await store.flush()
    (got,) = await store.rollups("api")
    assert (got.count, got.latency_min, got.latency_max, got.latency_count) == (3, 0.4, 0.4, 1)


async def test_prune_keeps_failures_and_evidence(store: StoreProtocol) -> None:
    for i in range(48):  # two days of half-hourly checks, every fourth one failing
        store.submit(result(H0 + 1800 * i, ok=i % 4 != 0))
    store.submit(OutageOpened("api", H0, "timeout", "x"))
    store.submit(Transition("api", H0, State.UP, State.DOWN, "x"))
    store.submit(GapRecorded("api", H0, H0 + 60, "stopped"))
    store.submit(Prune(H0 + 86400, raw_before=H0 + 43200, rollup_before=H0 + 7200 + 1))
    await store.flush()
    times = [c.time for c in await store.checks("api")]
    old = [H0 + 1800 * i for i in range(24) if i % 4 == 0]  # only failures before raw_before
    assert times == old + [H0 + 1800 * i for i in range(24, 48)]
    # Hours ending by rollup_before go; the hour it falls inside stays.
    assert (await store.rollups("api"))[0].hour == H0 + 7200
    assert len(await store.outages()) == len(await store.gaps()) == 1
    assert len(await store.transitions()) == 1


# --- rollups and latest results held between flushes (writer.HeldRows) -----------------------


@contextlib.contextmanager
def held_writer(db_path: Path, clock: FakeClock) -> Iterator[Writer]:
    """A writer driven by hand from the test's thread: collect, write, no thread, no sleeps."""
    with contextlib.closing(connect(db_path, busy_timeout=0.05)) as db:
        migrate(db)
        yield Writer(db, clock=clock, batch_max=100, flush_interval=0, held_flush=60)


def write_next(writer: Writer) -> bool:
    return writer._write(writer._collect())


def count_rows(db_path: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_rollups_and_latest_results_wait_for_the_flush_interval(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    path = tmp_path / "statuswatch.db"
    with held_writer(path, clock) as writer:
        results = [result(T0 + i, ok=i != 1, latency=0.05 * (i + 1)) for i in range(4)]
        writer.put(results[0])
        writer.put(results[1])
        assert write_next(writer)
        # The raw checks are committed with their batch; the per-minute rows are held.
        assert (count_rows(path, "checks"), count_rows(path, "rollups")) == (2, 0)
        assert count_rows(path, "last_results") == 0
        # A crash now loses no latest result: the read takes the newest raw check.
        with contextlib.closing(connect(path, busy_timeout=1, readonly=True)) as db:
            assert reads.last_results(db)["api"] == results[1]
        clock.advance(59)
        writer.put(results[2])
        assert write_next(writer)
        assert count_rows(path, "rollups") == 0
        clock.advance(1)  # 60 s since the first held row: the next batch writes them all
        writer.put(results[3])
        assert write_next(writer)
        assert (count_rows(path, "checks"), count_rows(path, "last_results")) == (4, 1)
        assert not writer.held
        with contextlib.closing(connect(path, busy_timeout=1, readonly=True)) as db:
            assert_rollups_equal(reads.rollups(db, "api"), [expected(results, H0)])
            assert reads.last_results(db)["api"] == results[3]


def test_held_rows_are_due_without_new_items(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    path = tmp_path / "statuswatch.db"
    with held_writer(path, clock) as writer:
        writer.put(result(T0))
        assert write_next(writer)
        clock.advance(60)
        batch = writer._collect()  # nothing queued: returns at once, empty, since rows are due
        assert not batch.items and batch.marker is None
        assert writer._write(batch)
        assert (count_rows(path, "rollups"), count_rows(path, "last_results")) == (1, 1)


def test_a_batch_retried_after_a_lock_is_held_once(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    path = tmp_path / "statuswatch.db"
    with (
        held_writer(path, clock) as writer,
        contextlib.closing(sqlite3.connect(path, isolation_level=None)) as locker,
    ):
        results = [result(T0 + i) for i in range(5)]
        for r in results:
            writer.put(r)
        batch = writer._collect()
        locker.execute("BEGIN EXCLUSIVE")
        assert not writer._write(batch)  # locked: rolled back, kept for a retry
        locker.execute("ROLLBACK")
        assert writer._write(batch)
        clock.advance(60)
        assert writer._write(writer._collect())
        (got,) = reads.rollups(writer.db, "api")
        assert got.count == 5


async def test_flush_and_close_write_the_held_rows(store_backend: StoreBackend) -> None:
    s = await store_backend.started(held_flush=3600)
    results = [result(T0 + i, latency=0.1 * i) for i in range(3)]
    s.submit(results[0])
    await s.flush()  # whoever flushes reads everything submitted before, held rows included
    assert_rollups_equal(await s.rollups("api"), [expected(results[:1], H0)])
    s.submit(results[1])
    s.submit(results[2])
    await s.close()  # a clean shutdown loses nothing
    again = await store_backend.started()
    try:
        assert_rollups_equal(await again.rollups("api"), [expected(results, H0)])
        assert (await again.last_results())["api"] == results[2]
    finally:
        await again.close()


async def test_prune_writes_the_held_rows_before_deleting(store_backend: StoreBackend) -> None:
    s = await store_backend.started(held_flush=3600)
    try:
        old = [result(H0 - 7200 + i) for i in range(3)]  # two hours back: pruned with its hour
        new = [result(H0 + i) for i in range(3)]
        for r in old + new:
            s.submit(r)
        s.submit(Prune(H0 + 60, raw_before=H0 - 3600, rollup_before=H0 - 3600))
        await s.flush()
        assert_rollups_equal(await s.rollups("api"), [expected(new, H0)])
        assert [c.time for c in await s.checks("api")] == [r.time for r in new]
    finally:
        await s.close()


def test_a_wall_clock_stepped_back_does_not_hold_rows_longer(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    path = tmp_path / "statuswatch.db"
    with held_writer(path, clock) as writer:
        writer.put(result(T0))
        assert write_next(writer)
        assert count_rows(path, "rollups") == 0
        clock.jump_wall(-3600)  # an NTP step back by an hour: the rows are written now, not later
        writer.put(result(T0 + 1))
        assert write_next(writer)
        assert (count_rows(path, "rollups"), count_rows(path, "last_results")) == (1, 1)


async def test_settle_commits_the_items_but_leaves_the_held_rows_for_their_minute(
    store_backend: StoreBackend,
) -> None:
    s = await store_backend.started(held_flush=3600)
    try:
        s.submit(result(T0, ok=False))
        await s.settle()  # what a page render waits for: the failing check is readable
        assert [c.ok for c in await s.checks("api")] == [False]
        assert await s.rollups("api") == []  # still held: rendering does not force the fold
        await s.flush()
        assert len(await s.rollups("api")) == 1
    finally:
        await s.close()
