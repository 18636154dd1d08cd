"""Store: hourly rollup math (buckets, hour boundaries, batches) and pruning."""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from statuswatch.events import GapRecorded, OutageOpened, State, Transition
from statuswatch.probes.base import CheckResult
from statuswatch.store import LATENCY_BUCKETS, HourlyRollup, Prune, Store
from statuswatch.store.rollup import Aggregate, bucket_index

H0 = 497_222 * 3600.0  # an hour boundary, 2026-09-21 14:00 UTC
T0 = H0 + 1800


def result(t: float, ok: bool = True, latency: float | None = 0.05, **kw: object) -> CheckResult:
    return CheckResult(monitor_id="api", time=t, ok=ok, latency=latency, **kw)  # type: ignore[arg-type]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = Store(tmp_path / "statuswatch.db", flush_interval=0.01)
    await s.start()
    yield s
    await s.close()


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


async def test_rollups_split_at_hour_boundaries(store: Store) -> None:
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


async def test_rollups_merge_across_batches(store: Store) -> None:
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


async def test_min_and_max_survive_an_hour_with_no_latency(store: Store) -> None:
    store.submit(result(T0, latency=None))
    await store.flush()
    store.submit(result(T0 + 1, latency=0.4))
    await store.flush()
    store.submit(result(T0 + 2, latency=None))
    await store.flush()
    (got,) = await store.rollups("api")
    assert (got.count, got.latency_min, got.latency_max, got.latency_count) == (3, 0.4, 0.4, 1)


async def test_prune_keeps_failures_and_evidence(store: Store) -> None:
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
